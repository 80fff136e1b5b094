"""Saito (ゼロから作るDeep Learning, chapter 7) convolution entry points.

* ``Convolution``: ``Convolution(W, b, stride, pad)``, ``forward(x)``, ``backward(dout) -> dx``, then the
  layer's ``dW`` and ``db`` (W (FN, C, FH, FW), b (FN,)).
* ``Pooling``: ``Pooling(pool_h, pool_w, stride, pad=0)`` max-pooling, ``forward(x)``, ``backward(dout)``.
* ``fn:im2col``: the file's ``im2col``/``col2im`` inside the book's convolution (our glue around them):
  out = im2col(x) @ W.reshape(FN, -1).T + b, dx = col2im(dcol, ...).
* ``SimpleConvNet``: conv - relu - 2x2 pool - affine - relu - affine - softmax; ``params`` are written in
  place (the layers keep references to them); ``gradient(x, t) -> grads``, ``loss(x, t)``. The book sizes
  the pooled layer as filter_num * (conv_out / 2)^2 from the image height: square images with an even
  conv output (conv 3x3, pad 1, stride 1 here) keep its formula exact.
"""

from __future__ import annotations

import re

import numpy as np

from oracles.layers.conv import kernel
from oracles.styles._common import Snapshot, _signature, accepts, get
from oracles.styles.conv_entries import BWD, FWD, Entry, layer_space, net_space, register

__all__: list[str] = []

_NET_FIXED = (("conv", "kh", 3), ("conv", "kw", None), ("conv", "stride", 1), ("conv", "pad", 1),
              ("max_pool", "kh", 2), ("max_pool", "kw", None), ("max_pool", "stride", 2))
_NET_SHAPES = ((1, 4, 4), (2, 6, 6), (3, 8, 8), (1, 6, 6))


def _cls(impl, name: str, *methods: str):
    c = get(impl, name)
    return c if isinstance(c, type) and all(callable(getattr(c, m, None)) for m in methods) else None


def _watch(rec, snap, what):
    for path in snap.changed():
        rec.mutated("x" if "'x'" in path else "dout")
        rec.note(f"{what} wrote into its argument {path}")


def _layer_pass(rec, layer, name: str, x, dout, *, loss_only):
    snap = Snapshot({"x": x}, "in")
    ok, out = rec.call(FWD, f"{name}.forward(x)", layer.forward, x)
    _watch(rec, snap, f"{name}.forward")
    if not ok:
        return None, None
    if loss_only:
        return out, None
    snap = Snapshot({"dout": dout}, "in")
    ok, dx = rec.call(BWD, f"{name}.backward(dout)", layer.backward, dout)
    _watch(rec, snap, f"{name}.backward")
    return out, (dx if ok else None)


def _conv_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    cls = _cls(impl, "Convolution", "forward", "backward")
    ok, layer = rec.call(FWD, "Convolution(W, b, stride, pad)", cls, p["W"], p["b"], int(hp["stride"]), int(hp["pad"]))
    if not ok:
        return None
    out, dx = _layer_pass(rec, layer, "Convolution", x, dout, loss_only=loss_only)
    if out is None:
        return None
    res = {"out": out}
    if not loss_only:
        res.update(x=dx, W1=getattr(layer, "dW", None), b1=getattr(layer, "db", None))
        for k, attr in (("W1", "dW"), ("b1", "db")):
            if res[k] is None:
                rec.error("grad_W" if k == "W1" else "grad_b", f"Convolution.{attr} is not set after backward(dout)")
    return res


def _width_first(cls) -> bool:
    """Whether the constructor names its window width before its height (``Pooling(w_p, h_p, ...)`` in a real
    file, docs/real-world/layers.tsv): the book's order is (pool_h, pool_w), and a file consistent with its
    own order must not be judged by ours."""
    sig = _signature(cls)
    names = [n.lower() for n in sig.parameters][:2] if sig is not None else []

    def axis(n: str) -> str | None:
        parts = set(re.split(r"[_\d]+", n))
        w, h = bool(parts & {"w", "width"}), bool(parts & {"h", "height"})
        return "w" if w and not h else "h" if h and not w else None

    return len(names) == 2 and (axis(names[0]), axis(names[1])) == ("w", "h")


def _pool_make(rec, impl, kh, kw, stride):
    cls = _cls(impl, "Pooling", "forward", "backward")
    kw_args = {"pad": 0} if accepts(cls.__init__, "pad") else {}
    if _width_first(cls):
        rec.note("Pooling takes the window width before its height (the book: Pooling(pool_h, pool_w, ...)): "
                 "called in the file's own order")
        ok, layer = rec.call(FWD, "Pooling(pool_w, pool_h, stride)", cls, kw, kh, stride, **kw_args)
    else:
        ok, layer = rec.call(FWD, "Pooling(pool_h, pool_w, stride)", cls, kh, kw, stride, **kw_args)
    return layer if ok else None


def _pool_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    kh, kw = kernel(hp)
    layer = _pool_make(rec, impl, kh, kw, int(hp["stride"]))
    if layer is None:
        return None
    out, dx = _layer_pass(rec, layer, "Pooling", x, dout, loss_only=loss_only)
    return None if out is None else {"out": out, "x": dx}


def _pool_probe(impl, rec, x, dout, kh, kw, stride):
    layer = _pool_make(rec, impl, kh, kw, stride)
    return None if layer is None else _layer_pass(rec, layer, "Pooling", x, dout, loss_only=False)[1]


def _im2col_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    im2col, col2im = get(impl, "im2col"), get(impl, "col2im")
    W, b = p["W"], p["b"]
    FN, C, FH, FW = W.shape
    stride, pad = int(hp["stride"]), int(hp["pad"])
    _, out_h, out_w = case.spec.out_shape
    ok, col = rec.call(FWD, "im2col(input_data, filter_h, filter_w, stride, pad)", im2col, x, FH, FW, stride, pad)
    rows = case.m * out_h * out_w
    col = rec.array(FWD, "im2col(...)", col, (rows, C * FH * FW)) if ok else None
    if col is None:
        return None
    col_W = W.reshape(FN, -1).T
    out = (col @ col_W + b).reshape(case.m, out_h, out_w, -1).transpose(0, 3, 1, 2)
    res = {"out": out}
    if loss_only:
        return res
    d = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
    res["W1"] = (col.T @ d).T.reshape(FN, C, FH, FW)  # from the file's columns: a wrong im2col shows here too
    res["b1"] = d.sum(axis=0)
    ok, dx = rec.call("grad_x", "col2im(col, input_shape, filter_h, filter_w, stride, pad)", col2im,
                      d @ col_W.T, x.shape, FH, FW, stride, pad)
    res["x"] = dx if ok else None
    return res


# ---- SimpleConvNet


def _net_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    cls = _cls(impl, "SimpleConvNet", "gradient", "loss")
    spec = case.spec
    sl = spec.slots
    conv_hp = sl[0].layer.hp
    conv_param = {"filter_num": int(conv_hp["filters"]), "filter_size": kernel(conv_hp)[0],
                  "pad": int(conv_hp["pad"]), "stride": int(conv_hp["stride"])}
    kw = {"input_dim": tuple(spec.input_shape), "conv_param": conv_param, "hidden_size": int(sl[3].layer.hp["out"]),
          "output_size": int(sl[5].layer.hp["out"])}
    fams = ("loss", "grad_W", "grad_b")
    if accepts(cls.__init__, "dtype"):
        kw["dtype"] = np.dtype(spec.dtype).type
    if not all(accepts(cls.__init__, k) for k in ("input_dim", "conv_param", "hidden_size", "output_size")):
        rec.decline(cls, "SimpleConvNet(input_dim, conv_param, hidden_size, output_size)")
        return None
    ok, net = rec.call(fams, "SimpleConvNet(input_dim, conv_param, hidden_size, output_size)", cls, **kw)
    if not ok:
        return None
    params = getattr(net, "params", None)
    if not isinstance(params, dict):
        rec.error(fams, f"SimpleConvNet.params is {type(params).__name__}; expected a dict W1, b1, ...")
        return None
    for k, v in case.params.items():
        want = case.typed(v.T if k in ("W2", "W3") else v)
        old = params.get(k)
        if not isinstance(old, np.ndarray) or old.size != want.size:
            shape = getattr(old, "shape", type(old).__name__)
            rec.error(fams, f"SimpleConvNet(...) stores {k} as {shape}; this net on {tuple(spec.input_shape)} "
                            f"images needs {want.shape}")
            return None
        # in place, in the net's own dtype: the layers hold references to these very arrays
        old[...] = want.reshape(old.shape)
    t = case.typed(case.y).copy() if spec.target != "labels" else np.asarray(case.y).copy()
    ok, loss = rec.call(fams, "SimpleConvNet.loss(x, t)", net.loss, x.copy(), t)
    if not ok:
        return None
    res = {"loss": loss}
    if loss_only:
        return res
    snap = Snapshot({"x": x, "t": t}, "in")
    ok, grads = rec.call(("grad_W", "grad_b"), "SimpleConvNet.gradient(x, t)", net.gradient, x, t)
    _watch(rec, snap, "SimpleConvNet.gradient")
    if not ok:
        return res
    if not isinstance(grads, dict):
        rec.error(("grad_W", "grad_b"), f"SimpleConvNet.gradient gave {type(grads).__name__}; expected a dict")
        return res
    for k in spec.param_names():
        if k not in grads:
            rec.error("grad_b" if k[0] == "b" else "grad_W", f"SimpleConvNet.gradient has no {k!r}")
            continue
        g = grads[k]
        res[k] = np.asarray(g).T if k in ("W2", "W3") and np.ndim(g) == 2 else g
    dx = getattr(net, "dx", None)  # our reference keeps dLoss/dx for checkers
    if isinstance(dx, np.ndarray) and dx.shape == x.shape:
        res["x"] = dx
    return res


def _functions(*names):
    return lambda impl: all(callable(get(impl, n)) and not isinstance(get(impl, n), type) for n in names)


register(Entry("saito", "Convolution", lambda impl: _cls(impl, "Convolution", "forward", "backward") is not None,
               lambda impl: layer_space("conv"), _conv_core, ("Convolution",)))
register(Entry("saito", "Pooling", lambda impl: _cls(impl, "Pooling", "forward", "backward") is not None,
               lambda impl: layer_space("max_pool"), _pool_core, ("Pooling",), pool=_pool_probe))
register(Entry("saito", "fn:im2col", _functions("im2col", "col2im"), lambda impl: layer_space("conv"),
               _im2col_core, ("im2col", "col2im")))
register(Entry("saito", "SimpleConvNet", lambda impl: _cls(impl, "SimpleConvNet", "gradient", "loss") is not None,
               lambda impl: net_space("conv>relu>max_pool>affine>relu>affine", fixed=_NET_FIXED, shapes=_NET_SHAPES,
                                      allow_reg=False),
               _net_core, ("SimpleConvNet",), net=True))
