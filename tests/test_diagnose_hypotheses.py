"""Each diagnosis hypothesis on synthetic (observed, expected) pairs built from the torch oracle,
and no diagnosis for correct implementations."""

from __future__ import annotations

import numpy as np
import pytest

from oracles.case import Case, Spec
from oracles.compare import compare_observation
from oracles.diagnose import detect_convention, diagnose, diagnose_campaign, recompute_grads
from oracles.observation import Observation


def _case(sizes=(3, 4, 4, 2), acts=("sigmoid", "tanh", "sigmoid"), m=5, seed=0, reg=0.0) -> Case:
    rng = np.random.default_rng(seed)
    spec = Spec(sizes, acts, "quadratic", reg=reg)
    p = {f"W{l}": rng.standard_normal((sizes[l], sizes[l - 1])) for l in range(1, len(sizes))}
    p.update({f"b{l}": rng.standard_normal(sizes[l]) for l in range(1, len(sizes))})
    return Case(spec, p, rng.standard_normal((m, sizes[0])), rng.random((m, sizes[-1])))


@pytest.fixture(scope="module")
def torch_expected():
    from oracles.torch_autograd import expected

    return expected


def _diag(case, obs, exp):
    v = compare_observation(case, obs, exp)
    return diagnose(case, v, obs, exp), v


def _obs(exp, **grads):
    return Observation(loss=exp.loss, grads={**exp.grads, **grads})


def test_recompute_agrees_with_torch(torch_expected):
    case = _case()
    exp = torch_expected(case)
    obs = Observation(loss=exp.loss, grads=recompute_grads(case))
    assert all(v.passed for v in compare_observation(case, obs, exp))


@pytest.mark.parametrize("factor,cls", [("m", "missing_mean"), ("1/m", "double_mean"), (2.0, "factor_2"),
                                        (-1.0, "sign_flip"), (0.5, "factor_half")])
def test_constant_factor(torch_expected, factor, cls):
    case = _case()
    exp = torch_expected(case)
    k = {"m": case.m, "1/m": 1 / case.m}.get(factor, factor)
    ds, verdicts = _diag(case, Observation(loss=exp.loss, grads={n: k * g for n, g in exp.grads.items()}), exp)
    assert ds[0].bug_class == cls
    assert any(v.diagnosis.startswith(cls) for v in verdicts if not v.passed)


def test_convention_sum_instead_of_mean(torch_expected):
    case = _case()
    exp = torch_expected(case)
    obs = Observation(loss=case.m * exp.loss, grads={n: case.m * g for n, g in exp.grads.items()})
    conv = detect_convention(case, obs, exp)
    assert conv is not None and conv.name == "sum instead of mean" and dict(conv.spec_changes) == {"reduction": "sum"}
    # gradients scaled, loss not: a bug, not a convention
    assert detect_convention(case, Observation(loss=exp.loss, grads=obs.grads), exp) is None


def test_convention_cost_without_half(torch_expected):
    case = _case()
    exp = torch_expected(case)
    obs = Observation(loss=2 * exp.loss, grads={n: 2 * g for n, g in exp.grads.items()})
    assert detect_convention(case, obs, exp).name == "cost without the 1/2"
    ds, _ = _diag(case, obs, exp)
    assert ds[0].bug_class == "factor_2" and "convention" in ds[0].message


def test_transpose_and_zero(torch_expected):
    case = _case()
    exp = torch_expected(case)
    ds, _ = _diag(case, _obs(exp, W2=exp.grads["W2"].T.copy()), exp)
    assert ds[0].bug_class == "transpose" and ds[0].tensors == ("W2",)
    ds, _ = _diag(case, _obs(exp, W1=np.zeros_like(exp.grads["W1"]), b1=np.zeros_like(exp.grads["b1"])), exp)
    assert ds[0].bug_class == "zero_grad"


def test_shape_extra_batch_axis(torch_expected):
    case = _case()
    exp = torch_expected(case)
    per_sample = np.tile(exp.grads["b2"][:, None] / case.m, (1, case.m))  # (n, m), never summed
    ds, _ = _diag(case, _obs(exp, b2=per_sample), exp)
    assert ds[0].bug_class == "extra_batch_axis"


def test_layer_break_names_first_wrong_layer(torch_expected):
    case = _case()
    exp = torch_expected(case)
    rng = np.random.default_rng(1)
    bad = {n: g + rng.standard_normal(g.shape) for n, g in exp.grads.items() if n in ("W1", "b1", "x")}
    ds, _ = _diag(case, _obs(exp, **bad), exp)
    assert ds[0].bug_class == "layer_break" and ds[0].evidence["first_wrong_layer"] == 1


def test_only_biases(torch_expected):
    case = _case()
    exp = torch_expected(case)
    rng = np.random.default_rng(2)
    ds, _ = _diag(case, _obs(exp, b3=exp.grads["b3"] + rng.standard_normal(2)), exp)
    assert "bias_only" in [d.bug_class for d in ds]


def test_sigma_prime_of_a_by_recomputation(torch_expected):
    from reference import functions as F

    case = _case()
    exp = torch_expected(case)
    acts = case.spec.activations
    wrong = recompute_grads(case, hidden_dz=lambda l, z, a, dA: dA * F.derivative(acts[l - 1])(a))
    ds, _ = _diag(case, Observation(loss=exp.loss, grads=wrong), exp)
    assert ds[0].bug_class == "derivative_at_activation"


def test_output_delta_without_derivative(torch_expected):
    case = _case()
    exp = torch_expected(case)
    ds, _ = _diag(case, Observation(loss=exp.loss, grads=recompute_grads(case, output_delta="no_derivative")), exp)
    assert ds[0].bug_class == "output_missing_derivative"


def test_reg_on_bias_and_reg_scale(torch_expected):
    case = _case(reg=0.3)
    exp = torch_expected(case)
    b = case.params["b2"]
    ds, _ = _diag(case, _obs(exp, b2=exp.grads["b2"] + 0.3 * b), exp)
    assert ds[0].bug_class == "reg_on_bias"
    W = case.params["W2"]
    ds, _ = _diag(case, _obs(exp, W2=exp.grads["W2"] + 0.3 * W), exp)
    assert ds[0].bug_class == "reg_scale"


def test_loss_only_and_update_only(torch_expected):
    case = _case()
    exp = torch_expected(case)
    ds, _ = _diag(case, Observation(loss=case.m * exp.loss, grads=dict(exp.grads)), exp)
    assert ds[0].bug_class == "loss_grad_mismatch"
    upd = dict(exp.updated)
    upd["b1"] = case.params["b1"].copy()  # never updated
    ds, _ = _diag(case, Observation(loss=exp.loss, grads=dict(exp.grads), updated=upd), exp)
    assert ds[0].bug_class == "update_only" and "b1 never updated" in ds[0].message


def test_overflow_and_mutation(torch_expected):
    case = _case()
    exp = torch_expected(case)
    obs = _obs(exp)
    obs.errors["grad_W"] = "backprop: nabla_w[0] contains NaN (3 of 12 entries, first at (0, 0))"
    ds, _ = _diag(case, obs, exp)
    assert ds[0].bug_class == "large_inputs"
    obs = _obs(exp)
    obs.mutated.append("dout")
    ds, _ = _diag(case, obs, exp)
    assert ds[0].bug_class == "mutation"


def test_correct_gives_no_diagnosis(torch_expected):
    for seed in range(3):
        case = _case(seed=seed)
        exp = torch_expected(case)
        assert _diag(case, Observation(loss=exp.loss, grads=dict(exp.grads)), exp)[0] == []


def test_campaign_conditions():
    labels = _case(sizes=(3, 3), acts=("identity",), m=4)
    one = _case(m=1)
    many = _case(m=4)
    # fails only for m > 1, per-Case diagnosis generic
    from oracles.diagnose import Diagnosis

    generic = [Diagnosis("unclassified", "?")]
    ds = diagnose_campaign([(many, True, generic), (one, False, []), (labels, True, generic)])
    assert ds[0].bug_class == "batch_only"


@pytest.mark.parametrize("name", ["dlai_sign_flip", "saito_affine_dw_transposed"])
def test_references_have_no_diagnosis_but_mutants_do(name):
    """The same Case: the reference gives no diagnosis, the mutant one."""
    import oracles.styles as styles
    from oracles.strategies import draw_case
    from oracles.torch_autograd import expected
    from reference.mutants import MUTANTS

    mut = MUTANTS[name]
    ref_impl = _reference_impl(mut.style, name)
    seen = 0
    for entry in styles.entry_points(mut.style, mut.impl):
        case = draw_case(styles.spec_space(mut.style, mut.impl, entry), 3)
        exp = expected(case)
        obs_mut = styles.run(mut.style, mut.impl, case, entry)
        if not _diag(case, obs_mut, exp)[0]:
            continue  # this entry does not use the broken part
        seen += 1
        obs_ref = styles.run(mut.style, ref_impl, case, entry)
        assert _diag(case, obs_ref, exp)[0] == [], entry
    assert seen, f"no entry point of {name} got a diagnosis"


def _reference_impl(style, name):
    import types

    from reference import dlai, layer_net, layers

    if style == "dlai":
        return dlai
    ns = types.ModuleType("saito_ref")
    names = {**{k: getattr(layers, k) for k in layers.__all__}, **{k: getattr(layer_net, k) for k in layer_net.__all__}}
    ns.__dict__.update(names)
    ns.__all__ = list(names)
    return ns


def test_campaign_one_hot_only_and_large_inputs():
    from dataclasses import replace

    from oracles.diagnose import Diagnosis

    dense = _case(sizes=(3, 3), acts=("identity",), m=4)
    spec = replace(dense.spec, loss="softmax_cross_entropy", target="labels")
    labels = replace(dense, spec=spec, y=np.array([0, 1, 2, 0]))
    generic = [Diagnosis("raised", "SoftmaxWithLoss.backward raised ValueError: operands could not be broadcast")]
    ds = diagnose_campaign([(labels, True, generic), (dense, False, [])])
    assert ds[0].bug_class == "one_hot_only"
    big = replace(dense, x=dense.x * 1e3, tags=("large_logits",))
    ds = diagnose_campaign([(big, True, [Diagnosis("unclassified", "?")]), (dense, False, [])])
    assert ds[0].bug_class == "large_inputs"
    # a specific per-Case class beats a condition that also holds (a missing 1/m only shows for m > 1)
    one = _case(m=1)
    ds = diagnose_campaign([(dense, True, [Diagnosis("missing_mean", "m x")]), (one, False, [])])
    assert [d.bug_class for d in ds[:2]] == ["missing_mean", "batch_only"]


def test_convention_reg_instead_of_half_reg(torch_expected):
    case = _case(reg=0.2)
    exp = torch_expected(case)
    grads = {k: g + (0.2 * case.params[k] if k[0] == "W" else 0) for k, g in exp.grads.items() if k[0] in "Wb"}
    wsum = sum(float(np.sum(case.params[f"W{l}"] ** 2)) for l in range(1, 4))
    obs = Observation(loss=exp.loss + 0.5 * 0.2 * wsum, grads=grads)
    conv = detect_convention(case, obs, exp)
    assert conv is not None and conv.name == "reg instead of 0.5 reg"


def test_unclassified_shows_numbers(torch_expected):
    case = _case()
    exp = torch_expected(case)
    rng = np.random.default_rng(5)
    noisy = {k: g + rng.standard_normal(g.shape) for k, g in exp.grads.items()}
    ds, verdicts = _diag(case, Observation(loss=exp.loss + 1.0, grads=noisy), exp)
    assert ds[0].bug_class in ("forward_pass", "unclassified")
    assert all(v.diagnosis for v in verdicts if not v.passed)
    ds, _ = _diag(case, Observation(grads={"W3": exp.grads["W3"] + rng.standard_normal((2, 4))}), exp)
    assert ds[0].bug_class == "unclassified" and "norm ratio" in ds[0].message
