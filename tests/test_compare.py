"""The one comparison: tolerance table, verdicts, messages."""

import numpy as np
import pytest

from oracles.case import Case, Spec
from oracles.compare import EPS, assert_matches, compare_observation, compare_tensor, tolerance
from oracles.observation import Observation


def _grad(seed=0, shape=(4, 3)):
    return np.random.default_rng(seed).standard_normal(shape)


def test_exact_match_passes():
    g = _grad()
    v = compare_tensor("grads['W1']", g, g)
    assert v.passed and v.norm_err == 0 and v.check == "grad_W"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rounding_to_dtype_passes(dtype):
    g = _grad()
    v = compare_tensor("grads['W1']", g.astype(dtype), g, dtype=dtype)
    assert v.passed, v.message


def test_one_percent_in_one_bias_element_fails_in_float32():
    g = _grad(shape=(16,))
    bad = g.astype(np.float32).copy()
    i = int(np.abs(g).argmax())
    bad[i] *= 1.01
    v = compare_tensor("grads['b2']", bad, g, dtype="float32")
    assert not v.passed
    assert v.max_abs_index == (i,)
    assert "b2" in v.message and "allowed" in v.message


def test_factor_half_is_reported_with_norm_ratio():
    g = _grad()
    v = compare_tensor("grads['W2']", g / 2, g, context="case 7")
    assert not v.passed
    assert v.norm_ratio == pytest.approx(0.5)
    assert v.message.startswith("case 7 > grads['W2']: 12/12 mismatched")


def test_absolute_floor_scales_with_family_not_tensor():
    # a tensor whose exact value is ~1e-20 (vanishing gradient): float32 noise at 1e-12 relative to
    # the family's scale must pass; the same noise judged against the tensor's own norm would not.
    e = np.full(3, 1e-20)
    a = e + 1e-12
    assert compare_tensor("grads['b1']", a, e, dtype="float32", scale=1.0).passed
    assert not compare_tensor("grads['b1']", a, e, dtype="float32").passed


def test_error_estimate_widens_allowance():
    g = _grad()
    a = g + 1e-10
    assert not compare_tensor("grads['W1']", a, g).passed
    assert compare_tensor("grads['W1']", a, g, err_est=float(np.linalg.norm(a - g))).passed


def test_wrong_shape_nan_and_type_are_failures_with_reasons():
    g = _grad(shape=(3,))
    assert "shape (3, 1)" in compare_tensor("grads['b1']", g[:, None], g).message
    nan = g.copy()
    nan[1] = np.nan
    assert "NaN or inf (first at (1,))" in compare_tensor("grads['b1']", nan, g).message
    assert "expected an array of numbers" in compare_tensor("grads['b1']", "oops", g).message


def test_tolerances_follow_dtype_epsilon():
    assert tolerance("float32", "torch").rtol / tolerance("float64", "torch").rtol == pytest.approx(
        EPS["float32"] / EPS["float64"]
    )
    with pytest.raises(ValueError, match="oracles"):
        tolerance("float64", "nope")


def _case():
    spec = Spec((2, 3), ("identity",))
    rng = np.random.default_rng(1)
    return Case(spec, {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal(3)},
                rng.standard_normal((4, 2)), rng.standard_normal((4, 3)))


def test_observation_comparison_covers_errors_side_effects_and_update():
    case = _case()
    exp = Observation(loss=1.5, grads={"W1": _grad(shape=(3, 2)), "b1": _grad(1, (3,))},
                      updated={"W1": _grad(2, (3, 2)), "b1": _grad(3, (3,))})
    obs = Observation(loss=1.5, grads={"W1": exp.grads["W1"] * 2, "b1": exp.grads["b1"]},
                      updated={"W1": exp.updated["W1"]}, mutated=["x"], errors={"grad_x": "raised ValueError"})
    verdicts = compare_observation(case, obs, exp)
    status = {v.name: v.status for v in verdicts}
    assert status == {"grad_x": "error", "loss": "pass", "grads['W1']": "fail", "grads['b1']": "pass",
                      "updated['W1']": "pass", "updated['b1']": "fail", "x": "fail"}
    with pytest.raises(AssertionError, match=r"grads\['W1'\].*norm ratio 2"):
        assert_matches(case, obs, exp, checks=["grad_W"])
    assert_matches(case, obs, exp, checks=["grad_b", "loss"])


def test_softmax_targets_must_be_distributions():
    spec = Spec((2, 2), ("identity",), loss="softmax_cross_entropy")
    p = {"W1": np.zeros((2, 2)), "b1": np.zeros(2)}
    Case(spec, p, np.zeros((1, 2)), np.array([[0.25, 0.75]]))
    with pytest.raises(ValueError, match="row 0 sums to 0: softmax cross-entropy targets must be distributions"):
        Case(spec, p, np.zeros((1, 2)), np.array([[0.0, 0.0]]))
    with pytest.raises(ValueError, match=r"binary cross-entropy targets must lie in \[0, 1\]"):
        Case(Spec((2, 2), ("sigmoid",), loss="binary_cross_entropy"), p, np.zeros((1, 2)), np.array([[2.0, 0.0]]))


def test_the_oracle_estimate_is_read_only_for_a_tensor_outside_the_zero_estimate_bound():
    """compare_observation judges at estimate 0 first (the bound only grows with it) and reads the oracle's
    LazyEstimate only for what fails there: a correct observation never pays for the float32 re-run, and a
    tensor off by its rounding still passes once the estimate is read."""
    from oracles.observation import LazyEstimate

    case = _case()
    g = {"W1": _grad(shape=(3, 2)), "b1": _grad(1, (3,))}
    reads = []

    def estimate():
        reads.append(1)
        return {"W1": 1e-6, "b1": 0.0, "loss": 0.0}

    exp = Observation(loss=1.5, grads=g, err_est=LazyEstimate(estimate))
    assert all(v.passed for v in compare_observation(case, Observation(loss=1.5, grads=dict(g)), exp))
    assert reads == []  # a correct observation: not computed
    off = {"W1": g["W1"] + 1e-7, "b1": g["b1"]}  # outside the zero-estimate bound, inside the estimate's
    assert not compare_tensor("grads['W1']", off["W1"], g["W1"]).passed
    status = {v.name: v.status for v in compare_observation(case, Observation(loss=1.5, grads=off), exp)}
    assert status == {"loss": "pass", "grads['W1']": "pass", "grads['b1']": "pass"} and reads == [1]
    wrong = {"W1": g["W1"] * 1.01, "b1": g["b1"]}  # a real error stays a failure with the estimate read
    status = {v.name: v.status for v in compare_observation(case, Observation(loss=1.5, grads=wrong), exp)}
    assert status["grads['W1']"] == "fail" and reads == [1]  # computed once per case
    import pickle  # (a campaign's workers send expected Observations back: it travels as the plain dict)

    assert pickle.loads(pickle.dumps(exp.err_est)) == {"W1": 1e-6, "b1": 0.0, "loss": 0.0}
