"""`bpcheck bench`'s sections that time bpcheck's own commands as a user runs them: ``validate`` on
one file next to ``python -c "import torch"``, and ``grade`` on a generated class (see bench_cmd);
and the torch oracle on a tiny net next to one bare autograd call (part of the fd section)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["TARGETS", "ROOT", "bench_validate", "bench_grade", "bench_oracle_tiny", "make_class"]

TARGETS = {
    "full_speedup_vs_gradcheck_slow": 300.0,
    "screen_speedup_vs_gradcheck_fast": 10.0,
    "localise_speedup_vs_gradcheck_fast": 1000.0,
    "max_norm_rel_err": 1e-8,
    "validate_over_torch_import": 1.5,
    "grade_500_seconds": 600.0,
    "conv_localise_seconds": 1.0,
    # the torch oracle (3 steps, a float32 re-run for its error estimate: ~8 forward/backward passes)
    # on [4, 8, 3], batch 4, over one bare forward/backward of the same net; measured ~14x (2026-12-01);
    # torch.optim's bookkeeping or multi-threaded torch creeping back in shows as several times that
    "oracle_over_autograd_tiny": 40.0,
}
ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------ oracle


def bench_oracle_tiny(repeats: int = 5, calls: int = 20) -> dict:
    """oracles.torch_autograd.expected on a [4, 8, 3] sigmoid net, batch 4, next to one bare
    forward/backward of the same net in torch (best of ``repeats`` x ``calls``, CPU time): the
    oracle is called thousands of times per campaign."""
    import numpy as np
    import torch

    from oracles import torch_autograd as ta
    from oracles.case import Case, Spec

    rng = np.random.default_rng(0)
    sizes = (4, 8, 3)
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1]))
        params[f"b{l}"] = rng.standard_normal(sizes[l])
    case = Case(Spec(sizes, ("sigmoid", "sigmoid")), params, rng.standard_normal((4, 4)), rng.random((4, 3)))
    X, Y = torch.from_numpy(case.x), torch.from_numpy(case.y)

    def bare() -> None:
        ps = [torch.tensor(params[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2")]
        a = X
        for l in range(2):
            a = torch.sigmoid(a @ ps[2 * l].T + ps[2 * l + 1])
        torch.autograd.grad(0.5 * ((a - Y) ** 2).sum(), ps)

    def best(f) -> float:
        f()  # warm-up
        runs = []
        for _ in range(max(1, repeats)):
            t = time.process_time()
            for _ in range(calls):
                f()
            runs.append((time.process_time() - t) / calls)
        return min(runs)

    out = {"net": list(sizes), "batch": 4, "oracle_cpu_seconds": best(lambda: ta.expected(case)),
           "autograd_cpu_seconds": best(bare), "torch_threads": torch.get_num_threads()}
    out["oracle_over_autograd"] = out["oracle_cpu_seconds"] / max(out["autograd_cpu_seconds"], 1e-9)
    out["target_met"] = bool(out["oracle_over_autograd"] <= TARGETS["oracle_over_autograd_tiny"])
    return out


# ------------------------------------------------------------------------------------------ validate


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _compile_bytecode() -> bool:
    import compileall

    return all(compileall.compile_dir(str(ROOT / pkg), quiet=2) for pkg in ("bpcheck", "oracles", "reports",
                                                                               "reference"))


def _timed_run(cmd: list[str], timeout: float) -> tuple[subprocess.CompletedProcess, float, float]:
    """(process, wall seconds, CPU seconds of it and every descendant it waited for)."""
    cpu, t = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return proc, time.perf_counter() - t, _children_cpu() - cpu


def bench_validate(file: str | Path | None = None, timeout: float = 240.0, repeats: int = 3) -> dict:
    """Wall time of `bpcheck validate FILE` (default budget) as a user runs it, and of `import torch`.

    The two are interleaved, ``repeats`` times each, and the best of each is kept: on a shared
    machine, runs next to each other see the same load. The CPU seconds of each (with the sandbox
    child) are reported too, with the load average: on a machine busy with other jobs the wall
    clock measures the queue, and the CPU ratio is the figure that load barely moves."""
    file = Path(file) if file else ROOT / "reference" / "nielsen.py"
    out: dict = {"file": str(file.relative_to(ROOT)) if file.is_relative_to(ROOT) else str(file),
                 "load_average_before": list(os.getloadavg())}
    # bpcheck's own bytecode, as an installed package has it (torch's is compiled by pip): with
    # PYTHONDONTWRITEBYTECODE set, or a fresh editable clone, every run would otherwise recompile
    # ~50 modules (~0.4 s CPU measured), a cost no installed copy pays
    out["bytecode_compiled"] = _compile_bytecode()
    torch_t, validate_t, torch_cpu, validate_cpu = [], [], [], []
    for _ in range(max(1, repeats)):
        proc, wall, cpu = _timed_run([sys.executable, "-c", "import torch"], 120)
        proc.check_returncode()
        torch_t.append(wall)
        torch_cpu.append(cpu)
        try:
            proc, wall, cpu = _timed_run([sys.executable, "-m", "reports.cli", "validate", str(file)], timeout)
        except subprocess.TimeoutExpired:
            out.update(seconds=None, torch_import_seconds=min(torch_t),
                       status=f"validate did not finish within {timeout:g} s")
            return out
        validate_t.append(wall)
        validate_cpu.append(cpu)
    out["torch_import_seconds"] = min(torch_t)
    out["seconds"] = min(validate_t)
    out["all_seconds"] = validate_t
    out["all_torch_import_seconds"] = torch_t
    out["validate_over_torch_import"] = out["seconds"] / out["torch_import_seconds"]
    out["torch_import_cpu_seconds"] = min(torch_cpu)
    out["cpu_seconds"] = min(validate_cpu)
    out["validate_over_torch_import_cpu"] = out["cpu_seconds"] / out["torch_import_cpu_seconds"]
    out["load_average_after"] = list(os.getloadavg())
    out["exit_code"] = proc.returncode
    out["status"] = "pass" if proc.returncode == 0 else f"exit {proc.returncode}"
    if proc.returncode == 2:  # usage error: the command exists but refused the arguments
        out["stderr"] = proc.stderr[-500:]
    out["target_met"] = bool(proc.returncode == 0
                             and out["validate_over_torch_import"] <= TARGETS["validate_over_torch_import"])
    return out


# ------------------------------------------------------------------------------------------ grade


def _expected_verdict(path: Path) -> str | None:
    """pass / fail / error from a fixture's first line (``# expect: ...``)."""
    first = path.read_text(encoding="utf-8").splitlines()[0] if path.stat().st_size else ""
    if not first.startswith("# expect:"):
        return None
    what = first.split(":", 1)[1].strip()
    for verdict in ("fail", "error"):  # a course part bpcheck names as not checked expects ERROR
        if what.startswith(verdict):
            return verdict
    return "pass"  # pass, warn and convention all accept the file


def make_class(folder: Path, n: int) -> Path:
    """A class of n submissions in folder: copies of tests/submissions/*/*.py (the student-like
    correct files and one-bug files of all four styles, self-contained, unlike the references, which
    import bpcheck's helpers) in a fixed cycle; plus expected.tsv (file, pass/fail) for --expected."""
    sources = sorted((ROOT / "tests" / "submissions").glob("*/*.py"))
    sources = [p for p in sources if p.name != "__init__.py" and _expected_verdict(p)]
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["file\texpected"]
    for k in range(n):
        src = sources[k % len(sources)]
        name = f"s{k:04d}_{src.parent.name}_{src.stem}.py"
        (folder / name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
        rows.append(f"{name}\t{_expected_verdict(src)}")
    (folder / "expected.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def bench_grade(n: int = 40, workers: int = 2, timeout: float = 3600.0, cases: int | None = None) -> dict:
    """`bpcheck grade` with the default budget on a generated class of n submissions (see make_class)."""
    import resource
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bpcheck-bench-grade-"))
    try:
        folder = make_class(tmp / "class", n)
        expected = folder / "expected.tsv"
        shutil.move(str(expected), str(tmp / "expected.tsv"))
        cmd = [sys.executable, "-m", "reports.cli", "grade", str(folder), "--out", str(tmp / "out"),
               "--workers", str(workers), "--expected", str(tmp / "expected.tsv")]
        if cases is not None:
            cmd += ["--cases", str(cases)]
        load = list(os.getloadavg())
        proc, wall, cpu = _timed_run(cmd, timeout)
        # (ru_maxrss of the children: the largest resident set of any one process of the grade)
        out: dict = {"submissions": n, "workers": workers, "cases": cases or "default", "seconds": wall,
                     "seconds_per_submission": wall / max(n, 1), "projected_500_seconds": 500 * wall / max(n, 1),
                     "cpu_seconds": cpu, "cpu_seconds_per_submission": cpu / max(n, 1),
                     "max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
                     "load_average_before": load, "load_average_after": list(os.getloadavg()),
                     "exit_code": proc.returncode}
        graded = list((tmp / "out" / "students").glob("*.json"))
        out["graded"] = len(graded)
        verdicts: dict[str, int] = {}
        for f in graded:
            v = json.loads(f.read_text()).get("verdict", "?")
            verdicts[v] = verdicts.get(v, 0) + 1
        out["verdicts"] = verdicts
        try:
            agree = json.loads((tmp / "out" / "agreement.json").read_text())
            out["agreement_accept_reject"] = agree["accept_reject_fraction"]
            out["disagreements"] = [f"{d['student']}: expected {d['expected']}, got {d['got']}"
                                    for d in agree["disagreements"]][:20]
        except (OSError, ValueError, KeyError):
            out["agreement_accept_reject"] = None
        if proc.returncode not in (0, 1):
            out["stderr"] = proc.stderr[-2000:]
        out["target_met"] = bool(out["graded"] == n and out["projected_500_seconds"] <= TARGETS["grade_500_seconds"])
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
