"""CS231n assignment 2's convolution entry points (see conv_entries for the shared machinery).

* ``fn:conv`` / ``fn:conv_fast``: ``conv_forward_naive(x, w, b, conv_param) -> (out, cache)``,
  ``conv_backward_naive(dout, cache) -> (dx, dw, db)`` (and the ``_fast`` pair of fast_layers.py);
  ``conv_param = {'stride': s, 'pad': p}``.
* ``fn:max_pool`` / ``fn:max_pool_fast``: ``max_pool_forward_naive(x, pool_param) -> (out, cache)``,
  ``max_pool_backward_naive(dout, cache) -> dx``; ``pool_param = {'pool_height', 'pool_width', 'stride'}``.
* ``fn:conv_relu`` / ``fn:conv_relu_pool``: the sandwiches of layer_utils.py.
* ``ThreeLayerConvNet``: conv (stride 1, pad (filter_size - 1) // 2) - relu - 2x2 max pool - affine - relu
  - affine - softmax; ``net.params`` W1 (F, C, HH, WW), W2 (D, H), W3 (H, K) are replaced; ``loss(X, y)
  -> (loss, grads)``.
"""

from __future__ import annotations

import numpy as np

from oracles.layers.conv import kernel
from oracles.styles._common import Recorder, Snapshot, accepts, get
from oracles.styles.conv_entries import BWD, FWD, Entry, function_pair, layer_space, net_space, pair, register

__all__ = ["pool_param"]

_SQUARE_SAME = (("conv", "kh", 3), ("conv", "kw", None), ("conv", "stride", 1), ("conv", "pad", 1),
                ("max_pool", "kh", 2), ("max_pool", "kw", None), ("max_pool", "stride", 2))
_CNN_SHAPES = ((3, 4, 4), (1, 6, 6), (2, 4, 6), (2, 6, 4))
# The course's contract for its naive and fast layers: windows tile the padded input exactly ("you can assume
# (H - pool_height) % stride == 0"; conv's 1 + (H + 2 * pad - HH) / stride; fast_layers.py asserts both).
# Correct files assert it, so only such shapes are valid inputs (oracles/layers/conv.py: fit_window).
_EXACT = (("conv", "fit", "exact"), ("max_pool", "fit", "exact"))


def pool_param(hp) -> dict:
    kh, kw = kernel(hp)
    return {"pool_height": kh, "pool_width": kw, "stride": int(hp["stride"])}


def _watch_in(rec: Recorder, snap: Snapshot, what: str) -> None:
    for path in snap.changed():
        rec.mutated("x" if "'x'" in path else ("dout" if "'dout'" in path else "caches"))
        rec.note(f"{what} wrote into its argument {path}")


def _conv_core(fwd_name: str, bwd_name: str, *, pool: bool = False, relu: bool = False):
    def core(impl, rec, case, x, p, hp, dout, *, loss_only):
        fwd, bwd = function_pair(impl, fwd_name, bwd_name)
        args = [x, p["W"], p["b"], {"stride": int(hp["stride"]), "pad": int(hp["pad"])}]
        shown = "x, w, b, conv_param"
        if pool:
            args.append(pool_param(case.spec.slots[2].layer.hp))
            shown += ", pool_param"
        snap = Snapshot({"x": x, "w": p["W"], "b": p["b"]}, "in")
        ok, ret = rec.call(FWD, f"{fwd_name}({shown})", fwd, *args)
        _watch_in(rec, snap, fwd_name)
        ret = pair(rec, FWD, fwd_name, ret, 2, "(out, cache)") if ok else None
        if ret is None:
            return None
        res = {"out": ret[0]}
        if loss_only:
            return res
        snap = Snapshot({"dout": dout, "cache": ret[1]}, "in")
        ok, back = rec.call(BWD, f"{bwd_name}(dout, cache)", bwd, dout, ret[1])
        _watch_in(rec, snap, bwd_name)
        back = pair(rec, BWD, bwd_name, back, 3, "(dx, dw, db)") if ok else None
        if back is not None:
            res.update(x=back[0], W1=back[1], b1=back[2])
        return res

    return core


def _pool_dx(fwd_name: str, bwd_name: str):
    def dx_of(impl, rec, x, dout, kh, kw, stride):
        fwd, bwd = function_pair(impl, fwd_name, bwd_name)
        pp = {"pool_height": kh, "pool_width": kw, "stride": stride}
        ok, ret = rec.call(FWD, f"{fwd_name}(x, pool_param)", fwd, x, pp)
        ret = pair(rec, FWD, fwd_name, ret, 2, "(out, cache)") if ok else None
        if ret is None:
            return None, None
        snap = Snapshot({"dout": dout, "cache": ret[1]}, "in")
        ok, dx = rec.call(BWD, f"{bwd_name}(dout, cache)", bwd, dout, ret[1])
        _watch_in(rec, snap, bwd_name)
        return ret[0], (dx if ok else None)

    def core(impl, rec, case, x, p, hp, dout, *, loss_only):
        kh, kw = kernel(hp)
        snap = Snapshot({"x": x}, "in")
        out, dx = dx_of(impl, rec, x, dout, kh, kw, int(hp["stride"]))
        _watch_in(rec, snap, fwd_name)
        return None if out is None else {"out": out, "x": None if loss_only else dx}

    def probe(impl, rec, x, dout, kh, kw, stride):
        return dx_of(impl, rec, x, dout, kh, kw, stride)[1]

    return core, probe


def _pairs(fwd: str, bwd: str):
    return lambda impl: function_pair(impl, fwd, bwd) is not None


for _suffix, _tag in (("naive", ""), ("fast", "_fast")):
    _f, _b = f"conv_forward_{_suffix}", f"conv_backward_{_suffix}"
    register(Entry("cs231n", f"fn:conv{_tag}", _pairs(_f, _b), lambda impl: layer_space("conv", fixed=_EXACT),
                   _conv_core(_f, _b), (_f, _b)))
    _f, _b = f"max_pool_forward_{_suffix}", f"max_pool_backward_{_suffix}"
    _core, _probe = _pool_dx(_f, _b)
    register(Entry("cs231n", f"fn:max_pool{_tag}", _pairs(_f, _b), lambda impl: layer_space("max_pool", fixed=_EXACT),
                   _core, (_f, _b), pool=_probe))

register(Entry("cs231n", "fn:conv_relu", _pairs("conv_relu_forward", "conv_relu_backward"),
               lambda impl: layer_space("conv>relu", fixed=_EXACT),
               _conv_core("conv_relu_forward", "conv_relu_backward", relu=True),
               ("conv_relu_forward", "conv_relu_backward")))
register(Entry("cs231n", "fn:conv_relu_pool", _pairs("conv_relu_pool_forward", "conv_relu_pool_backward"),
               lambda impl: layer_space("conv>relu>max_pool", fixed=_EXACT),
               _conv_core("conv_relu_pool_forward", "conv_relu_pool_backward", pool=True),
               ("conv_relu_pool_forward", "conv_relu_pool_backward")))


# ---- ThreeLayerConvNet


def _cnn_class(impl):
    cls = get(impl, "ThreeLayerConvNet")
    return cls if isinstance(cls, type) and callable(getattr(cls, "loss", None)) else None


_FAMS = ("loss", "grad_W", "grad_b")


def _build(cls, case, rec):
    spec = case.spec
    sl = spec.slots
    values = {"input_dim": tuple(spec.input_shape), "num_filters": int(sl[0].layer.hp["filters"]),
              "filter_size": kernel(sl[0].layer.hp)[0], "hidden_dim": int(sl[3].layer.hp["out"]),
              "num_classes": int(sl[5].layer.hp["out"])}
    if all(accepts(cls.__init__, k) for k in values):
        args, kw = (), dict(values)
    else:
        args, kw = tuple(values.values()), {}
    for k, v in (("reg", spec.reg), ("dtype", np.dtype(spec.dtype).type)):
        if accepts(cls.__init__, k):
            kw[k] = v
    ok, net = rec.call(_FAMS, "ThreeLayerConvNet(...)", cls, *args, **kw)
    return net if ok else None


def _cnn_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    net = _build(_cnn_class(impl), case, rec)
    if net is None:
        return None
    params = getattr(net, "params", None)
    if not isinstance(params, dict):
        rec.error(_FAMS, f"ThreeLayerConvNet.params is {type(params).__name__}; expected a dict W1, b1, ...")
        return None
    for k, v in case.params.items():
        v = case.typed(v)
        want = v.T.copy() if k in ("W2", "W3") else v.copy()
        old = params.get(k)
        if isinstance(old, np.ndarray) and old.size != want.size:
            rec.error(_FAMS, f"ThreeLayerConvNet(...) stores {k} with shape {old.shape}; this net (conv-relu-2x2 "
                             f"pool on {tuple(case.spec.input_shape)} images) needs {want.shape}")
            return None
        params[k] = want.reshape(old.shape) if isinstance(old, np.ndarray) else want
    if hasattr(net, "reg"):
        net.reg = case.spec.reg
    y = case.typed(case.y).copy()
    snap = Snapshot({"x": x, "y": y}, "in")
    ok, ret = rec.call(_FAMS, "ThreeLayerConvNet.loss(X, y)", net.loss, x, y)
    for path in snap.changed():
        rec.mutated("x" if "'x'" in path else "y")
    ret = pair(rec, _FAMS, "ThreeLayerConvNet.loss(X, y)", ret, 2, "(loss, grads)") if ok else None
    if ret is None:
        return None
    res = {"loss": ret[0]}
    if loss_only:
        return res
    grads = ret[1]
    if not isinstance(grads, dict):
        rec.error(("grad_W", "grad_b"), f"ThreeLayerConvNet.loss gave grads as {type(grads).__name__}; expected a dict")
        return res
    for k in case.spec.param_names():
        if k not in grads:
            rec.error("grad_b" if k[0] == "b" else "grad_W", f"ThreeLayerConvNet.loss grads have no {k!r}")
            continue
        g = grads[k]
        res[k] = np.asarray(g).T if k in ("W2", "W3") and np.ndim(g) == 2 else g
    dX = getattr(net, "dX", None)  # our reference keeps dLoss/dX for checkers
    if isinstance(dX, np.ndarray) and dX.shape == x.shape:
        res["x"] = dX
    return res


register(Entry("cs231n", "ThreeLayerConvNet", lambda impl: _cnn_class(impl) is not None,
               lambda impl: net_space("conv>relu>max_pool>affine>relu>affine", fixed=_SQUARE_SAME,
                                      shapes=_CNN_SHAPES),
               _cnn_core, ("ThreeLayerConvNet",), net=True))
