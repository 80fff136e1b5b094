"""Test doubles for the report tests: fake subjects with a hand-computed truth, and broken course code.

* ``fake_campaign``: runs reports.campaign with its driver / oracle / case hooks replaced by a tiny
  one-layer quadratic network computed here by hand, so the campaign engine and renderers are
  tested without depending on the drivers. Fake subjects: ``fake:good``, ``fake:broken``
  (weight gradient doubled), ``fake:batchonly`` (weight gradient m times too large: wrong only
  for batches > 1), ``fake:nan`` (NaN bias gradient), ``fake:raises`` (an exception that
  escapes the driver), ``fake:wrongtype`` (the driver returns junk).
* ``BROKEN_NIELSEN``: reference.nielsen with one realistic bug (the output layer's weight gradient
  is doubled, the factor 2 of an (a - y)^2 cost), importable as
  ``nielsen:test_report_doubles:BROKEN_NIELSEN[Network]`` for real end-to-end campaigns.
"""

from __future__ import annotations

import types

import numpy as np

from oracles.case import Case, Spec, SpecSpace
from oracles.observation import Observation
from reference import nielsen as _nielsen

# ---------------------------------------------------------------- broken course code (real drivers)


class _BrokenNetwork(_nielsen.Network):
    def backprop(self, x, y):
        nabla_b, nabla_w = super().backprop(x, y)
        nabla_w[-1] = 2 * nabla_w[-1]  # the factor 2 of an (a - y)^2 cost without the 1/2
        return nabla_b, nabla_w


BROKEN_NIELSEN = types.SimpleNamespace(
    Network=_BrokenNetwork, QuadraticCost=_nielsen.QuadraticCost, CrossEntropyCost=_nielsen.CrossEntropyCost,
    __all__=["Network", "QuadraticCost", "CrossEntropyCost"],
)
BROKEN_NIELSEN_SUBJECT = "nielsen:test_report_doubles:BROKEN_NIELSEN[Network]"

# ---------------------------------------------------------------- fake subjects (hooks replaced)


def tiny_case(seed: int) -> Case:
    """One identity layer (3 -> 2), quadratic loss, mean over a batch of 1..4: gradients by hand."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 5))
    spec = Spec(sizes=(3, 2), activations=("identity",), loss="quadratic")
    return Case(spec=spec, params={"W1": rng.standard_normal((2, 3)), "b1": rng.standard_normal(2)},
                x=rng.standard_normal((m, 3)), y=rng.standard_normal((m, 2)), lr=0.1, seed=seed, steps=1)


def truth(case: Case, given: dict | None = None) -> Observation:
    """loss = mean_i 1/2 ||W x_i + b - y_i||^2; dW = (A - Y)^T X / m; db = mean(A - Y)."""
    W, b, x, y = case.params["W1"], case.params["b1"], case.x, case.y
    r = x @ W.T + b - y
    m = case.m
    grads = {"W1": r.T @ x / m, "b1": r.mean(axis=0)}
    updated = {k: case.params[k] - case.lr * g for k, g in grads.items()}
    return Observation(loss=0.5 * float((r**2).sum()) / m, grads=grads, updated=updated)


def fake_observe(subject, case: Case) -> Observation:
    kind = subject.module.split(":", 1)[1]
    obs = truth(case)
    if kind == "broken":
        obs.grads["W1"] = 2 * obs.grads["W1"]
    elif kind == "batchonly" and case.m > 1:  # e.g. a sum where the mean belongs: invisible for m = 1
        obs.grads["W1"] = case.m * obs.grads["W1"]
    elif kind == "nan":
        obs.grads["b1"] = np.full_like(obs.grads["b1"], np.nan)
    elif kind == "raises":
        raise RuntimeError("boom from the fake subject")
    elif kind == "wrongtype":
        return "not an observation"
    return obs


def install_fakes(monkeypatch) -> None:
    from reports import campaign_case  # the one-case code looks its hooks up there

    monkeypatch.setattr(campaign_case, "_observe", fake_observe)
    monkeypatch.setattr(campaign_case, "_torch_expected", truth)
    monkeypatch.setattr(campaign_case, "_draw", lambda subject, i, config: _tagged(subject, i, config))
    monkeypatch.setattr(campaign_case, "_space", lambda subject: SpecSpace(hidden_activations=("identity",)))


def _tagged(subject, i, config) -> Case:
    from dataclasses import replace

    from reports.campaign import case_seed

    case = tiny_case(case_seed(config.seed, i))
    return replace(case, tags=(f"subject:{subject.name}",))


def fake_subjects(*kinds: str):
    from reports.campaign import Subject

    return [Subject(f"fake:{k}", "fake", f"fake:{k}", "Net") for k in kinds]


def fake_campaign(monkeypatch, tmp_path, *kinds: str, cases: int = 4, **kwargs) -> dict:
    """A torch-oracle-only campaign over fake subjects (serial: the hooks live in this process)."""
    from reports.campaign import CampaignConfig, run_campaign

    install_fakes(monkeypatch)
    config = CampaignConfig(cases=cases, seed=kwargs.pop("seed", 0), oracles=("torch",))
    return run_campaign(fake_subjects(*kinds), config, cases_dir=tmp_path / "cases", progress=False, **kwargs)


# ---------------------------------------------------------------- the doubles are right


def test_truth_matches_the_torch_oracle():
    """The hand-computed fake truth must itself be correct, or the fake campaigns prove nothing."""
    import pytest

    torch_autograd = pytest.importorskip("oracles.torch_autograd")
    from oracles.compare import compare_observation

    for seed in range(5):
        case = tiny_case(seed)
        exp = torch_autograd.expected(case)
        verdicts = compare_observation(case, truth(case), exp, checks=("loss", "grad_W", "grad_b", "update"))
        assert verdicts and all(v.passed for v in verdicts), [v.message for v in verdicts if not v.passed]


def test_broken_nielsen_differs_from_the_reference_only_in_the_last_weight_gradient():
    net = _BrokenNetwork([3, 4, 2], seed=1)
    ref = _nielsen.Network([3, 4, 2], seed=1)
    x, y = np.ones((3, 1)), np.zeros((2, 1))
    (_, bw), (_, rw) = net.backprop(x, y), ref.backprop(x, y)
    np.testing.assert_array_equal(bw[0], rw[0])
    np.testing.assert_array_equal(bw[-1], 2 * rw[-1])
    assert np.abs(rw[-1]).max() > 0
