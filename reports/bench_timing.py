"""Timing helpers of ``bpcheck bench`` (reports/bench_cmd.py): best-of-N wall and CPU time, the
judged CPU-time ratios, and the synthetic MNIST-shaped data every section draws."""

from __future__ import annotations

import time

import numpy as np


def _best(f, repeats: int) -> float:
    """Minimum wall time of ``repeats`` calls: the least-disturbed run on a shared machine."""
    times = []
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def _timed(f) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    w, c = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - w, time.process_time() - c


def _best2(f, repeats: int) -> tuple[float, float]:
    """Best wall time and best CPU time over ``repeats`` calls."""
    runs = [_timed(f) for _ in range(max(1, repeats))]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def _ratios(out: dict, key: str, theirs: str, ours: str) -> None:
    """key: CPU-time ratio (judged); key + '_wall': wall-clock ratio (reported)."""
    out[key] = out[f"{theirs}_cpu_seconds"] / max(out[f"{ours}_cpu_seconds"], 1e-9)
    out[key + "_wall"] = out[f"{theirs}_seconds"] / out[f"{ours}_seconds"]


def _mnist_like(rng: np.random.Generator, n: int, n_in: int = 784, n_out: int = 10):
    """Synthetic MNIST-shaped data: pixels in [0, 1), one-hot digits."""
    x = rng.random((n, n_in))
    labels = rng.integers(0, n_out, n)
    y = np.zeros((n, n_out))
    y[np.arange(n), labels] = 1.0
    return x, y, labels


def _norm_rel(a: np.ndarray, b: np.ndarray) -> float:
    nb = float(np.sqrt(np.sum(b * b)))
    return float(np.sqrt(np.sum((a - b) ** 2))) / nb if nb > 0 else float(np.sqrt(np.sum(a * a)))
