"""`bpcheck validate FILE` and `bpcheck grade DIR`: student submissions, sandboxed.

validate: one file -> readable report (or one JSON object with --json). Exit 0 pass/warn,
1 fail/error, 2 usage error.

grade: a folder of submissions (one per .py file or per sub-folder) -> per-student reports,
a class summary (tabulate) with the most common bug patterns, JUnit XML and Gradescope
results.json (schema: GRADESCOPE_SCHEMA; built as a dict, checked, written atomically; nothing
is ever printed into it). The class run itself (workers, a Dask cluster, --resume, writing each
result as it arrives) is reports.grading; --expected is reports.agreement.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

__all__ = [
    "register",
    "cmd_validate",
    "cmd_grade",
    "find_submissions",
    "points_table",
    "gradescope_results",
    "check_gradescope",
    "GRADESCOPE_SCHEMA",
    "DEFAULT_POINTS",
    "junit_xml",
    "write_atomic",
]

# Cases per entry point. Measured (2026-12-01) on the 23 one-bug fixtures of tests/submissions at 100
# cases: every one is revealed by at least 11% of its cases, all but one by a third or more, and the
# rarest (softmax without the max shift) by the large-logit regime, which validate's regime cycle
# draws every 10 cases; each fixture gets its expected verdict at 30 (tests/test_validate_pipeline.py).
# 40 cases are four rounds of the regime cycle; 100 cost 2.5 times the time for no verdict changed.
DEFAULT_CASES = 40

# Points per check family (the part of a check name after "entry: "); whole-file checks 1.
DEFAULT_POINTS = {
    "loss": 2.0, "grad_W": 3.0, "grad_b": 2.0, "grad_x": 2.0, "grad_hidden": 2.0, "update": 2.0,
    "trajectory": 1.0, "side_effects": 1.0, "self_consistency": 1.0, "default": 1.0, "total": 100.0,
}

# Verdict classes of the sandbox and the loader (the diagnosis classes live in oracles.diagnose).
SANDBOX_CLASSES = {
    "syntax_error": "the file does not parse", "python2": "Python 2 syntax", "not_allowed":
    "imports an autograd library", "load": "the file raised while loading", "style": "no course style recognised",
    "not_supported": "a course part bpcheck does not check yet (recurrent layers, CTC)",
    "missing_module": "a module the file imports was not given with it (stubbed): not judged",
    "timeout": "time limit: an infinite loop or very slow code", "cpu": "CPU time limit", "memory": "memory limit",
    "exit": "sys.exit / os._exit / a crash of the interpreter", "killed": "the interpreter was killed",
    "protocol": "a malformed or forged answer", "patched": "numpy monkey-patched", "output_flood":
    "floods the output with prints", "files_written": "writes files while being checked", "exception": "raised",
    "missing": "no .py file in the submission", "internal": "bpcheck itself failed (please report)",
}

# Gradescope's results.json, all fields optional (https://gradescope-autograders.readthedocs.io).
_VIS = ("hidden", "after_due_date", "after_published", "visible")
_FMT = ("text", "html", "md", "ansi")
GRADESCOPE_SCHEMA = {
    "top": {"score": (int, float), "execution_time": (int, float), "output": str, "output_format": _FMT,
            "visibility": _VIS, "stdout_visibility": _VIS, "extra_data": dict, "tests": list},
    "test": {"score": (int, float), "max_score": (int, float), "status": ("passed", "failed"), "name": str,
             "number": str, "output": str, "output_format": _FMT, "tags": list, "visibility": _VIS,
             "extra_data": dict},
}


def _add_common(p) -> None:
    p.add_argument("--style", default="auto", help="auto (default: detect from the names), nielsen, dlai, saito "
                   "or cs231n")
    p.add_argument("--cases", type=int, default=DEFAULT_CASES,
                   help=f"cases per entry point (default {DEFAULT_CASES}; a component entry such as fn:affine "
                        f"gets a tenth, at least 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fuzzed cases (default 0)")
    p.add_argument("--timeout", type=float, default=5.0, help="wall/CPU seconds per check (default 5)")
    p.add_argument("--memory", type=int, default=2048, help="address-space limit in MB (default 2048)")
    p.add_argument("--allow-import", action="append", default=[], metavar="NAME",
                   help="permit an otherwise refused library (torch, jax, autograd, tensorflow)")
    p.add_argument("--strict-numpy", action="store_true",
                   help="judge numpy 1.x APIs (np.float, np.reshape(newshape=), float() of a (1, 1) array) against "
                        "the installed numpy instead of through the compatibility layer (they are WARNed either way)")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate", help="check one student file (sandboxed) against the oracle",
        description="Fuzz every entry point of a student file in its course style, compare with torch "
                    "float64 autograd, and explain what is wrong. Exit 0 pass/warn, 1 fail/error, 2 usage.")
    p.add_argument("file", help="the student's .py file (notebook exports are fine)")
    p.add_argument("--root", help="folder holding the file's helper modules (common/, cs231n/, ...)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object instead of the report")
    p.add_argument("--no-shrink", action="store_true", help="do not shrink the first failing case")
    _add_common(p)
    p.set_defaults(func=cmd_validate)

    g = subparsers.add_parser(
        "grade", help="grade a folder of submissions: reports, summary, JUnit, Gradescope results.json",
        description="One submission per .py file or per sub-folder of DIR (or DIR itself with --single).")
    g.add_argument("dir", help="folder of submissions")
    g.add_argument("--out", help="output folder (default: DIR/../bpcheck-grades, or DIR/../results with --single)")
    g.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                   help="parallel worker processes on this machine (default: half the cores)")
    g.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="grade on an existing Dask cluster instead (tcp://host:8786, a scheduler file, or local:N); "
                        "each submission still runs in a sandbox child on the worker. Needs bpcheck[cluster]")
    g.add_argument("--resume", action="store_true",
                   help="keep the submissions already graded into --out with the same files and options; grade "
                        "only the rest (after an interrupted run)")
    g.add_argument("--expected", metavar="FILE",
                   help="TSV of submission and expected verdict (hand grades): print the agreement table")
    g.add_argument("--points", help="JSON file: points per check family or check name, 'default', 'total'")
    g.add_argument("--single", action="store_true", help="DIR is one submission (Gradescope: /autograder/submission)")
    _add_common(g)
    g.set_defaults(func=cmd_grade)


def _usage(msg: str) -> int:
    print(f"bpcheck: error: {msg}", file=sys.stderr)
    return 2


def _check_common(args) -> str | None:
    if args.style != "auto":  # (the drivers' import, ~0.3 s: only when a style is forced)
        from oracles.styles import STYLES

        if args.style not in STYLES:
            return f"unknown style {args.style!r}; use --style auto or one of {', '.join(STYLES)}"
    if args.cases < 1:
        return f"--cases {args.cases}: give at least 1 case per entry point"
    if args.timeout <= 0:
        return f"--timeout {args.timeout}: give a positive number of seconds"
    if args.memory < 64:
        return f"--memory {args.memory}: give at least 64 MB (numpy alone needs ~40 MB)"
    return None


def _options(args):
    from reports.validate import ValidationOptions

    return ValidationOptions(style=args.style, root=getattr(args, "root", None), cases=args.cases, seed=args.seed,
                             timeout=args.timeout, memory_mb=args.memory, allow_imports=tuple(args.allow_import),
                             shrink=not getattr(args, "no_shrink", False),
                             strict_numpy=getattr(args, "strict_numpy", False))


# ---------------------------------------------------------------- validate


def cmd_validate(args) -> int:
    # torch's import (seconds) starts in validate_file, right after the sandbox child: nothing heavy before that
    path = Path(args.file)
    if path.is_dir() and not any(path.rglob("*.py")):
        return _usage(f"{args.file} is a folder without .py files; give the student's .py file (or the package "
                      f"folder, e.g. a MyTorch handout with mytorch/ and models/)")
    if not path.exists():
        return _usage(f"no such file: {args.file}; give the path of the student's .py file")
    if args.root and not Path(args.root).is_dir():
        return _usage(f"--root {args.root}: not a folder; give the folder that holds the helper modules")
    bad = _check_common(args)
    if bad:
        return _usage(bad)
    from reports.validate import validate_file

    try:
        report = validate_file(path, _options(args))
    except Exception as e:  # noqa: BLE001 - a checker bug must still give one valid JSON object / a message
        import traceback

        if args.json:
            sys.stdout.write(json.dumps({"file": str(path), "verdict": "error", "style": None, "checks": [
                {"name": "grader", "verdict": "error", "message": f"internal error: {type(e).__name__}: {e}",
                 "diagnosis": ""}]}) + "\n")
        traceback.print_exc()
        return 1
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), allow_nan=False, default=str) + "\n")
    else:
        print(report.render())
    return 0 if report.verdict in ("pass", "warn") else 1


# ---------------------------------------------------------------- grade

_MAIN_HINTS = ("def backprop", "def update_mini_batch", "def L_model_backward", "def L_model_forward",
               "def backward_propagation", "class TwoLayerNet", "class MultiLayerNet", "def gradient",
               "class Affine", "class SoftmaxWithLoss", "def affine_backward", "def softmax_loss",
               "class FullyConnectedNet", "def loss(")


def _main_file(folder: Path) -> Path | None:
    """The file of a sub-folder submission: the .py file with the most course entry-point names."""
    files = sorted(p for p in [*folder.rglob("*.py"), *folder.rglob("*.ipynb")]
                   if p.name != "__init__.py" and not p.name.startswith("test") and ".ipynb_checkpoints" not in p.parts)
    if not files:
        return None
    if len(files) == 1:
        return files[0]

    def score(p: Path) -> tuple:
        try:
            text = p.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return (0, 0)
        return (sum(h in text for h in _MAIN_HINTS), -len(p.relative_to(folder).parts))

    return max(files, key=score)


def find_submissions(folder: Path, *, single: bool = False) -> list[tuple[str, Path | None, Path | None]]:
    """(student name, main file or None, root folder or None) for every submission in folder."""
    if single:
        return [(folder.name or "submission", _main_file(folder), folder)]
    out = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith((".", "_")):
            continue
        if p.is_file() and p.suffix in (".py", ".ipynb"):
            out.append((p.stem, p, None))
        elif p.is_dir():
            # a package submission (a MyTorch handout: mytorch/, models/) is validated as a whole folder
            out.append((p.name, p if (p / "mytorch").is_dir() else _main_file(p), p))
    return out


def points_table(path: str | None) -> dict:
    table = dict(DEFAULT_POINTS)
    if path:
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
            raise ValueError(f"{path}: expected a JSON object of numbers, e.g. {{\"grad_W\": 3, \"default\": 1, "
                             f"\"total\": 100}}")
        table.update({str(k): float(v) for k, v in data.items()})
    return table


def _points(check_name: str, table: dict) -> float:
    if check_name in table:
        return table[check_name]
    family = check_name.split(": ")[-1]
    return table.get(family, table.get("default", 1.0))


def gradescope_results(report: dict, table: dict) -> dict:
    """Gradescope results.json for one submission's report dict: scores scaled to table['total']."""
    checks = report.get("checks") or []
    raw = [(c, _points(c["name"], table)) for c in checks]
    available = sum(p for _, p in raw) or 1.0
    total = float(table.get("total", 100.0))
    tests = []
    earned = 0.0
    for i, (c, p) in enumerate(raw, start=1):
        mx = round(total * p / available, 4)
        ok = c["verdict"] in ("pass", "warn")
        sc = mx if ok else 0.0
        earned += sc
        out = c.get("message", "")
        if c.get("diagnosis") and not ok:
            out += f"\ndiagnosis: {c['diagnosis']}"
        if c.get("snippet") and not ok:
            out += "\n\nsmallest failing case:\n" + c["snippet"]
        tests.append({"name": f"{c['name']} ({c['verdict']})", "number": str(i), "score": sc, "max_score": mx,
                      "status": "passed" if ok else "failed", "output": out, "output_format": "text",
                      "tags": [t for t in (c.get("bug_class"),) if t], "visibility": "visible"})
    head = (f"bpcheck: {report.get('verdict', 'error').upper()} (style {report.get('style') or '?'})\n"
            + "".join(f"convention: {c}\n" for c in report.get("conventions") or [])
            + "".join(f"note: {n}\n" for n in (report.get("notes") or [])[:20]))
    return {
        "score": round(earned, 4),
        "execution_time": int(round(float(report.get("seconds") or 0.0))),
        "output": head,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"verdict": report.get("verdict"), "style": report.get("style"),
                       "bug_classes": report.get("bug_classes") or []},
        "tests": tests,
    }


def check_gradescope(obj) -> list[str]:
    """Problems of obj against GRADESCOPE_SCHEMA (empty list: valid; also JSON-serialisable, no NaN)."""
    problems = []

    def field_ok(where, key, value, rule):
        if isinstance(rule, tuple) and rule and isinstance(rule[0], str):
            if value not in rule:
                problems.append(f"{where}.{key}={value!r} not one of {rule}")
        elif isinstance(value, bool) or not isinstance(value, rule):
            problems.append(f"{where}.{key} has type {type(value).__name__}")

    if not isinstance(obj, dict):
        return ["top level is not an object"]
    for k, v in obj.items():
        if k not in GRADESCOPE_SCHEMA["top"]:
            problems.append(f"unknown top-level field {k!r}")
        else:
            field_ok("results", k, v, GRADESCOPE_SCHEMA["top"][k])
    for i, t in enumerate(obj.get("tests") or []):
        if not isinstance(t, dict):
            problems.append(f"tests[{i}] is not an object")
            continue
        for k, v in t.items():
            if k not in GRADESCOPE_SCHEMA["test"]:
                problems.append(f"unknown field tests[{i}].{k}")
            else:
                field_ok(f"tests[{i}]", k, v, GRADESCOPE_SCHEMA["test"][k])
        if isinstance(t.get("tags"), list) and not all(isinstance(s, str) for s in t["tags"]):
            problems.append(f"tests[{i}].tags must be strings")
    try:
        json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError) as e:
        problems.append(f"not valid JSON: {e}")
    return problems


def junit_xml(reports: list[dict]) -> str:
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", name="bpcheck grade")
    for r in reports:
        checks = r.get("checks") or []
        suite = ET.SubElement(suites, "testsuite", name=str(r["student"]), tests=str(len(checks)),
                              failures=str(sum(c["verdict"] == "fail" for c in checks)),
                              errors=str(sum(c["verdict"] == "error" for c in checks)),
                              time=f"{float(r.get('seconds') or 0):.3f}")
        for c in checks:
            tc = ET.SubElement(suite, "testcase", classname=f"bpcheck.{r['student']}", name=str(c["name"]))
            text = c.get("message", "") + (f"\ndiagnosis: {c['diagnosis']}" if c.get("diagnosis") else "")
            if c["verdict"] in ("fail", "error"):
                el = ET.SubElement(tc, "failure" if c["verdict"] == "fail" else "error",
                                   message=_xml_safe(text.splitlines()[0] if text else c["verdict"]),
                                   type=str(c.get("bug_class") or c["verdict"]))
                el.text = _xml_safe(text)
            elif c["verdict"] == "warn":
                ET.SubElement(tc, "system-out").text = _xml_safe("warning: " + text)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _xml_safe(s: str) -> str:
    # XML 1.0 forbids most control characters; a student's message may contain anything
    return "".join(ch for ch in s if ch in "\t\n\r" or ord(ch) >= 32)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def summary_markdown(reports: list[dict], scores: dict[str, float], total: float) -> str:
    from tabulate import tabulate

    rows = []
    for r in reports:
        c = Counter(ch["verdict"] for ch in r.get("checks") or [])
        rows.append([r["student"], r["verdict"].upper(), r.get("style") or "?", c["pass"], c["warn"], c["fail"],
                     c["error"], f"{scores.get(r['student'], 0.0):.1f}/{total:g}",
                     ", ".join(r.get("bug_classes") or [])])
    out = ["# bpcheck grade summary", "",
           tabulate(rows, headers=["student", "verdict", "style", "pass", "warn", "fail", "error", "score",
                                   "bug patterns"], tablefmt="github"), ""]
    bugs = Counter(b for r in reports for b in set(r.get("bug_classes") or []))
    if bugs:
        try:
            from oracles.diagnose import BUG_CLASSES
        except ImportError:
            BUG_CLASSES = {}
        BUG_CLASSES = {**SANDBOX_CLASSES, **BUG_CLASSES}
        out += ["## Most common bug patterns", "",
                tabulate([[b, n, BUG_CLASSES.get(b, "")] for b, n in bugs.most_common()],
                         headers=["bug class", "students", "meaning"], tablefmt="github"), ""]
    verdicts = Counter(r["verdict"] for r in reports)
    out.append(f"{len(reports)} submissions: " + ", ".join(f"{n} {v}" for v, n in verdicts.most_common()))
    return "\n".join(out) + "\n"


def cmd_grade(args) -> int:
    from reports import grading
    from reports.agreement import ExpectedError, agreement, format_agreement, read_expected
    from reports.executors import ClusterUnavailable

    folder = Path(args.dir)
    if not folder.is_dir():
        return _usage(f"no such folder: {args.dir}; give the folder that holds the submissions")
    bad = _check_common(args)
    if bad:
        return _usage(bad)
    if args.workers < 1:
        return _usage(f"--workers {args.workers}: give at least 1")
    try:
        table = points_table(args.points)
    except (OSError, ValueError) as e:
        return _usage(f"--points: {e}")
    expected = None
    if args.expected:
        try:
            expected = read_expected(args.expected)
        except ExpectedError as e:
            return _usage(str(e))
    subs = find_submissions(folder, single=args.single)
    if not subs:
        return _usage(f"{args.dir} holds no submissions (.py files or sub-folders)")
    default_out = folder.resolve().parent / ("results" if args.single else "bpcheck-grades")
    out = Path(args.out) if args.out else default_out
    opts = _options(args)
    jobs = [grading.Job(name, str(path) if path else None, str(root) if root else None, opts)
            for name, path, root in subs]
    workers = 1 if len(jobs) == 1 and not args.cluster else args.workers
    try:
        run = grading.grade_class(jobs, out, table, workers=workers, cluster=args.cluster, resume=args.resume)
    except ClusterUnavailable as e:
        return _usage(str(e))
    records = run.records
    total = float(table.get("total", 100.0))
    scores = {r["student"]: gradescope_results(r, table)["score"] for r in records}
    summary = summary_markdown(records, scores, total)
    if run.interrupted:
        summary += (f"\nINTERRUPTED: {len(records)} of {len(jobs)} submissions graded; not graded: "
                    f"{', '.join(run.not_graded[:20])}{' ...' if len(run.not_graded) > 20 else ''}. "
                    f"Run the same command with --resume to grade only the rest.\n")
    if expected is not None:
        summary += "\n" + format_agreement(agreement(expected, records, folder, run.not_graded))
        write_atomic(out / "agreement.json", json.dumps(agreement(expected, records, folder, run.not_graded).to_dict(),
                                                        indent=2) + "\n")
    if len(jobs) == 1 and records:
        gs = json.loads((out / "gradescope" / f"{grading.safe_name(records[0]['student'])}.json").read_text())
        write_atomic(out / "results.json", json.dumps(gs, indent=2, allow_nan=False) + "\n")
    write_atomic(out / "summary.md", summary)
    write_atomic(out / "junit.xml", junit_xml(records))
    print(summary)
    print(f"wrote {out}/ (summary.md, junit.xml, students/, gradescope/"
          f"{', results.json' if len(jobs) == 1 and records else ''}"
          f"{', agreement.json' if expected is not None else ''}) in {run.seconds:.1f} s "
          f"({run.graded} graded {run.where}{f', {run.resumed} resumed' if run.resumed else ''})", file=sys.stderr)
    if run.interrupted:
        print("bpcheck: interrupted; every finished submission is saved (--resume grades the rest)", file=sys.stderr)
        return 130
    return 0 if all(r["verdict"] in ("pass", "warn") for r in records) else 1
