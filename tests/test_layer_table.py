"""The layer table: the MLP is one sequence among many, and every entry agrees with torch and with FD.

Each test pins one promise of oracles/layers/table.py's contract; the expected values come from torch's
own functional ops or from an independent formula, never from the table's output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oracles import finite_diff as fd
from oracles import torch_autograd as ta
from oracles.case import Case, Spec, SpecSpace
from oracles.compare import compare_observation
from oracles.layers.table import KINDS, Layer, MissingAux, kind, slots
from oracles.strategies import draw_case

RNG = np.random.default_rng


def _case(spec: Spec, m: int, seed: int = 0, **kw) -> Case:
    rng = RNG(seed)
    params = {k: rng.standard_normal(s) * 0.5 for k, s in spec.param_shapes().items()}
    x = rng.standard_normal((m, *spec.x_shape))
    if spec.target == "labels":
        y = rng.integers(0, spec.n_out, m)
    else:
        y = rng.standard_normal((m, *spec.out_shape))
    return Case(spec=spec, params=params, x=x, y=y, lr=0.1, seed=seed, steps=kw.pop("steps", 1), **kw)


def test_a_pure_affine_activation_sequence_is_stored_as_the_mlp_it_is():
    layered = Spec(layers=(Layer.of("affine", out=5), Layer("tanh"), Layer.of("affine", out=3), Layer("identity")),
                   input_shape=(4,), loss="softmax_cross_entropy", target="labels")
    assert layered.is_mlp and layered.sizes == (4, 5, 3) and layered.activations == ("tanh", "identity")
    assert layered == Spec((4, 5, 3), ("tanh", "identity"), "softmax_cross_entropy", target="labels")


def test_generic_path_equals_the_mlp_path_on_the_same_numbers():
    """A flatten between two affines keeps the sequence off the MLP path: same numbers, same answer."""
    mlp = Spec((4, 5, 3), ("tanh", "identity"), "softmax_cross_entropy", target="labels")
    generic = Spec(layers=(Layer.of("affine", out=5), Layer("tanh"), Layer("flatten"), Layer.of("affine", out=3),
                           Layer("identity")), input_shape=(4,), loss="softmax_cross_entropy", target="labels")
    assert not generic.is_mlp and generic.param_names() == mlp.param_names()
    a = _case(mlp, 6)
    b = Case(spec=generic, params=a.params, x=a.x, y=a.y, lr=a.lr, seed=0, steps=2)
    ea, eb = ta.expected(a), ta.expected(b)
    assert abs(ea.loss - eb.loss) < 1e-15
    for k in ea.grads:
        np.testing.assert_allclose(eb.grads[k], ea.grads[k], rtol=0, atol=1e-15)
    fa, fb = fd.full(a), fd.full(b)
    for k in ("W1", "b2"):
        np.testing.assert_allclose(fb.grads[k], fa.grads[k], rtol=0, atol=1e-9)


@pytest.mark.parametrize("running_var,momentum_on", [("biased", "running"), ("unbiased", "batch")])
def test_batchnorm_against_torch_functional(running_var, momentum_on):
    spec = Spec(layers=(Layer.of("batchnorm", momentum=0.9, running_var=running_var, momentum_on=momentum_on),),
                input_shape=(5,), loss="dot", target="dense", reduction="sum")
    case = _case(spec, 7)
    e = ta.expected(case)
    x = torch.tensor(case.x, requires_grad=True)
    g = torch.tensor(case.params["gamma1"], requires_grad=True)
    b = torch.tensor(case.params["beta1"], requires_grad=True)
    rm, rv = torch.zeros(5, dtype=torch.float64), torch.ones(5, dtype=torch.float64)
    # torch's momentum weighs the batch: the course's momentum 0.9 on the running side is torch's 0.1
    out = F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.9 if momentum_on == "batch" else 0.1, eps=1e-5)
    (out * torch.tensor(case.y)).sum().backward()
    np.testing.assert_allclose(e.out, out.detach().numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(e.grads["x"], x.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(e.grads["gamma1"], g.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(e.grads["beta1"], b.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(e.state["running_mean1"], rm.numpy(), rtol=0, atol=1e-15)
    var = case.x.var(axis=0, ddof=1 if running_var == "unbiased" else 0)
    w = 0.9 if momentum_on == "batch" else 0.1
    np.testing.assert_allclose(e.state["running_var1"], (1 - w) * 1.0 + w * var, rtol=1e-13)
    if running_var == "unbiased":  # exactly torch's own running statistics
        np.testing.assert_allclose(e.state["running_var1"], rv.numpy(), rtol=1e-13)


def test_batchnorm_test_mode_reads_the_running_statistics():
    spec = Spec(layers=(Layer.of("batchnorm"),), input_shape=(3,), loss="dot", target="dense", reduction="sum",
                mode="test")
    case = _case(spec, 4)
    rm, rv = case.state["running_mean1"], case.state["running_var1"]
    want = case.params["gamma1"] * (case.x - rm) / np.sqrt(rv + 1e-5) + case.params["beta1"]
    e = ta.expected(case)
    np.testing.assert_allclose(e.out, want, rtol=1e-14)
    np.testing.assert_allclose(e.grads["x"], case.y * case.params["gamma1"] / np.sqrt(rv + 1e-5), rtol=1e-13)


def test_dropout_uses_the_given_mask_and_refuses_to_guess_one():
    spec = Spec(layers=(Layer.of("dropout", p=0.75),), input_shape=(6,), loss="dot", target="dense", reduction="sum")
    case = _case(spec, 5)
    with pytest.raises(MissingAux):
        ta.expected(case)
    mask = RNG(1).random((5, 6)) < 0.75
    e = ta.expected(case, given={"mask1": mask})
    np.testing.assert_allclose(e.out, case.x * mask / 0.75, rtol=1e-15)
    np.testing.assert_allclose(e.grads["x"], case.y * mask / 0.75, rtol=1e-15)
    drop = Spec(layers=(Layer.of("dropout", p=0.25, p_means="drop", scaling="at_test"),), input_shape=(6,),
                loss="dot", target="dense", reduction="sum", mode="test")
    np.testing.assert_allclose(ta.expected(_case(drop, 5)).out, _case(drop, 5).x * 0.75, rtol=1e-15)


def test_fd_agrees_with_torch_on_a_normalised_net():
    spec = Spec(layers=(Layer.of("affine", out=6), Layer.of("batchnorm"), Layer("relu"), Layer.of("affine", out=3)),
                input_shape=(4,), loss="softmax_cross_entropy", target="labels")
    case = _case(spec, 8, seed=3)
    e, f = ta.expected(case), fd.full(case)
    scale = max(np.abs(g).max() for g in e.grads.values())
    assert np.abs(e.grads["b1"]).max() < 1e-15 * scale * 100  # batchnorm removes the bias before it
    for k in ("W1", "b1", "gamma1", "beta1", "W2", "b2"):
        assert np.abs(f.grads[k] - e.grads[k]).max() / scale < 1e-7, k


def test_a_wrong_gamma_gradient_is_caught_and_localised():
    spec = Spec(layers=(Layer.of("affine", out=4), Layer.of("batchnorm"), Layer("tanh"), Layer.of("affine", out=2)),
                input_shape=(3,), loss="quadratic", target="dense")
    case = _case(spec, 6, seed=5)
    e = ta.expected(case)
    wrong = {k: v.copy() for k, v in e.grads.items()}
    wrong["gamma1"][2] *= 1.01  # a 1% error in one entry
    verdicts = compare_observation(case, type(e)(loss=e.loss, grads=wrong), e)
    bad = [v for v in verdicts if not v.passed]
    assert [v.name for v in bad] == ["grads['gamma1']"]
    loc = fd.localise(case, wrong, ["gamma1", "beta1"])
    assert loc["gamma1"].status == "fail" and loc["gamma1"].index == (2,)
    assert loc["beta1"].status == "pass"


def test_spec_round_trip_and_clear_errors():
    spec = Spec(layers=(Layer.of("affine", out=3), Layer.of("dropout", p=0.5, p_means="drop"), Layer("sigmoid")),
                input_shape=(4,), loss="binary_cross_entropy", target="dense")
    assert Spec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="unknown layer kind 'convolution'"):
        Spec(layers=(Layer("convolution"),), input_shape=(3,), loss="dot", target="dense")
    with pytest.raises(ValueError, match="not a known convention"):
        Spec(layers=(Layer.of("dropout", p_means="keep_or_drop"),), input_shape=(3,), loss="dot", target="dense")
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        Spec(layers=(Layer.of("batchnorm", rate=0.1),), input_shape=(3,), loss="dot", target="dense")
    with pytest.raises(ValueError, match="for layer sequences"):
        Spec((3, 2), ("identity",), "dot")
    bn = Spec(layers=(Layer.of("batchnorm"),), input_shape=(3,), loss="dot", target="dense")
    with pytest.raises(ValueError, match="batch of at least 2"):
        _case(bn, 1)
    after_affine = Spec(layers=(Layer.of("affine", out=3), Layer.of("batchnorm")), input_shape=(2,), loss="dot",
                        target="dense")
    with pytest.raises(ValueError, match="batch of at least 2"):  # the strictest layer decides
        _case(after_affine, 1)


def test_every_kind_declares_shapes_that_its_forward_keeps():
    for name, k in KINDS.items():
        shape = (4,) if name not in ("flatten",) else (2, 3)
        hp = Layer(name).hp if name != "affine" else Layer.of("affine", out=3).hp
        try:
            out_shape = k.out_shape(shape, hp)
        except ValueError:
            continue  # a kind for other input ranks (spatial layers)
        layer = Layer(name, tuple(hp.items()))
        spec = Spec(layers=(layer,), input_shape=shape, loss="dot", target="dense", reduction="sum")
        case = _case(spec, 3)
        given = {f"{a}1": np.ones((3, *shape)) for a in k.aux}
        assert ta.expected(case, given=given).out.shape == (3, *out_shape), name
        assert [s.layer.kind for s in slots((layer,), shape)] == [name]
        assert kind(name) is k


def test_strategies_draw_valid_layer_cases_from_templates():
    space = SpecSpace(sequences=("affine>batchnorm>relu>affine", "affine>dropout>tanh>affine"),
                      outputs=(("softmax_cross_entropy", ("identity",)), ("quadratic", ("identity",))),
                      targets=("labels", "dense"), modes=("train", "test"))
    seen = set()
    for seed in range(40):
        case = draw_case(space, seed)
        assert case.spec.kinds() in space.sequences
        assert case.m >= (2 if "batchnorm" in case.spec.kinds() else 1)
        seen.add((case.spec.kinds(), case.spec.mode))
        assert case.seed == seed or case.case_id  # replayable
    assert len(seen) == 4
