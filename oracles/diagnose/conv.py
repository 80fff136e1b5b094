"""Diagnosis hypotheses for convolution and pooling: which classic conv/pool bug the numbers are.

``conv_hypotheses(case, observed, expected, grad_bad)`` (called by oracles.diagnose.core for layer Specs)
recomputes, for the Case's first conv or pool layer, what each classic buggy backward would return
(oracles/conv_bug_models.py: flipped kernel, stride ignored, overlaps overwritten, every window element
routed, window offset forgotten, average not divided) and names the one the observation equals; reads the
shape findings (dx with the padding still on, dx cropped to nothing by ``[pad:-pad]`` at pad = 0, db not
summed over positions, a net sizing W2 before the pool); and tests the layout bugs of the im2col form (a
dW reshaped without its transpose, col2im skipping im2col's transpose, pooling's dout in the wrong
order) and a conv weight left out of the L2 gradient.

The upstream gradient at the conv or pool layer's output comes from torch (the oracle's twins), so the
same hypotheses serve a single layer, a sandwich and a whole net. Every "equal" is oracles.compare's.
"""

from __future__ import annotations

import re

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import BUG_CLASSES, Diagnosis, _close
from oracles.observation import Observation

__all__ = ["CONV_BUG_CLASSES", "conv_hypotheses"]

CONV_BUG_CLASSES = {
    "conv_flipped_kernel": "conv backward uses the 180-degree-rotated kernel",
    "stride_backward": "the backward pass ignores the stride",
    "overlap_overwrite": "gradients assigned (=) per window instead of accumulated (+=)",
    "pad_not_cropped": "dx returned with the zero padding still on",
    "pad_zero_crop": "dx cropped with [pad:-pad]: empty when pad = 0",
    "db_positions": "conv db not summed over the output positions",
    "padding_only": "right only without padding",
    "pool_route_all": "max-pool gradient routed to every element of the window",
    "pool_route_wrong": "max-pool gradient routed to the wrong element",
    "avgpool_scale": "average-pool gradient not divided by the window size",
    "reshape_order": "a gradient reshaped without the transpose its layout needs",
    "im2col_layout": "col2im does not undo im2col's layout",
    "param_shape": "a parameter created with the wrong shape",
    "bias_per_element": "the conv bias added to every element of the window before the sum",
    "bias_missing": "the conv forward never adds the bias",
    "window_range_short": "the window loop stops one window early: the last output row or column is never computed",
}
BUG_CLASSES.update(CONV_BUG_CLASSES)

_SHAPE = re.compile(r"has shape \(([\d, ]*)\); expected \(([\d, ]*)\)")


def _shapes(text: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    m = _SHAPE.search(text or "")
    if not m:
        return None
    def tup(s: str) -> tuple[int, ...]:
        return tuple(int(v) for v in s.replace(" ", "").split(",") if v)

    return tup(m.group(1)), tup(m.group(2))


def _first_spatial(case: Case):
    slots = case.spec.slots
    for s in slots:
        if s.layer.kind in ("conv", "max_pool", "avg_pool"):
            return s
    return None


def _from_errors(case: Case, observed: Observation, slot) -> list[Diagnosis]:
    out = []
    hp = slot.layer.hp
    pad = int(hp.get("pad", 0) or 0)
    got = _shapes(observed.errors.get("grad_x", ""))
    if got and slot.index == 0 and len(got[0]) == 4 and len(got[1]) == 4:
        (_, _, h, w), (_, _, H, W) = got
        if pad > 0 and (h, w) == (H + 2 * pad, W + 2 * pad):
            out.append(Diagnosis("pad_not_cropped", f"dx has shape {got[0]}: the padded input's; crop the "
                                 f"padding (dx_pad[:, :, {pad}:{pad}+H, {pad}:{pad}+W])", ("x",)))
        elif pad == 0 and 0 in (h, w):
            out.append(Diagnosis("pad_zero_crop", f"dx has shape {got[0]} at pad = 0: dx_pad[:, :, pad:-pad, "
                                 f"pad:-pad] is empty when pad = 0; crop with [pad:pad + H]", ("x",)))
    raised = " ".join(observed.errors.values())
    if pad == 0 and not out and re.search(r"from shape \(0, ?0|shape \(\d+, ?0, ?0", raised):
        out.append(Diagnosis("pad_zero_crop", "an empty (0 x 0) slice at pad = 0: dA_prev_pad[pad:-pad, pad:-pad] "
                             "is empty when pad = 0 (the notebook's hint); crop with [pad:pad + n_H_prev]", ("x",)))
    got = _shapes(observed.errors.get("grad_b", ""))
    if got and slot.layer.kind == "conv":
        _, Ho, Wo = slot.out_shape
        F = int(hp["filters"])
        if Ho * Wo > 1 and int(np.prod(got[0])) in (F * Ho * Wo, case.m * F * Ho * Wo):
            out.append(Diagnosis("db_positions", f"db has shape {got[0]}: summed over the batch but not over the "
                                 f"{Ho}x{Wo} output positions (b is added at every position)", (slot.params["b"],)))
    for text in observed.errors.values():
        m = re.search(r"stores (W\d+) with shape \(([\d, ]*)\).*needs \(([\d, ]*)\)", text or "")
        if m:
            out.append(Diagnosis("param_shape", f"{m.group(1)} is created as ({m.group(2)}) where the net needs "
                                 f"({m.group(3)}): sized for the wrong input (the pool halves H and W)",
                                 (m.group(1),)))
            break
    return out


def _upstream(case: Case, slot) -> np.ndarray | None:
    """dL/d(output of ``slot``) at the Case (torch float64, the oracle's twins)."""
    import torch

    from oracles.layers import Ctx, kind
    from oracles.torch_autograd import _per_sample_loss

    spec = case.spec
    a = torch.tensor(np.asarray(case.x, dtype=np.float64))
    params = {k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in case.params.items()}
    y = np.asarray(case.y)
    yt = torch.tensor(y) if spec.target == "labels" else torch.tensor(y.astype(np.float64))
    onehot = torch.tensor(case.onehot.astype(np.float64)) if spec.loss == "hinge" else None
    mark, z_last = None, None
    for s in spec.slots:
        k = kind(s.layer.kind)
        if k.activation:
            z_last = a
        a = k.torch(a, {sh: params[f] for sh, f in s.params.items()}, s.layer.hp, Ctx(mode=spec.mode))
        if s.index == slot.index:
            a = a.detach().requires_grad_(True)
            mark = a
    zL = z_last if kind(spec.sequence[-1].kind).activation else a
    loss = _per_sample_loss(spec, zL, a, yt, onehot).sum()
    if spec.reduction == "mean":
        loss = loss / case.m
    (g,) = torch.autograd.grad(loss, [mark])
    return g.numpy()


def _models(case: Case, slot, dout: np.ndarray, xkey: str | None = None) -> dict[str, tuple[str, dict]]:
    """bug class -> (sentence, the gradients that bug gives, by canonical key)."""
    from oracles.conv_bug_models import (
        CONV_MODELS,
        POOL_MODELS,
        avg_pool_backward_model,
        conv_backward_model,
        max_pool_backward_model,
    )
    from oracles.layers.conv import kernel

    hp = slot.layer.hp
    x_in = _layer_input(case, slot)
    stride = int(hp["stride"])
    out: dict[str, tuple[str, dict]] = {}
    xkey = xkey or ("x" if slot.index == 0 else None)
    if slot.layer.kind == "conv":
        w = np.asarray(case.params[slot.params["W"]], dtype=np.float64)
        pad = int(hp["pad"])
        for bug, text in CONV_MODELS.items():
            res = conv_backward_model(x_in, w, dout, stride, pad, bug)
            got = {slot.params["W"]: res["dw"]}
            if xkey and bug != "pad_not_cropped":
                got[xkey] = res["dx"]
            out[bug] = (text, got)
        if xkey:
            out["im2col_layout"] = ("col2im reshapes the columns as (N, C, FH, FW, out_h, out_w), skipping the "
                                    "transpose im2col made", {xkey: _col2im_no_transpose(x_in, w, dout, stride, pad)})
    elif xkey and slot.layer.kind == "max_pool":
        kh, kw = kernel(hp)
        for bug, text in POOL_MODELS.items():
            out[bug] = (text, {xkey: max_pool_backward_model(x_in, dout, kh, kw, stride, bug)})
        if stride > 1:
            out["stride_backward:pool"] = ("the backward pass starts window (i, j) at (i, j), not (i * stride, "
                                           "j * stride) (vert_start = h)",
                                           {xkey: _pool_stride_ignored(x_in, dout, kh, kw)})
        N, C, Ho, Wo = dout.shape
        mixed = dout.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2)  # dout read in (N, C, h, w) order as (N, h, w, C)
        if C > 1:
            out["pool_route_wrong:order"] = ("dout flattened in (N, C, h, w) order where the windows are in "
                                             "(N, h, w, C) order: each gradient lands in another channel's window",
                                             {xkey: max_pool_backward_model(x_in, mixed, kh, kw, stride)})
    elif xkey and slot.layer.kind == "avg_pool":
        kh, kw = kernel(hp)
        out["avgpool_scale"] = (f"each window's gradient not divided by its {kh * kw} elements (distribute_value "
                                f"hands every entry the whole dz)",
                                {xkey: avg_pool_backward_model(x_in.shape, dout, kh, kw, stride, scale=kh * kw)})
    return out


def _pool_behind_conv(case: Case, conv) -> dict:
    """A net's conv > relu > pool: the pool bugs' models carried back through the relu and the (right) conv,
    so a pooling bug inside a whole net (SimpleConvNet, ThreeLayerConvNet) is named from dW1, db1, dx."""
    from oracles.conv_bug_models import conv_backward_model

    slots = case.spec.slots
    i = conv.index
    if conv.layer.kind != "conv" or i + 2 >= len(slots) or slots[i + 1].layer.kind != "relu" or \
            slots[i + 2].layer.kind not in ("max_pool", "avg_pool"):
        return {}
    pool = slots[i + 2]
    inner = _models(case, pool, _upstream(case, pool), xkey="s")
    z = _layer_input(case, slots[i + 1])
    x = _layer_input(case, conv)
    w = np.asarray(case.params[conv.params["W"]], dtype=np.float64)
    hp = conv.layer.hp
    out = {}
    for bug, (text, got) in inner.items():
        dz = got["s"] * (z > 0)
        res = conv_backward_model(x, w, dz, int(hp["stride"]), int(hp["pad"]))
        grads = {conv.params["W"]: res["dw"], conv.params["b"]: res["db"]}
        if i == 0:
            grads["x"] = res["dx"]
        out[bug] = (f"{text} (in the pooling layer behind the conv; traced back through it)", grads)
    return out


def _output_patterns(case: Case, observed: Observation, expected: Observation, slot) -> list[Diagnosis]:
    """A single conv or pool layer's forward output: the bias counted once per window element
    (np.sum(a_slice * W + b)), the bias never added, or the window loop stopping one window short."""
    if slot.index != 0 or observed.out is None or expected.out is None:
        return []
    dtype = case.spec.dtype
    e = np.asarray(expected.out, dtype=np.float64)
    if e.shape != np.shape(observed.out) or _close(observed.out, e, dtype):
        return []
    short = _last_window_skipped(observed.out, e, dtype)
    if short:
        return [short]
    if slot.layer.kind != "conv":
        return []
    from oracles.layers.conv import kernel

    kh, kw = kernel(slot.layer.hp)
    n = kh * kw * int(slot.in_shape[0])
    b = np.asarray(case.params[slot.params["b"]], dtype=np.float64)
    if n > 1 and np.any(b) and _close(observed.out, e + (n - 1) * b[None, :, None, None], dtype):
        return [Diagnosis("bias_per_element", f"the output is the right one plus {n - 1} b: b is added to each of "
                          f"the {n} elements of the window before the sum (np.sum(a_slice * W + b)); add it once, "
                          f"after the sum", ("out",))]
    if np.any(b) and _close(observed.out, e - b[None, :, None, None], dtype):
        return [Diagnosis("bias_missing", "the output is the right one minus b: the forward pass never adds the "
                          "bias (add b[f] to every output position of filter f)", ("out",))]
    return []


def _last_window_skipped(o, e: np.ndarray, dtype) -> Diagnosis | None:
    """The output right except its last row and/or column of windows, left at zero: the window loop runs
    range(0, H - k, stride), one window short of range(0, H - k + 1, stride) (seen in a real pooling file)."""
    o = np.asarray(o, dtype=np.float64)
    spatial = list(range(2, e.ndim))
    for axes in ([a] for a in spatial) if len(spatial) == 1 else ([spatial[0]], [spatial[1]], spatial):
        if any(e.shape[a] < 2 for a in axes):
            continue
        cut = e.copy()
        for a in axes:
            idx = [slice(None)] * e.ndim
            idx[a] = -1
            cut[tuple(idx)] = 0.0
        if _close(o, cut, dtype) and not _close(cut, e, dtype):
            which = " and ".join({2: "row", 3: "column"}.get(a, "position") if e.ndim == 4 else "position"
                                 for a in axes)
            return Diagnosis("window_range_short", f"the output's last {which} of windows is 0: the window loop "
                             f"stops one window early (range(0, H - k, stride) where the windows run to "
                             f"range(0, H - k + 1, stride)); the output size formula is right, the loop is not",
                             ("out",))
    return None


def _pool_stride_ignored(x, dout, kh: int, kw: int) -> np.ndarray:
    """dx of a max-pool backward whose windows start at (h, w), not (h * stride, w * stride): each takes its
    mask (every tied maximum) from that wrong window (deeplearning.ai's vert_start = h, seen in a real file)."""
    dx = np.zeros(x.shape)
    _, _, Ho, Wo = dout.shape
    for i in range(Ho):
        for j in range(Wo):
            win = x[:, :, i:i + kh, j:j + kw]
            mask = win == win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i:i + kh, j:j + kw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


def _layer_input(case: Case, slot) -> np.ndarray:
    from oracles.layers import Ctx, kind

    a = np.asarray(case.x, dtype=np.float64)
    for s in case.spec.slots[:slot.index]:
        p = {sh: np.asarray(case.params[f], dtype=np.float64) for sh, f in s.params.items()}
        a = kind(s.layer.kind).numpy(a, p, s.layer.hp, Ctx(mode=case.spec.mode))
    return a


def _col2im_no_transpose(x, w, dout, stride: int, pad: int) -> np.ndarray:
    """dx of Saito's Convolution when col2im reshapes (N*oh*ow, C*FH*FW) straight to (N, C, FH, FW, oh, ow)."""
    N, C, H, W = x.shape
    FN, _, FH, FW = w.shape
    _, _, oh, ow = dout.shape
    dcol = dout.transpose(0, 2, 3, 1).reshape(-1, FN) @ w.reshape(FN, -1)
    col = dcol.reshape(N, C, FH, FW, oh, ow)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1))
    for y in range(FH):
        for xx in range(FW):
            img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride] += col[:, :, y, xx, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


def _layout_patterns(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    out = []
    dtype = case.spec.dtype
    for k in grad_bad:
        if not k.startswith("W") or k not in observed.grads or k not in expected.grads:
            continue
        e = np.asarray(expected.grads[k], dtype=np.float64)
        o = observed.grads[k]
        if e.ndim == 4:
            swapped = e.reshape(e.shape[0], -1).T.reshape(e.shape)
            if not _close(swapped, e, dtype) and _close(o, swapped, dtype):
                out.append(Diagnosis("reshape_order", f"d{k} is (col.T @ dout) reshaped to {e.shape} without the "
                                     f"transpose: its (C*FH*FW, FN) layout needs .T (or .transpose(1, 0)) first",
                                     (k,)))
        reg = case.spec.reg
        if reg and k in case.spec.regularised():
            w = reg * np.asarray(case.params[k], dtype=np.float64)
            if _close(o, e - w, dtype):
                out.append(Diagnosis("reg_scale", f"d{k} lacks reg * {k}: the loss has 0.5 reg ||{k}||^2 but its "
                                     f"gradient does not", (k,)))
            elif _close(o, e + w, dtype):
                out.append(Diagnosis("reg_scale", f"d{k} has reg * {k} twice", (k,)))
    return out


def conv_hypotheses(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    """The conv/pool hypotheses that fit this Case's failing gradients (empty for Specs without them)."""
    if case.spec.is_mlp:
        return []
    slot = _first_spatial(case)
    if slot is None:
        return _conv1d(case, observed, expected, grad_bad)
    out = _from_errors(case, observed, slot)
    out += _layout_patterns(case, observed, expected, grad_bad)
    out += _output_patterns(case, observed, expected, slot)
    bad = [k for k in grad_bad if k in observed.grads]
    if not bad:
        return out
    try:
        dout = _upstream(case, slot)
        models = _models(case, slot, dout)
    except Exception:  # noqa: BLE001 - a hypothesis that cannot be tested is skipped
        return out
    models.update(_pool_behind_conv(case, slot))
    dtype = case.spec.dtype
    for bug, (text, got) in models.items():
        keys = [k for k in got if k in observed.grads and k in expected.grads]
        if not keys or not any(k in bad for k in keys):
            continue
        if all(_close(got[k], expected.grads[k], dtype) for k in keys):
            continue  # this input cannot tell the bug from the right answer
        if all(_close(observed.grads[k], got[k], dtype) for k in keys):
            cls = "stride_backward" if bug.startswith("stride_backward") else bug.split(":")[0]
            out.append(Diagnosis(cls, f"{text} (the numbers are exactly that bug's)", tuple(keys)))
            break
    return out


def _conv1d(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    """A 1-d convolution alone (MyTorch's Conv1d_stride1) without padding: the 2-d bug models on a height-1
    image (with padding the 2-d models would pad the height too, so none is claimed there)."""
    spec = case.spec
    if len(spec.layers) != 1 or spec.layers[0].kind != "conv1d" or spec.loss != "dot":
        return []
    slot, hp = spec.slots[0], spec.layers[0].hp
    if int(hp["pad"]) or not any(k in observed.grads for k in grad_bad):
        return []
    from oracles.conv_bug_models import CONV_MODELS, conv_backward_model

    x = np.asarray(case.x, dtype=np.float64)[:, :, None, :]
    w = np.asarray(case.params[slot.params["W"]], dtype=np.float64)[:, :, None, :]
    dout = np.asarray(case.y, dtype=np.float64)[:, :, None, :]
    for bug, text in CONV_MODELS.items():
        if bug in ("pad_not_cropped", "stride_backward_rows"):
            continue
        res = conv_backward_model(x, w, dout, int(hp["stride"]), 0, bug)
        got = {"x": res["dx"][:, :, 0, :], slot.params["W"]: res["dw"][:, :, 0, :]}
        keys = [k for k in got if k in observed.grads and k in expected.grads]
        if not keys or all(_close(got[k], expected.grads[k], spec.dtype) for k in keys):
            continue
        if all(_close(observed.grads[k], got[k], spec.dtype) for k in keys):
            cls = "stride_backward" if bug.startswith("stride_backward") else bug
            return [Diagnosis(cls, f"{text} (the numbers are exactly that bug's)", tuple(keys))]
    return []


def _conv_pads(case: Case) -> list[int]:
    # campaign summaries hand stand-ins that carry only target, m, tags and x: no layers, so no conv
    if getattr(case.spec, "is_mlp", True):
        return []
    return [int(s.layer.hp["pad"]) for s in case.spec.slots if s.layer.kind == "conv"]


def conv_conditions(failed: list, passed: list[Case]) -> list[Diagnosis]:
    """Across Cases: a conv bug that shows only with padding (or only without it), whatever each Case said."""
    fails = [c for c, _ in failed]
    if not fails or not all(_conv_pads(c) for c in fails):
        return []
    conv_passed = [c for c in passed if _conv_pads(c)]
    out = []
    for cls, test, msg in (
        ("pad_zero_crop", lambda c: max(_conv_pads(c)) == 0,
         "fails only when pad = 0 (padded convolutions pass): a crop such as dx_pad[:, :, pad:-pad, pad:-pad] is "
         "empty when pad = 0; crop with [pad:pad + H]"),
        ("padding_only", lambda c: min(_conv_pads(c)) > 0,
         "fails only with padding (pad = 0 passes): the padding is handled wrong (e.g. dW taken from the unpadded "
         "input)"),
    ):
        if all(test(c) for c in fails) and any(not test(c) for c in conv_passed):
            n_other = sum(not test(c) for c in conv_passed)
            out.append(Diagnosis(cls, f"{msg}: all {len(fails)} failing Cases have it and the {n_other} Cases "
                                 f"without it pass", (), {"failing": len(fails), "passing_without": n_other}))
    return out
