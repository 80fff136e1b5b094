"""The strategies stay inside the space they are given, and each regime builds what it promises."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles.case import ACTIVATION_NAMES, SpecSpace
from oracles.strategies import REGIMES, build_case, cases, draw_case, random_case, specs
from reference.functions import ACTIVATIONS

SPACES = {
    "default": SpecSpace(),
    "rows_all": SpecSpace(
        layout="rows",
        outputs=(("softmax_cross_entropy", ("identity",)), ("hinge", ("identity",))),
        reductions=("mean", "sum"),
        allow_reg=True,
        min_outputs=3,
    ),
    "dlai_like": SpecSpace(
        min_layers=2,
        max_layers=4,
        hidden_activations=("relu", "tanh"),
        uniform_hidden=True,
        outputs=(("binary_cross_entropy", ("sigmoid",)),),
        targets=("dense",),
        max_outputs=1,
    ),
    "two_layer": SpecSpace(min_layers=2, max_layers=2, hidden_activations=("tanh",), targets=("labels",)),
}


def _pre_activations(case):
    """[z_1, ..., z_L] in float64, canonical orientation (an independent forward pass)."""
    a, zs = case.x, []
    for l, act in enumerate(case.spec.activations, start=1):
        z = a @ case.params[f"W{l}"].T + case.params[f"b{l}"]
        zs.append(z)
        a = ACTIVATIONS[act][0](z)
    return zs


@pytest.mark.parametrize("name", list(SPACES))
@given(data=st.data())
def test_cases_stay_inside_their_space(name, data):
    space = SPACES[name]
    case = data.draw(cases(space=space, dtypes=("float64", "float32")))
    assert space.allows(case.spec) is None, space.allows(case.spec)
    if case.spec.target == "labels" or case.spec.loss in ("softmax_cross_entropy", "hinge"):
        assert case.spec.sizes[-1] >= 2
    assert space.min_outputs <= case.spec.sizes[-1] <= (space.max_outputs or 10**9)
    assert case.tags[0] in ("ordinary",) + tuple(r for r in REGIMES if r)
    assert np.isfinite(case.lr) and case.lr > 0


@pytest.mark.parametrize("name", list(SPACES))
@pytest.mark.parametrize("regime", REGIMES)
def test_draw_case_stays_inside_its_space(name, regime):
    space = SPACES[name]
    for seed in range(20):
        case = draw_case(space, seed, regime=regime, dtype="float32")
        assert space.allows(case.spec) is None, (seed, space.allows(case.spec))
        assert case.spec.dtype == "float32"
        assert case.tags[0] == (regime or "ordinary")


@given(specs(min_layers=2, max_layers=3, min_width=4, max_width=6, activations=("relu", "identity")))
def test_specs_respect_bounds(spec):
    assert 2 <= spec.n_layers <= 3
    assert all(4 <= n <= 6 for n in spec.sizes[:-1])
    assert set(spec.activations[:-1]) <= {"relu", "identity"}


def test_draw_case_is_reproducible_and_seeds_differ():
    a, b, c = draw_case(SpecSpace(), 5), draw_case(SpecSpace(), 5), draw_case(SpecSpace(), 6)
    assert a.case_id == b.case_id
    assert a.case_id != c.case_id
    assert a.seed == 5
    assert random_case(np.random.default_rng(1), SpecSpace()).case_id == random_case(
        np.random.default_rng(1), SpecSpace()
    ).case_id


def test_build_case_rebuilds_from_its_seed():
    case = draw_case(SpecSpace(), 9)
    again = build_case(case.spec, case.m, case.seed, scale=float(case.tags[1].split("=")[1]), lr=case.lr)
    # scale is recorded to 3 significant digits, so compare structure, targets and the seeded weights
    assert again.spec == case.spec and again.m == case.m
    np.testing.assert_array_equal(again.y, case.y)
    np.testing.assert_array_equal(again.params["W1"], case.params["W1"])


def test_bad_arguments_raise_readable_errors():
    with pytest.raises(ValueError, match="regime='wild' is unknown"):
        draw_case(SpecSpace(), 0, regime="wild")
    with pytest.raises(ValueError, match="empty architecture range"):
        draw_case(SpecSpace(min_layers=3, max_layers=3), 0, max_layers=2)
    with pytest.raises(ValueError, match="dtypes contains 'float16'"):
        specs(dtypes=("float16",))
    with pytest.raises(ValueError, match="no losses for targets"):
        draw_case(SpecSpace(outputs=(("hinge", ("identity",)),), targets=("dense",)), 0)
    with pytest.raises(ValueError, match="batch range"):
        cases(min_batch=3, max_batch=2)


# -- the regimes do what they promise ------------------------------------------------------------

KINKED = SpecSpace(min_layers=2, hidden_activations=("relu", "leaky_relu"))
SATURATING = SpecSpace(min_layers=2, hidden_activations=("sigmoid", "tanh"))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_near_kink_puts_relu_pre_activations_beside_zero(dtype):
    bound = 1e-6 if dtype == "float64" else 1e-4
    for seed in range(30):
        case = draw_case(KINKED, seed, regime="near_kink", dtype=dtype)
        hidden = np.concatenate([z.ravel() for z in _pre_activations(case)[:-1]])
        near = np.abs(hidden) < bound * max(1.0, float(np.abs(hidden).max()))
        assert near.any(), f"seed {seed}: no hidden pre-activation within {bound} of 0"


def test_exact_zero_makes_exact_zero_pre_activations():
    for seed in range(30):
        case = draw_case(KINKED, seed, regime="exact_zero")
        z1 = _pre_activations(case)[0]
        assert (z1 == 0.0).any(), f"seed {seed}"
        assert all(not case.params[f"b{l}"].any() for l in range(1, case.spec.n_layers + 1))
        # in float32 too: zeros survive the cast
        assert (case.typed(case.x) @ case.typed(case.params["W1"]).T == 0).any()


def test_saturated_pushes_sigmoid_and_tanh_onto_their_tails():
    for seed in range(30):
        case = draw_case(SATURATING, seed, regime="saturated")
        z1 = _pre_activations(case)[0]
        limit = {"sigmoid": 16.0, "tanh": 8.5}[case.spec.activations[0]]
        assert 0.6 * limit - 1e-9 <= np.abs(z1).max() <= limit + 1e-9, f"seed {seed}: max |z| {np.abs(z1).max()}"


def test_large_logits_reach_a_thousand():
    for seed in range(30):
        case = draw_case(SpecSpace(), seed, regime="large_logits")
        zL = _pre_activations(case)[-1]
        assert 300 < np.sqrt(np.mean(zL**2)) < 3000 or not zL.any(), f"seed {seed}"


def test_tiny_is_width_one_batch_one():
    for seed in range(30):
        case = draw_case(SPACES["rows_all"], seed, regime="tiny")
        assert case.m == 1
        assert set(case.spec.sizes[:-1]) == {1}
        assert case.spec.sizes[-1] == 3  # the space's min_outputs


@given(cases(regimes=(None,), steps=4))
def test_learning_rate_keeps_steps_stable(case):
    # lr * (curvature bound) <= 30 by construction; a sanity bound on the plain product
    assert case.lr <= 0.3
    assert case.steps == 4


def test_every_activation_can_be_drawn():
    seen = set()
    for seed in range(300):
        seen.update(draw_case(SpecSpace(), seed).spec.activations)
    assert seen == set(ACTIVATION_NAMES)
