"""Plots for report.html, as base64 PNG strings (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import base64
import io
import math

import numpy as np

__all__ = ["error_distribution_png", "difference_heatmap_png", "side_by_side_png"]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _per_subject_oracle(results: dict) -> dict[str, dict[str, dict]]:
    """subject -> oracle -> histogram summed over that subject's checks."""
    out: dict[str, dict[str, dict]] = {}
    for c in results["checks"]:
        for oracle, r in c.get("oracles", {}).items():
            h = r.get("histogram")
            if not h:
                continue
            acc = out.setdefault(c["subject"], {}).setdefault(
                oracle, {"log10_edges": h["log10_edges"], "counts": [0] * len(h["counts"]), "zeros": 0,
                         "below": 0, "above": 0})
            acc["counts"] = [a + b for a, b in zip(acc["counts"], h["counts"])]
            for k in ("zeros", "below", "above"):
                acc[k] += h[k]
    return out


def error_distribution_png(results: dict) -> str | None:
    """One panel per subject: per-case norm-wise relative errors, one step line per oracle, log x axis."""
    data = _per_subject_oracle(results)
    if not data:
        return None
    plt = _plt()
    n = len(data)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 2.9 * rows), squeeze=False)
    colors = {"torch": "#1f77b4", "fd": "#ff7f0e"}
    for ax, (subject, per_oracle) in zip(axes.flat, data.items()):
        for oracle, h in per_oracle.items():
            edges = 10.0 ** np.asarray(h["log10_edges"], dtype=float)
            extra = f", {h['zeros']} exact" if h["zeros"] else ""
            extra += f", {h['above']} >= 1e{h['log10_edges'][-1]} or NaN" if h["above"] else ""
            ax.stairs(h["counts"], edges, label=f"{oracle}{extra}", color=colors.get(oracle), linewidth=1.6)
        ax.set_xscale("log")
        ax.set_title(subject, fontsize=8)
        ax.set_xlabel("norm-wise relative error", fontsize=8)
        ax.set_ylabel("checks x cases", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def difference_heatmap_png(tensor: dict) -> str | None:
    """actual - expected as a diverging heat map (0 is white): a transposed or wrong row shows at a glance."""
    diff = tensor.get("difference")
    shape = tensor.get("difference_shape")
    if not diff or not shape:
        return None
    a = np.array([np.nan if v is None else v for v in diff], dtype=float).reshape(shape)
    if a.ndim == 0:
        return None
    if a.ndim == 1:
        a = a[None, :]
    elif a.ndim > 2:
        a = a.reshape(a.shape[0], -1)
    plt = _plt()
    finite = np.abs(a[np.isfinite(a)])
    lim = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    h, w = a.shape
    fig, ax = plt.subplots(figsize=(min(7.0, 1.6 + 0.35 * w), min(6.0, 1.2 + 0.35 * h)))
    im = ax.imshow(a, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_title(f"{tensor['tensor']}: actual - expected", fontsize=8)
    ax.set_xlabel("column", fontsize=7)
    ax.set_ylabel("row", fontsize=7)
    ax.tick_params(labelsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8).ax.tick_params(labelsize=6)
    return _png(fig)


def _as2d(values, shape) -> np.ndarray | None:
    a = np.array([np.nan if v is None else v for v in values], dtype=float).reshape(shape)
    if a.ndim == 0:
        return None
    return a[None, :] if a.ndim == 1 else a.reshape(a.shape[0], -1)


def side_by_side_png(tensor: dict) -> str | None:
    """Shapes differ (transposed, not summed over the batch): actual and expected next to each other."""
    if not tensor.get("actual") or not tensor.get("expected"):
        return None
    a = _as2d(tensor["actual"], tensor["actual_shape"])
    e = _as2d(tensor["expected"], tensor["expected_shape"])
    if a is None or e is None:
        return None
    plt = _plt()
    both = np.concatenate([np.abs(a[np.isfinite(a)]), np.abs(e[np.isfinite(e)])])
    lim = float(both.max()) if both.size and both.max() > 0 else 1.0
    w = a.shape[1] + e.shape[1]
    h = max(a.shape[0], e.shape[0])
    fig, axes = plt.subplots(1, 2, figsize=(min(9.0, 2.4 + 0.35 * w), min(6.0, 1.4 + 0.35 * h)))
    for ax, arr, what in ((axes[0], a, "actual"), (axes[1], e, "expected")):
        im = ax.imshow(arr, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
        ax.set_title(f"{tensor['tensor']} {what} {tuple(tensor[what + '_shape'])}", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.colorbar(im, ax=list(axes), shrink=0.8).ax.tick_params(labelsize=6)
    return _png(fig)
