"""`bpcheck bench [--json]`: the speed facts, measured side by side in one run.

* ``fd``: our per-element FD, our directional screen, and our screen-then-localise on a planted 1%
  bias bug, next to ``torch.autograd.gradcheck`` slow and fast on the same function and bug
  ([784, 30, 10] sigmoid MLP, batch 16, float64). Both sides single-threaded (torch by
  set_num_threads(1), numpy's BLAS by running the section in a child with *_NUM_THREADS=1). The
  speed-ups judged against the targets are ratios of process CPU time (the work done, which
  other jobs on a shared machine barely move); wall-clock seconds and ratios are reported too. Then
  the conv target: screen and localise one wrong element of a conv weight gradient (oracles.conv_bench).
* ``epoch``: one epoch of the per-sample, full-matrix and layer-based references and of torch eager
  on 784-30-10, 10,000 synthetic MNIST-shaped samples, mini-batch 10 and 100; the full-matrix
  GFLOP/s at a large batch next to this machine's numpy GEMM peak measured in the same run.
  Single-threaded as well (a child with *_NUM_THREADS=1); the all-threads GEMM peak is shown too.
* ``validate``: wall time of ``bpcheck validate`` on reference/nielsen.py, next to the start-up of
  ``python -c "import torch"`` (measured interleaved, best of ``repeats`` each).
* ``grade``: ``bpcheck grade`` (default budget, ``--workers 2``) on a generated class of N
  submissions: copies of the student-like fixtures of tests/submissions (correct files and one-bug
  files of all four styles) and of the references; wall time, seconds per submission, the
  projection to 500 submissions, the largest resident memory of any of its processes, and the
  agreement of the verdicts with each fixture's expected verdict.

Exit 0 when every target of the sections run is met (TARGETS: full >= 300x gradcheck slow, screen
>= 10x gradcheck fast warm and cold, screen+localise >= 1000x gradcheck fast on the bug, agreement
<= 1e-8 and the bug named; conv < 1 s; the torch oracle on a tiny net <= 40x one bare autograd call;
validate <= 1.5x the torch import; 500 submissions projected <= 10 min),
1 otherwise.
torch is imported lazily, inside the functions.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

from reports.bench_commands import ROOT, TARGETS, bench_grade, bench_validate, make_class
from reports.bench_fd import bench_conv, bench_fd
from reports.bench_timing import _best, _mnist_like

__all__ = ["register", "run", "bench_fd", "bench_conv", "bench_epoch", "bench_validate", "bench_grade", "make_class",
           "gemm_peak", "format_table", "TARGETS", "SECTIONS"]

SECTIONS = ("fd", "epoch", "validate", "grade")
SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="measure FD vs gradcheck, epoch times, validate and grade wall time (a few minutes)",
        description="Measure, side by side in one run: finite differences vs torch.autograd.gradcheck, one "
        "training epoch in each reference style and torch, the wall time of `bpcheck validate` next to "
        "`import torch`, and `bpcheck grade` on a generated class. Exit 0 when every target of the sections "
        "run is met, 1 otherwise.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    p.add_argument("--grade-submissions", type=int, default=40, metavar="N",
                   help="size of the generated class of the grade section (default 40; the README's "
                        "measurement uses 500)")
    p.set_defaults(func=_main)


def _in_child(function: str, kwargs: dict) -> dict:
    """One bench function in a fresh interpreter with single-threaded BLAS (torch is single-threaded too).

    On this shared 2-core machine a second BLAS thread mostly waits for a busy core (measured: the
    full-matrix epoch at batch 100 ran slower than per-sample with two threads under load), and
    torch runs with one thread by the house rule: one thread everywhere compares like with like."""
    env = dict(os.environ, **SINGLE_THREAD_ENV)
    code = (
        f"import json, sys; from reports.bench_cmd import {function}; "
        f"print(json.dumps({function}(**json.loads(sys.argv[1]))))"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(kwargs)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"bench child {function} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ epoch


def gemm_peak(sizes=(256, 384, 512, 768), repeats: int = 10) -> float:
    """This machine's numpy float64 GEMM rate (GFLOP/s) with the process's BLAS threads: the best over
    a few square sizes and repeats (a loaded machine hides the peak from any single measurement)."""
    rng = np.random.default_rng(0)
    best = 0.0
    for n in sizes:
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        a @ b
        best = max(best, 2.0 * n**3 / _best(lambda a=a, b=b: a @ b, repeats) / 1e9)
    return best


def _flops_per_sample(sizes) -> int:
    """Multiply-adds x 2 of one forward + backward: W a, delta a^T and W^T delta (not below layer 1)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    fwd = sum(2 * i * o for i, o in pairs)
    dW = fwd
    dA = sum(2 * i * o for i, o in pairs[1:])
    return fwd + dW + dA


def bench_epoch(sizes=(784, 30, 10), n: int = 10_000, batches=(10, 100), big_batch: int = 1000, seed: int = 0,
                eta: float = 3.0) -> dict:
    """One epoch per style and batch size, synthetic MNIST-shaped data."""
    import torch

    from reference import layer_net, matrix, nielsen

    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    x, y, labels = _mnist_like(rng, n, sizes[0], sizes[-1])
    columns = [(x[i].reshape(-1, 1), y[i].reshape(-1, 1)) for i in range(n)]
    order = rng.permutation(n)
    hidden = list(sizes[1:-1])
    out: dict = {"net": list(sizes), "samples": n, "batches": list(batches)}

    def nielsen_epoch(net, bs):
        for k in range(0, n, bs):
            net.update_mini_batch([columns[i] for i in order[k : k + bs]], eta)

    def layer_epoch(net, bs):
        for k in range(0, n, bs):
            idx = order[k : k + bs]
            grads = net.gradient(x[idx], y[idx])
            for key, g in grads.items():
                net.params[key] -= 0.1 * g  # in place: the layers hold these very arrays

    def torch_epoch(bs):
        layers = []
        for i, o in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(i, o).double(), torch.nn.Sigmoid()]
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(model.parameters(), lr=eta)
        X, Y = torch.from_numpy(x), torch.from_numpy(y)
        t = time.perf_counter()
        for k in range(0, n, bs):
            idx = torch.from_numpy(order[k : k + bs])
            opt.zero_grad()
            loss = 0.5 * ((model(X[idx]) - Y[idx]) ** 2).sum() / len(idx)
            loss.backward()
            opt.step()
        return time.perf_counter() - t

    for bs in batches:
        row = {}
        net = nielsen.Network(list(sizes), seed=seed)
        row["per_sample_seconds"] = _best(lambda net=net, bs=bs: nielsen_epoch(net, bs), 1)
        net = matrix.Network(list(sizes), seed=seed)
        row["matrix_seconds"] = _best(lambda net=net, bs=bs: nielsen_epoch(net, bs), 2)
        net = layer_net.MultiLayerNet(sizes[0], hidden, sizes[-1], activation="sigmoid", seed=seed)
        row["layer_seconds"] = _best(lambda net=net, bs=bs: layer_epoch(net, bs), 2)
        torch_epoch(bs)  # warm-up (first-call dispatch set-up)
        row["torch_seconds"] = min(torch_epoch(bs) for _ in range(2))
        row["matrix_speedup_vs_per_sample"] = row["per_sample_seconds"] / row["matrix_seconds"]
        out[f"batch_{bs}"] = row
    out["matrix_speedup_vs_per_sample"] = out[f"batch_{batches[0]}"]["matrix_speedup_vs_per_sample"]
    out["seed_claimed_speedup"] = 5.0

    # the full-matrix backprop (stacked X, Y) at a large batch, in GFLOP/s, next to the GEMM peak
    net = matrix.Network(list(sizes), seed=seed)
    Xb, Yb = x[:big_batch].T.copy(), y[:big_batch].T.copy()
    t = _best(lambda: net.backprop(Xb, Yb), 20)
    out["big_batch"] = big_batch
    out["matrix_gflops"] = _flops_per_sample(sizes) * big_batch / t / 1e9
    # both best-of-many short runs, so both catch the machine's quiet moments
    out["gemm_peak_gflops"] = gemm_peak((128, 256) if big_batch < 1000 else (256, 384, 512, 768))
    out["matrix_gemm_fraction_of_peak"] = out["matrix_gflops"] / out["gemm_peak_gflops"]
    return out


# ------------------------------------------------------------------------------------------ run


def run(sections=("fd", "epoch", "validate"), *, quick: bool = False, in_child: bool = True,
        grade_submissions: int = 40) -> dict:
    """All requested sections. ``quick`` shrinks every size (for tests): numbers, not targets."""
    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    t0 = time.perf_counter()
    if "fd" in sections:
        kw = {"sizes": [20, 6, 4], "batch": 4, "repeats": 1} if quick else {}
        results["fd"] = _in_child("bench_fd", kw) if in_child else bench_fd(**kw)
    if "epoch" in sections:
        kw = {"sizes": (20, 6, 4), "n": 200, "batches": (10, 100), "big_batch": 100} if quick else {}
        results["epoch"] = _in_child("bench_epoch", kw) if in_child else bench_epoch(**kw)
        results["epoch"]["gemm_peak_gflops_all_threads"] = gemm_peak((128, 256) if quick else (256, 384, 512, 768))
    if "validate" in sections:
        results["validate"] = bench_validate(repeats=1 if quick else 3)
    if "grade" in sections:
        results["grade"] = bench_grade(n=4 if quick else grade_submissions, cases=4 if quick else None)
    results["total_seconds"] = time.perf_counter() - t0
    return results


def _fmt(v, unit="") -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        return f"{v:.3g}{unit}" if abs(v) < 1000 else f"{v:.0f}{unit}"
    return f"{v}{unit}"


def format_table(results: dict) -> str:
    from tabulate import tabulate

    rows = []
    fd = results.get("fd")
    if fd:
        rows += [
            ("fd", f"full per-element FD ({fd['n_params']} params)", _fmt(fd["full_seconds"], " s"),
             f"gradcheck slow {_fmt(fd['gradcheck_slow_seconds'], ' s')}: "
             f"{_fmt(fd['full_speedup_vs_gradcheck_slow'], 'x')} CPU, "
             f"{_fmt(fd['full_speedup_vs_gradcheck_slow_wall'], 'x')} wall "
             f"(target >= {TARGETS['full_speedup_vs_gradcheck_slow']:g}x)"),
            ("fd", "max norm-wise rel. error vs autograd", _fmt(fd["max_norm_rel_err"]), "target <= 1e-8"),
            ("fd", "directional screen (correct grads, " + ("compiled" if fd.get("screen_compiled") else "numpy") + ")",
             _fmt(fd["screen_seconds"] * 1e3, " ms"),
             f"gradcheck fast {_fmt(fd['gradcheck_fast_seconds'] * 1e3, ' ms')}: "
             f"{_fmt(fd['screen_speedup_vs_gradcheck_fast'], 'x')} CPU, "
             f"{_fmt(fd['screen_speedup_vs_gradcheck_fast_wall'], 'x')} wall "
             f"(target >= {TARGETS['screen_speedup_vs_gradcheck_fast']:g}x, cold too); "
             f"interleaved (cold) {_fmt(fd['screen_cold_seconds'] * 1e3, ' ms')} vs "
             f"{_fmt(fd['gradcheck_fast_cold_seconds'] * 1e3, ' ms')}: "
             f"{_fmt(fd['screen_speedup_vs_gradcheck_fast_cold'], 'x')} CPU; passed {_fmt(fd['screen_passed'])}"),
            ("fd", "screen floor, cold (reported)", _fmt(fd.get("screen_floor_cold_cpu_seconds", 0) * 1e3, " ms"),
             "the least any screen must do here (the first layer's forward, one read of each claimed gradient), "
             f"right after gradcheck fast: {_fmt(100 * fd.get('screen_floor_share_of_cold_budget', 0), '%')} "
             "of the cold budget"),
            ("fd", "screen + localise, b1 element 1% off", _fmt(fd["localise_seconds"] * 1e3, " ms"),
             f"gradcheck fast (fails, slow Jacobian) {_fmt(fd['gradcheck_fast_bug_seconds'], ' s')}: "
             f"{_fmt(fd['localise_speedup_vs_gradcheck_fast'], 'x')} CPU, "
             f"{_fmt(fd['localise_speedup_vs_gradcheck_fast_wall'], 'x')} wall "
             f"(target >= {TARGETS['localise_speedup_vs_gradcheck_fast']:g}x); "
             f"named {fd['localised']['failing_tensors']} {fd['localised']['index']} "
             f"(planted {fd['planted']['tensor']} {fd['planted']['index']})"),
        ]
    cv = (fd or {}).get("conv")
    if cv:
        rows.append(("fd", "conv: screen + localise, one W1 element off", _fmt(cv["seconds"], " s"),
                     f"{cv['net']}, batch {cv['batch']}: named {cv['failing_tensors']} {cv['localised']} (planted "
                     f"{cv['planted']}); localise alone {_fmt(cv['localise_only_seconds'], ' s')} "
                     f"(target < {TARGETS['conv_localise_seconds']:g} s)"))
    ot = (fd or {}).get("oracle_tiny")
    if ot:
        rows.append(("fd", f"torch oracle, {ot['net']} batch {ot['batch']}",
                     _fmt(ot["oracle_cpu_seconds"] * 1e3, " ms CPU"),
                     f"one bare autograd forward/backward {_fmt(ot['autograd_cpu_seconds'] * 1e3, ' ms')}: "
                     f"{_fmt(ot['oracle_over_autograd'], 'x')} (target <= {TARGETS['oracle_over_autograd_tiny']:g}x)"))
    ep = results.get("epoch")
    if ep:
        for bs in ep["batches"]:
            r = ep[f"batch_{bs}"]
            rows.append(("epoch", f"one epoch, {ep['samples']} samples, mini-batch {bs}",
                         f"per-sample {_fmt(r['per_sample_seconds'], ' s')}",
                         f"full-matrix {_fmt(r['matrix_seconds'], ' s')} "
                         f"({_fmt(r['matrix_speedup_vs_per_sample'], 'x')} faster; seed claims 5x), "
                         f"layers {_fmt(r['layer_seconds'], ' s')}, "
                         f"torch eager {_fmt(r['torch_seconds'], ' s')}"))
        rows.append(("epoch", f"full-matrix backprop, batch {ep['big_batch']}", _fmt(ep["matrix_gflops"], " GFLOP/s"),
                     f"numpy GEMM peak {_fmt(ep['gemm_peak_gflops'], ' GFLOP/s')} (1 thread): "
                     f"{_fmt(100 * ep['matrix_gemm_fraction_of_peak'], '%')} of peak; all threads "
                     f"{_fmt(ep.get('gemm_peak_gflops_all_threads'), ' GFLOP/s')}"))
    va = results.get("validate")
    if va:
        rows.append(("validate", f"bpcheck validate {va['file']} (default budget)",
                     _fmt(va["seconds"], " s") if va["seconds"] is not None else va["status"],
                     f"python -c 'import torch': {_fmt(va['torch_import_seconds'], ' s')}"
                     + (f": {_fmt(va.get('validate_over_torch_import'), 'x')} (target <= "
                        f"{TARGETS['validate_over_torch_import']:g}x); CPU {_fmt(va.get('cpu_seconds'), ' s')} vs "
                        f"{_fmt(va.get('torch_import_cpu_seconds'), ' s')}: "
                        f"{_fmt(va.get('validate_over_torch_import_cpu'), 'x')}; {va['status']}"
                        if va.get("seconds") is not None else "")))
    gr = results.get("grade")
    if gr:
        rows.append(("grade", f"bpcheck grade, {gr['submissions']} submissions, {gr['workers']} workers, cases "
                              f"{gr['cases']}", _fmt(gr["seconds"], " s"),
                     f"{_fmt(gr['seconds_per_submission'], ' s')} each, 500 would take "
                     f"{_fmt(gr['projected_500_seconds'] / 60, ' min')} (target <= "
                     f"{TARGETS['grade_500_seconds'] / 60:g} min); "
                     f"CPU {_fmt(gr.get('cpu_seconds_per_submission'), ' s')} each; "
                     f"max RSS {_fmt(gr['max_rss_mb'], ' MB')}; "
                     f"verdicts agree with the fixtures' expected ones: "
                     f"{_fmt(100 * (gr['agreement_accept_reject'] or 0), '%')}"))
    head = f"bpcheck bench, {results['date']}, {results['machine']['cpus']} CPUs, {results['machine']['processor']}"
    return head + "\n" + tabulate(rows, headers=["section", "what", "ours", "next to"], tablefmt="github")


def _json_summary(results: dict) -> dict:
    """The results with the documented dotted keys guaranteed (None where a section did not run)."""
    out = dict(results)
    for section, keys in {
        "fd": ["full_speedup_vs_gradcheck_slow", "screen_speedup_vs_gradcheck_fast",
               "localise_speedup_vs_gradcheck_fast", "max_norm_rel_err"],
        "epoch": ["matrix_speedup_vs_per_sample", "matrix_gemm_fraction_of_peak"],
        "validate": ["seconds", "torch_import_seconds", "validate_over_torch_import"],
        "grade": ["seconds", "projected_500_seconds", "max_rss_mb"],
    }.items():
        sec = dict(out.get(section) or {})
        for k in keys:
            sec.setdefault(k, None)
        out[section] = sec
    return out


def _main(args) -> int:
    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown or not sections:
        print(f"bpcheck bench: unknown section(s) {unknown or sections}; choose from {', '.join(SECTIONS)}",
              file=sys.stderr)
        return 2
    if args.grade_submissions < 1:
        print("bpcheck bench: --grade-submissions must be at least 1", file=sys.stderr)
        return 2
    results = run(sections, grade_submissions=args.grade_submissions)
    if args.json:
        print(json.dumps(_json_summary(results), indent=2, default=float))
    else:
        print(format_table(results))
        print(f"(total {results['total_seconds']:.0f} s)")
    met = [results["fd"]["targets_met"]] if "fd" in results else []
    met += [results[s]["target_met"] for s in ("validate", "grade") if s in results and "target_met" in results[s]]
    return 0 if all(met) else 1
