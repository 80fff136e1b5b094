"""Grading a class: run ``validate_file`` on every submission, anywhere, and keep every finished result.

``grade_class`` is what ``bpcheck grade`` runs. Submissions go to a ``reports.executors.Runner``
(serially here, local worker processes, or a Dask cluster): each submission is one task, and each
task still validates its file in a sandbox child interpreter with limits, on whichever machine runs
it. Results are written as they arrive, each file atomically:

    OUT/students/NAME.json   the report dict, with the submission's fingerprint (see below)
    OUT/students/NAME.txt    the readable report
    OUT/gradescope/NAME.json its Gradescope results.json

so an interrupted grade (Ctrl-C, SIGTERM, a killed worker) keeps every finished submission, and
``--resume`` grades only the rest: a submission is skipped when OUT/students/NAME.json holds the
same fingerprint, the SHA-256 of the submission's files and of the options that change a verdict
(style, cases, seed, limits, allowed imports) and the bpcheck version. A changed file or option is
graded again. In memory the parent keeps a compact record per submission (no report text, no
snippets), so memory stays flat however large the class.

On a cluster the workers may not see this machine's files: each task carries the submission's
files (``.py``/``.ipynb`` and small data files, at most ``MAX_SHIPPED_BYTES``), and a worker that
cannot find the original path validates an identical copy in a temporary folder, reporting the
original path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["Job", "GradeRun", "grade_one", "grade_class", "fingerprint", "safe_name", "compact", "MAX_SHIPPED_BYTES"]

MAX_SHIPPED_BYTES = 32 << 20  # a submission folder larger than this is not shipped to cluster workers
_SHIP_SUFFIXES = (".py", ".ipynb", ".json", ".txt", ".csv", ".npy", ".npz", ".h5", ".pkl", ".cfg", ".ini")


@dataclass
class Job:
    """One submission: its name, main file (None: nothing to grade), root folder, options."""

    student: str
    path: str | None
    root: str | None
    options: object  # reports.validate.ValidationOptions
    fingerprint: str = ""
    files: dict[str, bytes] | None = None  # shipped copy (cluster runs): relative path -> bytes
    base: str | None = None  # the folder the relative paths of ``files`` start from


@dataclass
class GradeRun:
    """What grade_class did: compact records in submission order, and how it ended."""

    records: list[dict] = field(default_factory=list)
    graded: int = 0  # graded in this run
    resumed: int = 0  # taken from an earlier run (--resume)
    not_graded: list[str] = field(default_factory=list)  # interrupted before these finished
    interrupted: bool = False
    seconds: float = 0.0
    where: str = ""


def safe_name(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".")
    return keep or "submission"


def _submission_files(path: str | None, root: str | None) -> list[Path]:
    if root:
        base = Path(root)
        files = [p for p in sorted(base.rglob("*")) if p.is_file() and ".ipynb_checkpoints" not in p.parts
                 and "__pycache__" not in p.parts]
        return files
    return [Path(path)] if path else []


def fingerprint(path: str | None, root: str | None, options) -> str:
    """SHA-256 over the submission's files (names and bytes), the verdict-changing options and the version."""
    from importlib import metadata

    h = hashlib.sha256()
    try:
        version = metadata.version("bpcheck")
    except metadata.PackageNotFoundError:
        version = "?"
    o = options
    h.update(json.dumps({"style": o.style, "cases": o.cases, "seed": o.seed, "timeout": o.timeout,
                         "memory_mb": o.memory_mb, "allow": sorted(o.allow_imports), "shrink": o.shrink,
                         "main": Path(path).name if path else None, "bpcheck": version},
                        sort_keys=True).encode())
    base = Path(root) if root else (Path(path).parent if path else None)
    for f in _submission_files(path, root):
        h.update(str(f.relative_to(base)).encode() + b"\0")
        try:
            h.update(hashlib.sha256(f.read_bytes()).digest())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def _ship(job: Job) -> Job:
    """The job with a copy of its files (for workers that may not share this file system)."""
    if job.path is None:
        return job
    base = Path(job.root) if job.root else Path(job.path).parent
    files: dict[str, bytes] = {}
    total = 0
    for f in _submission_files(job.path, job.root):
        if f != Path(job.path) and f.suffix not in _SHIP_SUFFIXES:
            continue
        data = f.read_bytes()
        total += len(data)
        if total > MAX_SHIPPED_BYTES:
            return job  # too large: the workers must share the file system (docs/cluster.md)
        files[str(f.relative_to(base))] = data
    return replace(job, files=files, base=str(base))


def _error_report(job: Job, message: str, bug_class: str, seconds: float = 0.0, text: str = "") -> dict:
    return {"student": job.student, "file": job.path, "verdict": "error", "style": None,
            "checks": [{"name": "grader", "verdict": "error", "message": message, "diagnosis": "",
                        "bug_class": bug_class}],
            "text": text or f"{job.student}: {message}", "seconds": seconds, "bug_classes": [bug_class],
            "conventions": [], "notes": []}


def grade_one(job: Job) -> dict:
    """Validate one submission (in a sandbox child); never raises: an internal error is an error report."""
    t0 = time.monotonic()
    if job.path is None:
        r = _error_report(job, "no .py file found in the submission", "missing")
        r["checks"][0]["name"] = "load"
        return r
    tmp = None
    try:
        from reports.validate import validate_file

        path, root = job.path, job.root
        if job.files is not None and not Path(job.path).is_file():
            # a cluster worker without this file system: validate an identical copy
            tmp = tempfile.mkdtemp(prefix="bpcheck-shipped-")
            for rel, data in job.files.items():
                target = Path(tmp, rel)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            path = str(Path(tmp, Path(job.path).relative_to(job.base)))
            root = tmp if job.root else None
        o = replace(job.options, root=root if root else job.options.root)
        report = validate_file(path, o)
        d = report.to_dict()
        d["student"], d["text"] = job.student, report.render()
        if tmp is not None:  # report the original location, not the worker's copy
            d = json.loads(json.dumps(d, default=str).replace(json.dumps(tmp)[1:-1], json.dumps(job.base)[1:-1]))
            d["file"] = job.path
        return d
    except Exception as e:  # noqa: BLE001 - one submission must never stop the class
        import traceback

        return _error_report(job, f"internal error: {type(e).__name__}: {e}", "internal",
                             time.monotonic() - t0, traceback.format_exc())
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def compact(report: dict) -> dict:
    """What the summary, JUnit and --expected need of a report (no text, snippets or cases)."""
    keep = ("name", "verdict", "message", "diagnosis", "bug_class")
    return {"student": report["student"], "file": report.get("file"), "verdict": report.get("verdict", "error"),
            "style": report.get("style"), "seconds": report.get("seconds") or 0.0,
            "bug_classes": list(report.get("bug_classes") or []), "conventions": list(report.get("conventions") or []),
            "notes": list(report.get("notes") or [])[:20],
            "checks": [{k: c.get(k) for k in keep} for c in report.get("checks") or []]}


def _resumable(out: Path, job: Job) -> dict | None:
    f = out / "students" / f"{safe_name(job.student)}.json"
    try:
        d = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict) or d.get("fingerprint") != job.fingerprint or not job.fingerprint:
        return None
    d["student"] = job.student
    return d


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled exactly like Ctrl-C."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def grade_class(jobs: list[Job], out: Path, table: dict, *, workers: int = 1, cluster: str | None = None,
                resume: bool = False, log=None) -> GradeRun:
    """Grade every job, writing each submission's files as its result arrives (see the module docstring).

    Returns a GradeRun; ``interrupted`` is True after Ctrl-C / SIGTERM (every finished result is on disk)."""
    from reports.executors import Runner, TaskLost
    from reports.grade_cmd import gradescope_results, write_atomic

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    t0 = time.monotonic()
    run = GradeRun()
    for job in jobs:
        job.fingerprint = fingerprint(job.path, job.root, job.options)
    records: dict[int, dict] = {}
    todo: list[int] = []
    for k, job in enumerate(jobs):
        old = _resumable(out, job) if resume else None
        if old is not None:
            records[k] = compact(old)
            run.resumed += 1
        else:
            todo.append(k)
    if run.resumed:
        log(f"resumed {run.resumed} submission(s) graded earlier with the same files and options")

    def save(k: int, report: dict, keep_fingerprint: bool) -> None:
        job = jobs[k]
        stem = safe_name(job.student)
        gs = _gradescope(report, table, gradescope_results)
        body = {key: v for key, v in report.items() if key != "text"}
        body["fingerprint"] = job.fingerprint if keep_fingerprint else None
        write_atomic(out / "students" / f"{stem}.txt", report.get("text", "") + "\n")
        write_atomic(out / "gradescope" / f"{stem}.json", json.dumps(gs, indent=2, allow_nan=False) + "\n")
        # the .json last: its fingerprint says "finished" to --resume
        write_atomic(out / "students" / f"{stem}.json", json.dumps(body, indent=2, default=str) + "\n")
        records[k] = compact(report)

    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with Runner(workers, cluster) as runner:
            run.where = runner.describe()
            tasks = [jobs[k] for k in todo]
            if runner.kind == "dask":
                tasks = [_ship(j) for j in tasks]
            for i, report in runner.imap_unordered(grade_one, tasks):
                k = todo[i]
                if isinstance(report, TaskLost):
                    msg = (f"not graded: {report.message}; run the same command with --resume to grade it"
                           if not report.raised else f"internal error: {report.message}")
                    save(k, _error_report(jobs[k], msg, "internal"), keep_fingerprint=False)
                else:
                    save(k, report, keep_fingerprint=True)
                run.graded += 1
                log(f"graded {jobs[k].student}: {records[k]['verdict']}")
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    run.records = [records[k] for k in range(len(jobs)) if k in records]
    run.not_graded = [jobs[k].student for k in range(len(jobs)) if k not in records]
    run.seconds = time.monotonic() - t0
    return run


def _gradescope(report: dict, table: dict, build) -> dict:
    from reports.grade_cmd import check_gradescope

    gs = build(report, table)
    problems = check_gradescope(gs)
    if problems:  # never hand Gradescope an invalid file
        gs = {"score": 0.0, "output": "bpcheck produced an invalid result: " + "; ".join(problems[:5]), "tests": []}
    return gs
