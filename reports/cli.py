"""The `bpcheck` command line: a thin layer over functions that return results.

Each command lives in its own module with ``register(subparsers)``, which adds a parser whose
``func(args) -> int`` does the work. Exit codes: 0 pass, 1 discrepancies, 2 usage error.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from typing import NoReturn

__all__ = ["main", "run", "build_parser"]

# command modules, in the order `bpcheck --help` lists them
COMMAND_MODULES = (
    "reports.report_cmd",   # report, replay
    "reports.grade_cmd",    # validate, grade
    "reports.mutants_cmd",  # mutants
    "reports.bench_cmd",    # bench
)


# which module registers each command: a command line naming one builds only that module's parser
# (importing every command module costs ~0.2 s of CPU, which `bpcheck validate` pays on its critical path)
COMMANDS = {
    "report": "reports.report_cmd", "replay": "reports.report_cmd",
    "validate": "reports.grade_cmd", "grade": "reports.grade_cmd",
    "mutants": "reports.mutants_cmd", "bench": "reports.bench_cmd",
}
# modules a command imports in a background thread from the start (none today: `validate` starts torch's
# import itself, right after it has started the sandbox child, which torch's import would otherwise delay:
# reports.validate.validate_file)
PRELOAD: dict[str, tuple[str, ...]] = {}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with a hint
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n(run '{self.prog} --help' for the options)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or (``command`` given, one of COMMANDS) one with only that command's module."""
    parser = _Parser(prog="bpcheck", description="Verify hand-written numpy backpropagation.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for name in (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.register(sub)
    return parser


def _preload(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the command's own import reports it properly
            return


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    if command in PRELOAD:
        threading.Thread(target=_preload, args=(PRELOAD[command],), daemon=True).start()
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("bpcheck: interrupted", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The process entry point (`bpcheck`, `python -m reports.cli`): main(), then exit without the
    interpreter's teardown once nothing of ours is left to finish.

    Tearing down an interpreter that imported torch frees hundreds of thousands of objects one by one:
    measured at 0.6-0.9 s after `bpcheck validate`, a quarter of its wall time, spent after the answer is
    printed. The exit handlers still run (they stop pools, flush logs), the streams are flushed, and a
    non-daemon thread still alive means the normal exit, which waits for it."""
    try:
        code = main()
    except BrokenPipeError:  # `bpcheck ... | head`: the reader left; what is unwritten goes nowhere, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`bpcheck ... | head`): nothing more to deliver
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
