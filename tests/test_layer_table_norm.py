"""The normalisation rows of the layer table (layernorm, groupnorm, spatial_batchnorm) against torch's own
functional ops, against the courses' formulas where those differ from torch, and FD against the twin.

Expected values come from torch.nn.functional or from reference/cs231n_norm.py (the course's formula),
never from the table's output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oracles import finite_diff as fd
from oracles import torch_autograd as ta
from oracles.case import Case, Spec
from oracles.layers.table import Layer
from reference import cs231n_norm as C

RNG = np.random.default_rng


def _case(spec: Spec, m: int, seed: int = 0, state: dict | None = None) -> Case:
    rng = RNG(seed)
    params = {k: rng.standard_normal(s) * 0.5 + (1.0 if k.startswith("gamma") else 0.0)
              for k, s in spec.param_shapes().items()}
    x = 2.0 * rng.standard_normal((m, *spec.x_shape)) + 0.7
    y = rng.standard_normal((m, *spec.out_shape))
    return Case(spec=spec, params=params, x=x, y=y, seed=seed, state=state or {})


def _single(layer: Layer, shape, **kw) -> Spec:
    return Spec(layers=(layer,), input_shape=shape, loss="dot", target="dense", reduction="sum", **kw)


def _torch_grads(case: Case, fwd):
    x = torch.tensor(case.x, requires_grad=True)
    g = torch.tensor(case.params["gamma1"], requires_grad=True)
    b = torch.tensor(case.params["beta1"], requires_grad=True)
    out = fwd(x, g, b)
    (out * torch.tensor(case.y)).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), g.grad.numpy(), b.grad.numpy()


def _assert_same(e, want, atol=1e-12):
    out, dx, dg, db = want
    np.testing.assert_allclose(e.out, out, rtol=0, atol=atol)
    np.testing.assert_allclose(e.grads["x"], dx, rtol=0, atol=atol)
    np.testing.assert_allclose(e.grads["gamma1"], dg, rtol=0, atol=atol)
    np.testing.assert_allclose(e.grads["beta1"], db, rtol=0, atol=atol)


@pytest.mark.parametrize("eps", [1e-5, 1e-3])
def test_layernorm_against_torch_functional(eps):
    case = _case(_single(Layer.of("layernorm", eps=eps), (6,)), 5)
    want = _torch_grads(case, lambda x, g, b: F.layer_norm(x, (6,), g, b, eps=eps))
    _assert_same(ta.expected(case), want)
    # the course's formula too (reference/cs231n_norm.layernorm_forward)
    out, _ = C.layernorm_forward(case.x, case.params["gamma1"], case.params["beta1"], {"eps": eps})
    np.testing.assert_allclose(ta.expected(case).out, out, rtol=0, atol=1e-13)


@pytest.mark.parametrize("G", [1, 2, 6])
def test_groupnorm_against_torch_functional(G):
    case = _case(_single(Layer.of("groupnorm", G=G), (6, 3, 2)), 3)
    want = _torch_grads(case, lambda x, g, b: F.group_norm(x, G, g, b, eps=1e-5))
    _assert_same(ta.expected(case), want)
    out, _ = C.spatial_groupnorm_forward(case.x, case.params["gamma1"].reshape(1, 6, 1, 1),
                                         case.params["beta1"].reshape(1, 6, 1, 1), G, {"eps": 1e-5})
    np.testing.assert_allclose(ta.expected(case).out, out, rtol=0, atol=1e-13)


def test_groupnorm_groups_are_consecutive_channels():
    """G=2 on 4 channels groups (0, 1) and (2, 3): shifting channel 0 moves channel 1's output, not 2's."""
    spec = _single(Layer.of("groupnorm", G=2), (4, 2, 2))
    case = _case(spec, 1)
    x2 = case.x.copy()
    x2[:, 0] += 3.0
    a, b = ta.expected(case).out, ta.expected(Case(spec=spec, params=case.params, x=x2, y=case.y)).out
    assert not np.allclose(a[:, 1], b[:, 1]) and np.allclose(a[:, 2:], b[:, 2:])


@pytest.mark.parametrize("running_var,momentum_on", [("biased", "running"), ("unbiased", "batch")])
def test_spatial_batchnorm_against_torch_functional(running_var, momentum_on):
    spec = _single(Layer.of("spatial_batchnorm", momentum=0.9, running_var=running_var, momentum_on=momentum_on),
                   (3, 4, 2))
    case = _case(spec, 2)
    rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    mom = 0.9 if momentum_on == "batch" else 0.1  # torch's momentum weighs the batch
    want = _torch_grads(case, lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=True, momentum=mom, eps=1e-5))
    e = ta.expected(case)
    _assert_same(e, want)
    np.testing.assert_allclose(e.state["running_mean1"], rm.numpy(), rtol=0, atol=1e-14)
    if running_var == "unbiased":  # torch's own buffer
        np.testing.assert_allclose(e.state["running_var1"], rv.numpy(), rtol=1e-13)
    else:  # the course's: np.var over N, H, W (biased), momentum on the running side
        bn = {"mode": "train", "momentum": 0.9, "eps": 1e-5, "running_mean": np.zeros(3), "running_var": np.ones(3)}
        C.spatial_batchnorm_forward(case.x, case.params["gamma1"], case.params["beta1"], bn)
        np.testing.assert_allclose(e.state["running_var1"], bn["running_var"], rtol=1e-13)
        assert not np.allclose(e.state["running_var1"], rv.numpy(), rtol=1e-6)  # the conventions differ here


def test_spatial_batchnorm_test_mode_uses_the_running_statistics():
    spec = _single(Layer.of("spatial_batchnorm"), (2, 3, 3), mode="test")
    state = {"running_mean1": np.array([0.5, -1.0]), "running_var1": np.array([2.0, 0.3])}
    case = _case(spec, 2, state=state)
    rm, rv = torch.tensor(state["running_mean1"]), torch.tensor(state["running_var1"])
    want = _torch_grads(case, lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=False, eps=1e-5))
    _assert_same(ta.expected(case), want)


@pytest.mark.parametrize("layer,shape,m", [
    (Layer.of("layernorm"), (5,), 3),
    (Layer.of("groupnorm", G=2), (4, 2, 3), 2),
    (Layer.of("spatial_batchnorm"), (3, 2, 2), 2),
    (Layer.of("spatial_batchnorm", running_var="unbiased"), (2, 1, 3), 3),
])
def test_fd_agrees_with_torch(layer, shape, m):
    case = _case(_single(layer, shape), m, seed=4)
    e, f = ta.expected(case), fd.full(case)
    scale = max(np.abs(g).max() for g in e.grads.values())
    for k in ("x", "gamma1", "beta1"):
        assert np.abs(f.grads[k] - e.grads[k]).max() / scale < 1e-7, k


def test_shape_errors_name_the_layer_and_the_fix():
    with pytest.raises(ValueError, match="do not divide"):
        _single(Layer.of("groupnorm", G=4), (6, 2, 2))
    with pytest.raises(ValueError, match="images"):
        _single(Layer.of("spatial_batchnorm"), (6,))
    with pytest.raises(ValueError, match="spatial_batchnorm"):
        _single(Layer.of("batchnorm"), (3, 2, 2))
