"""deeplearning.ai course 4 week 1 ("Convolution model - Step by Step") entry points.

Channels last: A_prev (m, n_H, n_W, n_C), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C); square windows;
``hparameters`` {'stride', 'pad'} for a convolution, {'f', 'stride'} for pooling. The driver transposes
to and from the canonical (m, C, H, W) layout.

* ``fn:conv``: ``conv_forward(A_prev, W, b, hparameters) -> (Z, cache)``, ``conv_backward(dZ, cache) ->
  (dA_prev, dW, db)``.
* ``fn:pool``: ``pool_forward(A_prev, hparameters, mode)`` / ``pool_backward(dA, cache, mode)``, max and
  average.
* the helpers on their own, each inside a loop of ours that makes it a layer: ``fn:zero_pad`` (its output),
  ``fn:conv_single_step`` (a convolution, one window and filter per call), ``fn:create_mask_from_window``
  (max-pool's dx, one window per call), ``fn:distribute_value`` (average-pool's dx, one window per call).
"""

from __future__ import annotations

import numpy as np

from oracles.layers.conv import kernel
from oracles.styles._common import Snapshot, accepts, get
from oracles.styles.conv_entries import BWD, FWD, Entry, function_pair, layer_space, pair, register

__all__ = ["to_nhwc", "to_nchw"]

_SQUARE = tuple((k, "kw", None) for k in ("conv", "max_pool", "avg_pool"))


def to_nhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a).transpose(0, 2, 3, 1))


def to_nchw(a):
    return np.asarray(a).transpose(0, 3, 1, 2) if isinstance(a, np.ndarray) and a.ndim == 4 else a


def _weights(p):
    """Canonical W (F, C, f, f), b (F,) -> the course's W (f, f, C, F), b (1, 1, 1, F)."""
    return np.ascontiguousarray(p["W"].transpose(2, 3, 1, 0)), p["b"].reshape(1, 1, 1, -1).copy()


def _w_back(dW):
    return dW.transpose(3, 2, 0, 1) if isinstance(dW, np.ndarray) and dW.ndim == 4 else dW


def _watch(rec, snap, what):
    for path in snap.changed():
        rec.mutated("x" if "'x'" in path else ("dout" if "'dout'" in path else "caches"))
        rec.note(f"{what} wrote into its argument {path}")


def _conv_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    fwd, bwd = function_pair(impl, "conv_forward", "conv_backward")
    A_prev = to_nhwc(x)
    W, b = _weights(p)
    hparameters = {"stride": int(hp["stride"]), "pad": int(hp["pad"])}
    snap = Snapshot({"x": A_prev, "W": W, "b": b}, "in")
    ok, ret = rec.call(FWD, "conv_forward(A_prev, W, b, hparameters)", fwd, A_prev, W, b, hparameters)
    _watch(rec, snap, "conv_forward")
    ret = pair(rec, FWD, "conv_forward", ret, 2, "(Z, cache)") if ok else None
    if ret is None:
        return None
    res = {"out": to_nchw(ret[0])}
    if loss_only:
        return res
    dZ = to_nhwc(dout)
    snap = Snapshot({"dout": dZ, "cache": ret[1]}, "in")
    ok, back = rec.call(BWD, "conv_backward(dZ, cache)", bwd, dZ, ret[1])
    _watch(rec, snap, "conv_backward")
    back = pair(rec, BWD, "conv_backward", back, 3, "(dA_prev, dW, db)") if ok else None
    if back is not None:
        db = back[2]
        if isinstance(db, np.ndarray) and db.shape == (1, 1, 1, p["b"].size):
            db = db.reshape(-1)  # the course's own b layout (1, 1, 1, n_C)
        res.update(x=to_nchw(back[0]), W1=_w_back(back[1]), b1=db)
    return res


def _mode_call(rec, families, what, fn, *args, mode):
    """fn(*args, mode=mode), or positionally when the file named the argument otherwise."""
    if accepts(fn, "mode"):
        return rec.call(families, what, fn, *args, mode=mode)
    return rec.call(families, what, fn, *args, mode)


def _pool_run(impl, rec, A_prev, dA, f, stride, mode, *, loss_only=False):
    fwd, bwd = function_pair(impl, "pool_forward", "pool_backward")
    hparameters = {"f": f, "stride": stride}
    ok, ret = _mode_call(rec, FWD, f'pool_forward(A_prev, hparameters, mode="{mode}")', fwd, A_prev, hparameters,
                         mode=mode)
    ret = pair(rec, FWD, "pool_forward", ret, 2, "(A, cache)") if ok else None
    if ret is None:
        return None, None
    if loss_only:
        return ret[0], None
    snap = Snapshot({"dout": dA, "cache": ret[1]}, "in")
    ok, dA_prev = _mode_call(rec, BWD, f'pool_backward(dA, cache, mode="{mode}")', bwd, dA, ret[1], mode=mode)
    _watch(rec, snap, "pool_backward")
    return ret[0], (dA_prev if ok else None)


def _pool_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    mode = "max" if case.spec.slots[0].layer.kind == "max_pool" else "average"
    A_prev = to_nhwc(x)
    snap = Snapshot({"x": A_prev}, "in")
    out, dx = _pool_run(impl, rec, A_prev, to_nhwc(dout), kernel(hp)[0], int(hp["stride"]), mode,
                        loss_only=loss_only)
    _watch(rec, snap, "pool_forward")
    return None if out is None else {"out": to_nchw(out), "x": to_nchw(dx)}


def _pool_probe(impl, rec, x, dout, kh, kw, stride):
    if kh != kw:
        return None
    return to_nchw(_pool_run(impl, rec, to_nhwc(x), to_nhwc(dout), kh, stride, "max")[1])


# ---- the helpers, each inside our loop


def _zero_pad_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    ok, out = rec.call("output", "zero_pad(X, pad)", get(impl, "zero_pad"), to_nhwc(x), int(hp["pad"]))
    return {"out": to_nchw(out)} if ok else None


def _positions(case, hp):
    kh, kw = kernel(hp)
    s = int(hp["stride"])
    _, Ho, Wo = case.spec.out_shape
    return [(i, j, slice(i * s, i * s + kh), slice(j * s, j * s + kw)) for i in range(Ho) for j in range(Wo)]


def _single_step_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    fn = get(impl, "conv_single_step")
    pad = int(hp["pad"])
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    W, b = p["W"], p["b"]
    out = np.zeros((case.m, *case.spec.out_shape))
    for n in range(case.m):
        for i, j, rows, cols in _positions(case, hp):
            a_slice = np.ascontiguousarray(xp[n, :, rows, cols].transpose(1, 2, 0))  # (f, f, n_C_prev)
            for c in range(W.shape[0]):
                ok, z = rec.call("output", "conv_single_step(a_slice_prev, W, b)", fn, a_slice,
                                 np.ascontiguousarray(W[c].transpose(1, 2, 0)), b[c].reshape(1, 1, 1).copy())
                if not ok:
                    return None
                v = rec.scalar("output", "conv_single_step(a_slice_prev, W, b)", z)
                if v is None:
                    return None
                out[n, c, i, j] = v
    return {"out": out}


def _window_core(name: str):
    def core(impl, rec, case, x, p, hp, dout, *, loss_only):
        if loss_only:
            return None
        fn = get(impl, name)
        kh, _ = kernel(hp)
        dx = np.zeros(x.shape, dtype=np.result_type(x, dout))
        for n in range(case.m):
            for c in range(x.shape[1]):
                for i, j, rows, cols in _positions(case, hp):
                    g = dout[n, c, i, j]
                    if name == "create_mask_from_window":
                        ok, mask = rec.call("grad_x", "create_mask_from_window(x)", fn, x[n, c, rows, cols].copy())
                        if isinstance(mask, np.ndarray) and mask.dtype == bool:
                            mask = mask.astype(np.float64)  # the course's x == np.max(x): a boolean mask
                        part = rec.array("grad_x", "create_mask_from_window(x)", mask, (kh, kh)) if ok else None
                        part = None if part is None else part * g
                    else:
                        ok, share = rec.call("grad_x", "distribute_value(dz, shape)", fn, g, (kh, kh))
                        part = rec.array("grad_x", "distribute_value(dz, shape)", share, (kh, kh)) if ok else None
                    if part is None:
                        return None
                    dx[n, c, rows, cols] += part
        return {"x": dx}

    return core


def _mask_probe(impl, rec, x, dout, kh, kw, stride):
    # the course's pool_backward routes through create_mask_from_window: the same loop, tie-rich inputs
    from oracles.case import Case, Spec
    from oracles.layers import Layer

    if kh != kw:
        return None
    spec = Spec(layers=(Layer.of("max_pool", kh=kh, stride=stride),), input_shape=x.shape[1:], loss="dot",
                target="dense", reduction="sum")
    case = Case(spec=spec, params={}, x=x, y=dout, lr=0.1, seed=0)
    res = _window_core("create_mask_from_window")(impl, rec, case, x, {}, spec.slots[0].layer.hp, dout,
                                                  loss_only=False)
    return None if res is None else res["x"]


def _has(*names):
    return lambda impl: all(callable(get(impl, n)) and not isinstance(get(impl, n), type) for n in names)


register(Entry("dlai", "fn:conv", _has("conv_forward", "conv_backward"),
               lambda impl: layer_space("conv", fixed=_SQUARE), _conv_core, ("conv_forward", "conv_backward")))
register(Entry("dlai", "fn:pool", _has("pool_forward", "pool_backward"),
               lambda impl: layer_space("max_pool", "avg_pool", fixed=_SQUARE), _pool_core,
               ("pool_forward", "pool_backward"), pool=_pool_probe))
register(Entry("dlai", "fn:zero_pad", _has("zero_pad"), lambda impl: layer_space("zero_pad"), _zero_pad_core,
               ("zero_pad",)))
register(Entry("dlai", "fn:conv_single_step", _has("conv_single_step"), lambda impl: layer_space("conv", fixed=_SQUARE),
               _single_step_core, ("conv_single_step",)))
register(Entry("dlai", "fn:create_mask_from_window", _has("create_mask_from_window"),
               lambda impl: layer_space("max_pool", fixed=_SQUARE), _window_core("create_mask_from_window"),
               ("create_mask_from_window",), pool=_mask_probe))
register(Entry("dlai", "fn:distribute_value", _has("distribute_value"),
               lambda impl: layer_space("avg_pool", fixed=_SQUARE), _window_core("distribute_value"),
               ("distribute_value",)))
