"""Implementation faults never raise out of a driver: they become Observation.errors for the
affected check families, the other checks still run, and writes into inputs are named."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from submissions import fixtures, load
from submissions.cases import small_cases

import reference.cs231n as ref_cs
import reference.dlai as ref_dlai
import reference.layer_net as ref_net
import reference.layers as ref_layers
import reference.nielsen as ref_nielsen
from oracles import styles


def _ns(**names) -> types.SimpleNamespace:
    return types.SimpleNamespace(**names)


def _case(style, impl, entry, *, dtype="float64", pick=lambda c: c.spec.n_layers >= 2):
    space = styles.spec_space(style, impl, entry)
    return next(c for c in small_cases(space, dtype=dtype) if pick(c))


# ---------------------------------------------------------------- nielsen


class _Raises(ref_nielsen.Network):
    def backprop(self, x, y):
        raise RuntimeError("boom in backprop")


class _Triple(ref_nielsen.Network):
    def backprop(self, x, y):
        nb, nw = super().backprop(x, y)
        return nb, nw, None


class _NaN(ref_nielsen.Network):
    def backprop(self, x, y):
        nb, nw = super().backprop(x, y)
        nw[0] = nw[0] * np.nan
        return nb, nw


class _Exits(ref_nielsen.Network):
    def backprop(self, x, y):
        sys.exit(3)


class _WritesX(ref_nielsen.Network):
    def backprop(self, x, y):
        out = super().backprop(x, y)
        x *= 2.0
        return out


class _WritesWeights(ref_nielsen.Network):
    def backprop(self, x, y):
        out = super().backprop(x, y)
        self.weights[0] -= 1.0
        return out


class _BadInit(ref_nielsen.Network):
    def __init__(self, sizes, *a, **k):
        raise MemoryError("no room")


def _nielsen(cls):
    return _ns(Network=cls, QuadraticCost=ref_nielsen.QuadraticCost, CrossEntropyCost=ref_nielsen.CrossEntropyCost)


@pytest.mark.parametrize(
    "cls, family, words",
    [
        (_Raises, "grad_W", ["backprop(x, y) raised RuntimeError: boom in backprop", "test_styles_faults.py"]),
        (_Triple, "grad_b", ["a tuple of 3 items", "expected a pair (nabla_b, nabla_w)"]),
        (_NaN, "grad_W", ["nabla_w[0]", "NaN"]),
        (_Exits, "grad_W", ["sys.exit(3)"]),
        (_BadInit, "update", ["raised MemoryError: no room"]),
    ],
)
def test_nielsen_fault_becomes_a_readable_error(cls, family, words):
    impl = _nielsen(cls)
    case = _case("nielsen", impl, "Network")
    obs = styles.run("nielsen", impl, case, "Network")
    assert family in obs.errors, obs.errors
    for w in words:
        assert w in obs.errors[family], obs.errors[family]


def test_nan_in_one_tensor_keeps_the_others():
    impl = _nielsen(_NaN)
    case = _case("nielsen", impl, "Network")
    obs = styles.run("nielsen", impl, case, "Network")
    assert "W1" not in obs.grads and {"W2", "b1", "b2"} <= set(obs.grads)
    assert "grad_b" not in obs.errors


def test_nielsen_writes_are_named():
    impl = _nielsen(_WritesX)
    obs = styles.run("nielsen", impl, _case("nielsen", impl, "Network"), "Network")
    assert "x" in obs.mutated
    impl = _nielsen(_WritesWeights)
    obs = styles.run("nielsen", impl, _case("nielsen", impl, "Network"), "Network")
    assert "params:W1" in obs.mutated


def test_nielsen_float32_case_reaches_the_implementation_as_float32():
    seen = []

    class Spy(ref_nielsen.Network):
        def backprop(self, x, y):
            seen.append((x.dtype, self.weights[0].dtype, self.biases[0].shape))
            return super().backprop(x, y)

    impl = _nielsen(Spy)
    case = _case("nielsen", impl, "Network", dtype="float32")
    obs = styles.run("nielsen", impl, case, "Network")
    assert seen and all(s == (np.float32, np.float32, (case.spec.sizes[1], 1)) for s in seen)
    assert all(g.dtype == np.float64 for g in obs.grads.values())


def test_nielsen_variants_are_recognised_and_noted():
    path = next(p for p in fixtures("nielsen") if p.name == "weights_first_return.py")
    impl, _ = load(path)
    obs = styles.run("nielsen", impl, _case("nielsen", impl, "Network"), "Network")
    assert any("(nabla_w, nabla_b); recognised by shape" in n for n in obs.notes)
    path = next(p for p in fixtures("nielsen") if p.name == "seed003_factor2.py")
    impl, _ = load(path)
    obs = styles.run("nielsen", impl, _case("nielsen", impl, "Network"), "Network")
    assert any("seed-003" in n and "distance_derivative" in n for n in obs.notes), obs.notes
    assert obs.updated is not None  # update_batch(batch, learning_rate)


def test_full_matrix_bias_broadcast_is_a_shape_change():
    path = next(p for p in fixtures("nielsen") if p.name == "full_matrix_bias_not_summed.py")
    impl, _ = load(path)
    obs = styles.run("nielsen", impl, _case("nielsen", impl, "Network"), "Network")
    assert obs.shape_changes and all("-> (" in v for v in obs.shape_changes.values())
    assert "not summed over the batch" in obs.errors["update"]


# ---------------------------------------------------------------- dlai


def _dlai(**over):
    names = {n: getattr(ref_dlai, n) for n in ref_dlai.__all__}
    names.update(over)
    return _ns(**names)


def test_dlai_wrong_return_types():
    impl = _dlai(L_model_backward=lambda AL, Y, caches: [1, 2])
    obs = styles.run("dlai", impl, _case("dlai", impl, "L_model"), "L_model")
    assert "returned a list; expected a dict" in obs.errors["grad_W"]
    assert obs.loss is not None  # the cost still ran

    impl = _dlai(L_model_forward=lambda X, parameters: X)
    obs = styles.run("dlai", impl, _case("dlai", impl, "L_model"), "L_model")
    assert "expected (AL, caches)" in obs.errors["loss"]


def test_dlai_forward_writing_into_x_is_named():
    def forward(X, parameters):
        AL, caches = ref_dlai.L_model_forward(X, parameters)
        X += 1.0
        return AL, caches

    impl = _dlai(L_model_forward=forward)
    obs = styles.run("dlai", impl, _case("dlai", impl, "L_model"), "L_model")
    assert "x" in obs.mutated


def test_dlai_backward_writing_into_its_cache_is_named():
    def backward(AL, Y, caches):
        grads = ref_dlai.L_model_backward(AL, Y, caches)
        caches[-1][1][...] = 0.0  # the activation cache Z of the last layer
        return grads

    impl = _dlai(L_model_backward=backward)
    obs = styles.run("dlai", impl, _case("dlai", impl, "L_model"), "L_model")
    assert "caches" in obs.mutated


def test_dlai_missing_key_names_the_key():
    def backward(AL, Y, caches):
        grads = ref_dlai.L_model_backward(AL, Y, caches)
        del grads["db1"]
        return grads

    impl = _dlai(L_model_backward=backward)
    obs = styles.run("dlai", impl, _case("dlai", impl, "L_model"), "L_model")
    assert "has no 'db1'" in obs.errors["grad_b"] and "W1" in obs.grads


# ---------------------------------------------------------------- saito


class _AffineWritesW(ref_layers.Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.W *= 0.5
        return dx


class _ReluWritesInput(ref_layers.Relu):
    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] = 0
        return x


def _saito(**over):
    names = {n: getattr(ref_layers, n) for n in ref_layers.__all__}
    names.update(over)
    return _ns(**names)


def test_saito_layer_writes_are_named():
    impl = _saito(Affine=_AffineWritesW)
    case = _case("saito", impl, "layers")
    obs = styles.run("saito", impl, case, "layers")
    assert "params:W2" in obs.mutated or "params:W1" in obs.mutated, obs.mutated
    impl = _saito(Relu=_ReluWritesInput)
    obs = styles.run("saito", impl, _case("saito", impl, "layer:Relu"), "layer:Relu")
    assert "activations" in obs.mutated


def test_saito_loss_layer_fault_keeps_the_loss():
    class BadBackward(ref_layers.SoftmaxWithLoss):
        def backward(self, dout=1):
            return "oops"

    impl = _saito(SoftmaxWithLoss=BadBackward)
    case = _case("saito", impl, "layer:SoftmaxWithLoss")
    obs = styles.run("saito", impl, case, "layer:SoftmaxWithLoss")
    assert obs.loss is not None
    assert "is a str; expected a numpy array" in obs.errors["grad_W"]


def test_saito_net_parameters_are_set_in_place():
    """The book's nets keep references: the driver must write into params, not rebind them."""
    made = []

    class Spy(ref_net.TwoLayerNet):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append({k: v for k, v in self.params.items()})

    impl = _ns(TwoLayerNet=Spy)
    case = _case("saito", impl, "TwoLayerNet")
    obs = styles.run("saito", impl, case, "TwoLayerNet")
    assert obs.errors == {}
    net_params = made[-1]  # earlier ones are spec_space's probes
    assert np.array_equal(net_params["W1"], case.params["W1"].T)  # the original arrays got the values
    assert any("in place" in n for n in obs.notes)


def test_saito_float32_rebinds_layers_to_new_arrays():
    class Net64(ref_net.TwoLayerNet):  # ignores dtype: float64 arrays, as the book creates them
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__(input_size, hidden_size, output_size)

    impl = _ns(TwoLayerNet=Net64)
    case = _case("saito", impl, "TwoLayerNet", dtype="float32")
    obs = styles.run("saito", impl, case, "TwoLayerNet")
    assert obs.errors == {}, obs.errors
    assert any("re-pointed" in n for n in obs.notes), obs.notes


# ---------------------------------------------------------------- cs231n


def _cs(**over):
    names = {n: getattr(ref_cs, n) for n in ref_cs.__all__}
    names.update(over)
    return _ns(**names)


def test_cs231n_affine_backward_with_two_results():
    impl = _cs(affine_backward=lambda dout, cache: ref_cs.affine_backward(dout, cache)[:2])
    obs = styles.run("cs231n", impl, _case("cs231n", impl, "fn:affine"), "fn:affine")
    assert "a tuple of 2 items; expected (dx, dw, db)" in obs.errors["grad_W"]
    assert obs.loss is not None


def test_cs231n_backward_writing_into_cache_and_dout():
    def relu_backward(dout, cache):
        cache[cache < 0] = 0.0  # clobbers the forward input kept in the cache
        dout[cache <= 0] = 0.0
        return dout

    impl = _cs(relu_backward=relu_backward)
    case = _case("cs231n", impl, "fn:relu")
    obs = styles.run("cs231n", impl, case, "fn:relu")
    assert {"dout", "caches"} <= set(obs.mutated), obs.mutated


def test_cs231n_net_returning_only_scores():
    class ScoresOnly(ref_cs.TwoLayerNet):
        def loss(self, X, y=None):
            return super().loss(X, None)

    impl = _ns(TwoLayerNet=ScoresOnly, sgd=ref_cs.sgd)
    obs = styles.run("cs231n", impl, _case("cs231n", impl, "TwoLayerNet"), "TwoLayerNet")
    assert "expected (loss, grads)" in obs.errors["loss"]
    assert "expected (loss, grads)" in obs.errors["update"]


def test_cs231n_sgd_in_place_is_a_note_not_a_mutation():
    path = next(p for p in fixtures("cs231n") if p.name == "layers_correct.py")
    impl, _ = load(path)
    obs = styles.run("cs231n", impl, _case("cs231n", impl, "TwoLayerNet"), "TwoLayerNet")
    assert obs.mutated == [] and obs.updated is not None
    assert any("sgd updated w in place" in n for n in obs.notes)


def test_every_driver_survives_an_implementation_of_nothing_but_errors():
    """A namespace whose every callable raises: each entry point returns an Observation."""
    def boom(*a, **k):
        raise ZeroDivisionError("nope")

    class Boom:
        def __init__(self, *a, **k):
            raise ZeroDivisionError("nope")

        forward = backward = backprop = gradient = loss = update_mini_batch = boom

    impls = {
        "nielsen": (_ns(Network=Boom), "Network"),
        "dlai": (_ns(L_model_forward=boom, L_model_backward=boom), "L_model"),
        "saito": (_ns(TwoLayerNet=Boom), "TwoLayerNet"),
        "cs231n": (_ns(affine_forward=boom, affine_backward=boom, softmax_loss=boom), "layers"),
    }
    for style, (impl, entry) in impls.items():
        assert entry in styles.entry_points(style, impl)
        case = _case(style, impl, entry, pick=lambda c: True)
        obs = styles.run(style, impl, case, entry)
        assert obs.errors, style
        assert all("ZeroDivisionError: nope" in e or "nope" in e for e in obs.errors.values()), obs.errors
        assert styles.own_loss(style, impl, case, entry) is None


def test_output_too_odd_for_the_driver_is_still_an_observation():
    class Weird(list):  # a list that cannot even be iterated: the driver itself trips on it
        def __iter__(self):
            raise TypeError("no iteration for you")

    class Odd(ref_nielsen.Network):
        def backprop(self, x, y):
            return Weird(), Weird()

    impl = _nielsen(Odd)
    obs = styles.run("nielsen", impl, _case("nielsen", impl, "Network"), "Network")
    assert "could not be read (TypeError: no iteration for you)" in obs.errors["grad_W"]


def test_unsupported_case_and_unknown_entry_are_value_errors():
    from oracles.styles._common import UnsupportedCase

    impl = _nielsen(ref_nielsen.Network)
    case = _case("cs231n", ref_cs, "layers")  # rows layout: not for a Nielsen network
    with pytest.raises(UnsupportedCase, match="layout 'rows'"):
        styles.run("nielsen", impl, case, "Network")
    with pytest.raises(ValueError, match="no entry point 'Network\\[fast\\]'"):
        styles.spec_space("nielsen", impl, "Network[fast]")
