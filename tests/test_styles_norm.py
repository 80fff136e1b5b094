"""CS231n normalisation/dropout functions driven unmodified (oracles/styles/cs231n_layers_norm.py): the
references pass in float64 and float32, every planted bug fails the check it breaks, the conventions a file
follows are read from the file (and named, never failed), and `validate` judges a whole layers.py."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from oracles import styles
from oracles import torch_autograd as ta
from oracles.compare import compare_observation, failures
from oracles.strategies import draw_case
from reference import cs231n_norm as R
from reference.mutants import clone_module

FIXTURES = Path(__file__).parent / "submissions" / "norm_cs231n"
ENTRIES = ["fn:batchnorm", "fn:batchnorm_alt", "fn:layernorm", "fn:spatial_batchnorm", "fn:spatial_groupnorm",
           "fn:dropout"]


def _failing(impl, entry: str, n: int = 12, dtype: str | None = None) -> dict[str, int]:
    """check -> failing Cases over n Cases of the entry's space."""
    space = styles.spec_space("cs231n", impl, entry)
    bad: dict[str, int] = {}
    for i in range(n):
        case = draw_case(space, i, dtype=dtype or ("float64" if i % 2 else "float32"))
        obs = styles.run("cs231n", impl, case, entry)
        for v in failures(compare_observation(case, obs, ta.expected(case, given=obs.aux))):
            bad[v.check] = bad.get(v.check, 0) + 1
    return bad


def test_the_reference_defines_every_entry():
    assert styles.detect(R.__all__)[0] == "cs231n"
    assert styles.entry_points("cs231n", R) == ENTRIES


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_reference_passes_every_check_in_both_dtypes(entry):
    assert _failing(R, entry, 24) == {}


def test_every_check_family_is_exercised():
    seen = set()
    for entry in ENTRIES:
        space = styles.spec_space("cs231n", R, entry)
        for i in range(8):
            case = draw_case(space, i)
            obs = styles.run("cs231n", R, case, entry)
            seen |= {v.check for v in compare_observation(case, obs, ta.expected(case, given=obs.aux))}
    assert {"output", "grad_x", "grad_param", "state"} <= seen


def _bn_backward_no_mean(dout, cache):
    xhat, xmu, std, gamma = cache
    dxhat = dout * gamma
    N = dout.shape[0]
    dxmu = dxhat / std + 2.0 * xmu * (0.5 * -np.sum(dxhat * xmu, axis=0) / std**3) / N
    return dxmu, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def test_a_wrong_batchnorm_backward_fails_grad_x_only():
    bad = clone_module(R, {"batchnorm_backward": _bn_backward_no_mean})
    assert set(_failing(bad, "fn:batchnorm")) == {"grad_x"}
    assert _failing(bad, "fn:batchnorm_alt") == {}  # the other backward is the file's correct one


def test_running_statistics_never_updated_fail_state():
    def frozen(x, gamma, beta, bn_param):
        keep = {k: bn_param.get(k) for k in ("running_mean", "running_var")}
        out, cache = R.batchnorm_forward(x, gamma, beta, bn_param)
        bn_param.update(keep)
        return out, cache

    bad = clone_module(R, {"batchnorm_forward": frozen})
    assert set(_failing(bad, "fn:batchnorm")) == {"state"}


def _variant(**over):
    return clone_module(R, over)


def test_running_var_unbiased_and_eps_outside_at_test_are_read_as_conventions():
    def unbiased(x, gamma, beta, bn_param):
        out, cache = R.batchnorm_forward(x, gamma, beta, bn_param)
        if bn_param["mode"] == "train":  # redo the variance part with ddof=1
            m = bn_param.get("momentum", 0.9)
            rv0 = (bn_param["running_var"] - (1 - m) * x.var(axis=0)) / m
            bn_param["running_var"] = m * rv0 + (1 - m) * x.var(axis=0, ddof=1)
        return out, cache

    def eps_outside(x, gamma, beta, bn_param):
        if bn_param["mode"] == "test":
            xhat = (x - bn_param["running_mean"]) / (np.sqrt(bn_param["running_var"]) + bn_param.get("eps", 1e-5))
            return gamma * xhat + beta, None
        return R.batchnorm_forward(x, gamma, beta, bn_param)

    for fn, conv, value in ((unbiased, "running_var", "unbiased"), (eps_outside, "eps_at_test", "outside")):
        impl = _variant(batchnorm_forward=fn)
        space = styles.spec_space("cs231n", impl, "fn:batchnorm")
        assert ("batchnorm", conv, value) in space.fixed
        assert _failing(impl, "fn:batchnorm", 16) == {}
        case = draw_case(space, 1)
        assert any(n.startswith("convention: fn:batchnorm") for n in styles.run("cs231n", impl, case,
                                                                                  "fn:batchnorm").notes)
    # the course's own file: no convention to state
    assert not [n for n in styles.run("cs231n", R, draw_case(styles.spec_space("cs231n", R, "fn:batchnorm"), 1),
                                      "fn:batchnorm").notes if n.startswith("convention")]


def _dropout(keep_of_p, scale_of_p, test_scale_of_p=lambda p: 1.0, fresh_backward=False):
    def forward(x, dropout_param):
        p, mode = dropout_param["p"], dropout_param["mode"]
        if mode == "train":
            mask = (np.random.rand(*x.shape) < keep_of_p(p)) * scale_of_p(p)
            return x * mask, (dropout_param, mask)
        return x * test_scale_of_p(p), (dropout_param, None)

    def backward(dout, cache):
        dp, mask = cache
        if dp["mode"] != "train":
            return dout * test_scale_of_p(dp["p"])
        if fresh_backward:
            mask = (np.random.rand(*dout.shape) < keep_of_p(dp["p"])) * scale_of_p(dp["p"])
        return dout * mask

    return types.SimpleNamespace(dropout_forward=forward, dropout_backward=backward)


def test_dropout_p_as_keep_or_drop_is_read_by_the_binomial_test():
    keep = _dropout(lambda p: p, lambda p: 1 / p)
    drop = _dropout(lambda p: 1 - p, lambda p: 1 / (1 - p))
    for impl, fixed in ((keep, ("keep", "inverted")), (drop, ("drop", "inverted"))):
        space = styles.spec_space("cs231n", impl, "fn:dropout")
        assert tuple(v for _, _, v in space.fixed) == fixed
        assert _failing(impl, "fn:dropout", 16) == {}


def test_dropout_bugs_fail_the_check_they_break():
    neither = _dropout(lambda p: p * p, lambda p: 1 / p)  # keeps at p^2, scales by 1/p: only the binomial test sees it
    assert set(_failing(neither, "fn:dropout", 16, dtype="float64")) == {"output"}
    unscaled = _dropout(lambda p: p, lambda p: 1.0)  # train not inverted, test identity: E[out] != test out
    assert "output" in _failing(unscaled, "fn:dropout", 16)
    # Saito's non-inverted dropout in a CS231n file: the handout asks for inverted dropout in every year
    not_inverted = _dropout(lambda p: 1 - p, lambda p: 1.0, lambda p: 1 - p)
    assert "output" in _failing(not_inverted, "fn:dropout", 16)
    test_scaled = _dropout(lambda p: p, lambda p: 1 / p, lambda p: p)
    assert "output" in _failing(test_scaled, "fn:dropout", 16)
    fresh = _dropout(lambda p: p, lambda p: 1 / p, fresh_backward=True)
    assert set(_failing(fresh, "fn:dropout", 16)) == {"grad_x"}


def test_running_statistics_kept_with_keepdims_are_accepted_with_a_note():
    def keepdims(x, gamma, beta, bn_param):
        out, cache = R.batchnorm_forward(x, gamma, beta, bn_param)
        bn_param["running_mean"] = bn_param["running_mean"].reshape(1, -1)
        bn_param["running_var"] = bn_param["running_var"].reshape(1, -1)
        return out, cache

    impl = _variant(batchnorm_forward=keepdims)
    assert _failing(impl, "fn:batchnorm") == {}


@pytest.mark.parametrize("name,verdict", [
    pytest.param("layers_norm_correct.py", "pass", marks=pytest.mark.slow), ("layers_bn_backward_no_mean.py", "fail"),
    pytest.param("layers_dropout_2017_drop_prob.py", "pass", marks=pytest.mark.slow)])
def test_validate_judges_a_whole_layers_file(name, verdict):
    from reports.validate import validate_file

    r = validate_file(FIXTURES / name, cases=10, shrink=False)
    assert r.verdict == verdict, r.render()
    text = r.render()
    if verdict == "pass":
        assert "checked 16 of 16 functions" in text, text
    else:
        bad = [c for c in r.checks if c.verdict == "fail"]
        assert [c.name for c in bad] == ["fn:batchnorm: grad_x"], text
    if "2017" in name:
        assert any("DROP probability" in c for c in r.conventions), text


def test_a_correct_layernorm_on_two_features_is_not_a_false_alarm():
    """D = 2: dx cancels to ~1e-6 of its terms; the float32 re-run that measures the oracle's error cancels
    exactly there and undershot a correct float64 layer by 80x before the a priori floor."""
    from oracles.layers.norm import rounding_floor

    space = styles.spec_space("cs231n", R, "fn:layernorm")
    case = draw_case(space, 13, dtype="float64")
    assert case.spec.input_shape == (2,)
    obs = styles.run("cs231n", R, case, "fn:layernorm")
    exp = ta.expected(case)
    assert not failures(compare_observation(case, obs, exp))
    measured = ta._err_est(case, exp.loss, exp.grads, exp.trajectory, exp.state, None, exp.out)["x"]
    assert rounding_floor(case)["x"] > 20 * measured  # the floor, not the measurement, decides here
