"""The `bpcheck` command line: a thin layer over functions that return results.

Each command lives in its own module with ``register(subparsers)``, which adds a parser whose
``func(args) -> int`` does the work. Exit codes: 0 pass, 1 discrepancies, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "build_parser"]

# command modules, in the order `bpcheck --help` lists them
COMMAND_MODULES = (
    "reports.report_cmd",   # report, replay
    "reports.grade_cmd",    # validate, grade
    "reports.mutants_cmd",  # mutants
    "reports.bench_cmd",    # bench
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with a hint
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n(run '{self.prog} --help' for the options)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bpcheck", description="Verify hand-written numpy backpropagation.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("bpcheck: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
