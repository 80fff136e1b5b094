"""The conv/pool mutants (reference/mutants_conv.py) fail the torch comparison their reference passes.

Each mutant runs on one input chosen to satisfy its ``needs`` (3x3 kernel, stride 2 < kernel so windows
overlap, padding 1 or 0, two channels), the unmutated reference runs on the same input, and both go
through the same comparison with torch (tests/conv_twins.py, oracles.compare): the reference must pass
every tensor, the mutant must fail one (or raise). This is the proof that those comparisons can fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from oracles.compare import compare_tensor
from reference.mutants_conv import CONV_MUTANTS
from tests import conv_twins as tw

K, STRIDE = 3, 2  # stride < kernel: windows overlap


def _problem(mutant, dtype="float64"):
    pad = 0 if "pad0" in mutant.needs else 1
    rng = np.random.default_rng(abs(hash(mutant.name)) % 2**32)
    N, C, F, H = 2, 2, 3, 7
    x = rng.standard_normal((N, C, H, H))
    w = rng.standard_normal((F, C, K, K))
    b = rng.standard_normal(F)
    return {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v) for k, v in
            dict(x=x, w=w, b=b, pad=pad, rng=rng).items()}


def _nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _nchw(a):
    return np.ascontiguousarray(np.asarray(a).transpose(0, 3, 1, 2))


def _run_conv(impl, style, p):
    x, w, b, pad = p["x"], p["w"], p["b"], p["pad"]
    H_out = (x.shape[2] + 2 * pad - K) // STRIDE + 1
    dout = p["rng"].standard_normal((x.shape[0], w.shape[0], H_out, H_out))
    if style == "cs231n":
        out, cache = impl.conv_forward_naive(x, w, b, {"stride": STRIDE, "pad": pad})
        dx, dw, db = impl.conv_backward_naive(dout, cache)
    elif style == "dlai":
        Z, cache = impl.conv_forward(_nhwc(x), w.transpose(2, 3, 1, 0), b.reshape(1, 1, 1, -1),
                                     {"stride": STRIDE, "pad": pad})
        dA, dW, db4 = impl.conv_backward(_nhwc(dout), cache)
        out, dx, dw, db = _nchw(Z), _nchw(dA), np.asarray(dW).transpose(3, 2, 0, 1), np.asarray(db4).reshape(-1)
    else:
        layer = impl.Convolution(w, b, STRIDE, pad)
        out = layer.forward(x)
        dx = layer.backward(dout)
        dw, db = layer.dW, layer.db
    return tw.conv2d(x, w, b, dout, STRIDE, pad), {"out": out, "dx": dx, "dw": dw, "db": db}


def _run_pool(impl, style, p, mode="max"):
    x = p["x"]
    H_out = (x.shape[2] - K) // STRIDE + 1
    dout = p["rng"].standard_normal((x.shape[0], x.shape[1], H_out, H_out))
    twin = tw.max_pool2d if mode == "max" else tw.avg_pool2d
    if style == "cs231n":
        out, cache = impl.max_pool_forward_naive(x, {"pool_height": K, "pool_width": K, "stride": STRIDE})
        dx = impl.max_pool_backward_naive(dout, cache)
    elif style == "dlai":
        A, cache = impl.pool_forward(_nhwc(x), {"f": K, "stride": STRIDE}, mode=mode)
        out, dx = _nchw(A), _nchw(impl.pool_backward(_nhwc(dout), cache, mode=mode))
    else:
        layer = impl.Pooling(K, K, STRIDE)
        out = layer.forward(x)
        dx = layer.backward(dout)
    return twin(x, dout, (K, K), STRIDE), {"out": out, "dx": dx}


def _run_cnn(impl, p):
    import torch
    import torch.nn.functional as F

    N, C, H, classes, reg = 3, 2, 6, 4, 0.5
    net = impl.ThreeLayerConvNet((C, H, H), 3, 3, 5, classes, weight_scale=0.5, reg=reg, dtype=np.float64, seed=0)
    X = p["rng"].standard_normal((N, C, H, H))
    y = p["rng"].integers(0, classes, N)
    loss, grads = net.loss(X, y)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(torch.tensor(X), t["W1"], t["b1"], padding=1)), 2, 2)
    h = F.relu(h.reshape(N, -1) @ t["W2"] + t["b2"])
    ell = F.cross_entropy(h @ t["W3"] + t["b3"], torch.tensor(y)) + 0.5 * reg * sum(
        (t[k] ** 2).sum() for k in ("W1", "W2", "W3"))
    ell.backward()
    res = {"loss": float(ell.detach()), **{k: v.grad.numpy() for k, v in t.items()}}
    return res, {"loss": loss, **grads}


def _verdicts(mutant_or_ref_impl, mutant):
    p = _problem(mutant)
    if mutant.entry == "ThreeLayerConvNet":
        res, got = _run_cnn(mutant_or_ref_impl, p)
    elif mutant.entry in ("fn:conv", "Convolution"):
        res, got = _run_conv(mutant_or_ref_impl, mutant.style, p)
    else:
        res, got = _run_pool(mutant_or_ref_impl, mutant.style, p, "average" if "average" in mutant.needs else "max")
    scale = max(float(np.abs(res[k]).max()) for k in got if k not in ("out", "loss"))
    return [compare_tensor(k, v, res[k], scale=None if k in ("out", "loss") else scale) for k, v in got.items()]


def test_conv_zoo_is_big_and_covers_every_style():
    assert len(CONV_MUTANTS) >= 12
    assert {m.style for m in CONV_MUTANTS.values()} == {"cs231n", "dlai", "saito"}
    for m in CONV_MUTANTS.values():
        assert m.impl is not m.reference


@pytest.mark.parametrize("name", sorted(CONV_MUTANTS))
def test_mutant_fails_where_its_reference_passes(name):
    m = CONV_MUTANTS[name]
    ref = _verdicts(m.reference, m)
    assert all(v.passed for v in ref), [v.message for v in ref if not v.passed]
    try:
        bad = [v for v in _verdicts(m.impl, m) if not v.passed]
    except Exception as e:  # noqa: BLE001 - a raise is a kill (bpcheck reports it as the file's error)
        bad = [f"raised {type(e).__name__}: {e}"]
    assert bad, f"{name} passed every comparison"
