"""The tolerance's condition term: saturated units must not cause false alarms, bugs must still fail."""

from pathlib import Path

import numpy as np
import pytest

from oracles.case import Case, Spec
from oracles.compare import compare_observation, failures
from oracles.error_model import rounding_bounds
from oracles.observation import Observation
from oracles.torch_autograd import expected


def _saturated_case(dtype="float64"):
    # z1 = 15: tanh'(z1) = 1 - tanh(15)^2 ~ 3.7e-13, computed from a = tanh(z1) with absolute error ~u,
    # i.e. a relative error ~3e-4 in float64 that every course-style implementation (and torch) carries.
    spec = Spec((1, 1, 2), ("tanh", "identity"), loss="softmax_cross_entropy", target="labels", dtype=dtype)
    params = {"W1": np.array([[15.0]]), "b1": np.array([0.0]),
              "W2": np.array([[0.7], [-0.3]]), "b2": np.array([0.1, 0.2])}
    return Case(spec, params, np.array([[1.0]]), np.array([1]))


def _course_style(case, bug=1.0):
    """The gradient as courses write it (tanh' = 1 - a^2), in the case's dtype."""
    W1, b1, W2, b2 = (case.typed(case.params[k]) for k in ("W1", "b1", "W2", "b2"))
    x = case.typed(case.x)
    a1 = np.tanh(x @ W1.T + b1)
    z2 = a1 @ W2.T + b2
    p = np.exp(z2 - z2.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d2 = p.copy()
    d2[0, case.y[0]] -= 1
    dA1 = d2 @ W2
    d1 = dA1 * (1 - a1**2)
    grads = {"W2": d2.T @ a1 * bug, "b2": d2.sum(0), "A1": dA1, "W1": d1.T @ x, "b1": d1.sum(0), "x": d1 @ W1}
    return Observation(grads={k: v.astype(np.float64) for k, v in grads.items()})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saturated_tanh_is_not_a_false_alarm(dtype):
    case = _saturated_case(dtype)
    verdicts = compare_observation(case, _course_style(case), expected(case))
    assert not failures(verdicts), [v.message for v in failures(verdicts)]


def test_campaign_case_that_cried_wolf_passes():
    # bpcheck report once flagged our own cs231n layers on this saturated case (tanh of ~8 inside a
    # 5-layer net): every tensor below the saturated layer carried a 1.8e-5 relative error from
    # 1 - a^2, which the float32 re-run cannot see (in float32 tanh(8) is exactly 1).
    import reference.cs231n
    from oracles import styles

    case = Case.load(Path(__file__).parent / "data" / "saturated_tanh_cs231n_layers.npz")
    observed = styles.run("cs231n", reference.cs231n, case, "layers")
    verdicts = compare_observation(case, observed, expected(case))
    assert not failures(verdicts), [v.message for v in failures(verdicts)]
    assert expected(case).err_est["A3"] >= rounding_bounds(case)["A3"]  # the oracle uses the model


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_percent_bug_still_fails_in_a_saturated_case(dtype):
    case = _saturated_case(dtype)
    bad = failures(compare_observation(case, _course_style(case, bug=1.01), expected(case)))
    assert [v.name for v in bad] == ["grads['W2']"]


def test_bound_is_tight_on_a_well_conditioned_case():
    rng = np.random.default_rng(3)
    spec = Spec((3, 4, 2), ("sigmoid", "identity"), loss="quadratic")
    case = Case(spec, {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(4),
                       "W2": rng.standard_normal((2, 4)), "b2": rng.standard_normal(2)},
                rng.standard_normal((5, 3)), rng.standard_normal((5, 2)))
    exp = expected(case, estimate=False)
    bounds = rounding_bounds(case)
    for k, g in exp.grads.items():
        rel = bounds[k] / np.linalg.norm(g)
        assert 1e-17 < rel < 1e-13, (k, rel)


def test_cost_from_a_saturated_probability_is_not_judged_but_gradients_are():
    # the deeplearning.ai cost sees only AL: with z = 40, 1 - AL has rounded to 0 in float64, so the
    # true cost (40) cannot be computed from AL; the loss is "not judged", the gradient still is.
    spec = Spec((1, 1), ("sigmoid",), loss="binary_cross_entropy")
    case = Case(spec, {"W1": np.array([[40.0]]), "b1": np.array([0.0])}, np.array([[1.0]]), np.array([[0.0]]))
    a = 1 / (1 + np.exp(-40.0))
    clipped = -np.log(1 - min(a, 1 - 1e-15))  # what a clipping course solution returns
    observed = Observation(loss=clipped, grads={"W1": np.array([[a - 0.0]]), "b1": np.array([a])})
    status = {v.name: v.status for v in compare_observation(case, observed, expected(case))}
    assert status == {"loss": "nondiff", "grads['W1']": "pass", "grads['b1']": "pass"}
    wrong = Observation(grads={"W1": np.array([[2 * a]]), "b1": np.array([a])})
    assert [v.name for v in failures(compare_observation(case, wrong, expected(case)))] == ["grads['W1']"]
