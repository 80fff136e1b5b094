"""The MyTorch-only rows of the layer table (oracles/layers/mytorch_kinds.py): gelu, softmax, conv1d,
downsample, upsample, each against an independent formula or torch's own op, and FD against the twin."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oracles import finite_diff as fd
from oracles import torch_autograd as ta
from oracles.case import Case, Spec
from oracles.layers.table import Layer, kind

RNG = np.random.default_rng


def _case(spec: Spec, m: int, seed: int = 0) -> Case:
    rng = RNG(seed)
    params = {k: rng.standard_normal(s) * 0.5 for k, s in spec.param_shapes().items()}
    x = rng.standard_normal((m, *spec.x_shape))
    y = rng.standard_normal((m, *spec.out_shape))
    return Case(spec=spec, params=params, x=x, y=y, lr=0.1, seed=seed, steps=1)


def _spec(layer: Layer, shape) -> Spec:
    return Spec(layers=(layer,), input_shape=shape, loss="dot", reduction="sum", layout="rows")


def test_gelu_is_z_phi_z_and_torch_agrees():
    z = np.linspace(-6, 6, 25).reshape(5, 5)
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z.ravel()]).reshape(z.shape)
    np.testing.assert_allclose(kind("gelu").numpy(z, {}, {}, None), z * phi, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(kind("gelu").torch(torch.tensor(z), {}, {}, None).numpy(), z * phi, atol=1e-15)


def test_softmax_rows_sum_to_one_and_match_torch():
    z = RNG(1).standard_normal((4, 6)) * 30
    s = kind("softmax").numpy(z, {}, {}, None)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(s, torch.softmax(torch.tensor(z), dim=1).numpy(), atol=1e-15)
    with pytest.raises(ValueError, match="flat"):
        _spec(Layer("softmax"), (2, 3))


@pytest.mark.parametrize("stride,pad,k", [(1, 0, 3), (2, 1, 2), (3, 2, 1)])
def test_conv1d_numpy_forward_is_torch_conv1d(stride, pad, k):
    spec = _spec(Layer.of("conv1d", filters=3, k=k, stride=stride, pad=pad), (2, 7))
    c = _case(spec, 3)
    want = F.conv1d(torch.tensor(c.x), torch.tensor(c.params["W1"]), torch.tensor(c.params["b1"]), stride=stride,
                    padding=pad).numpy()
    assert spec.out_shape == want.shape[1:]
    np.testing.assert_allclose(kind("conv1d").numpy(c.x, {"W": c.params["W1"], "b": c.params["b1"]},
                                                    spec.layers[0].hp, None), want, atol=1e-13)


@pytest.mark.parametrize("shape", [(2, 7), (2, 5, 6)])
@pytest.mark.parametrize("factor", [1, 2, 3])
def test_downsample_and_upsample_are_each_others_adjoint(shape, factor):
    """<down(x), y> = <x, up(y)> where up fills the kept positions: the backward of one is the other."""
    down = _spec(Layer.of("downsample", factor=factor), shape)
    x = RNG(2).standard_normal((2, *shape))
    d = kind("downsample").numpy(x, {}, down.layers[0].hp, None)
    assert d.shape[1:] == down.out_shape and d.shape[-1] == (shape[-1] - 1) // factor + 1
    up = _spec(Layer.of("upsample", factor=factor), down.out_shape)
    u = kind("upsample").numpy(d, {}, up.layers[0].hp, None)
    assert u.shape[1:] == up.out_shape and u.shape[-1] == factor * (d.shape[-1] - 1) + 1
    np.testing.assert_array_equal(kind("downsample").numpy(u, {}, down.layers[0].hp, None), d)
    assert np.count_nonzero(u) == np.count_nonzero(d)


@pytest.mark.parametrize("layer,shape", [
    (Layer("gelu"), (5,)), (Layer("softmax"), (4,)),
    (Layer.of("conv1d", filters=2, k=3, stride=2, pad=1), (3, 8)),
    (Layer.of("downsample", factor=2), (2, 7)), (Layer.of("upsample", factor=3), (2, 3, 4)),
])
def test_fd_agrees_with_the_torch_twin(layer, shape):
    c = _case(_spec(layer, shape), 3, seed=4)
    exp, got = ta.expected(c), fd.full(c)
    assert exp.out.shape == (3, *c.spec.out_shape) and set(got.grads) == set(exp.grads) >= {"x"}
    for k, g in exp.grads.items():
        scale = max(1.0, float(np.abs(g).max()))
        assert np.abs(got.grads[k] - g).max() / scale < 1e-7, k
