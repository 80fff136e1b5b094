"""The student-like fixtures, driven unmodified: correct ones pass against torch on every entry
point, hygiene findings show up only as side effects, conventions differ from the canonical
form but agree with themselves, and every buggy one produces an Observation that differs."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from submissions import expectation, fixtures, load
from submissions.cases import small_cases

from oracles import finite_diff, styles
from oracles.compare import compare_observation, compare_tensor, failures
from oracles.torch_autograd import expected


def _cases_for(space, verdicts):
    """small_cases, adapted so that the planted bug can show (N-d inputs, huge logits)."""
    classes = {c for _, c in verdicts}
    out = []
    for case in small_cases(space) + small_cases(space, seed=1):
        if "nd_input_shape" in classes:
            case = dataclasses.replace(case, tags=(*case.tags, "nd_input"))
        if classes & {"single_sample_only", "class_absent"}:  # batches of one sample miss classes too
            case = dataclasses.replace(case, x=case.x[:1], y=case.y[:1])
        if "softmax_overflow" in classes:
            L = case.spec.n_layers
            params = dict(case.params, **{f"W{L}": case.params[f"W{L}"] * 800.0})
            case = dataclasses.replace(case, params=params)
        out.append(case)
    return out


_EXPECTED: dict[str, object] = {}


def _expected(case):
    # the same small Cases recur across fixtures of one style: one torch run each
    key = (case.spec, case.x.tobytes(), case.y.tobytes(), case.lr, case.steps,
           tuple(p.tobytes() for p in case.params.values()))
    if key not in _EXPECTED:
        _EXPECTED[key] = expected(case)
    return _EXPECTED[key]


@functools.cache
def _drive(path):
    """[(entry, case, observation, failing verdicts)] over every entry point of the fixture."""
    impl, names = load(path)
    style, reason = styles.detect(names)
    assert style == path.parent.name, reason
    entries = styles.entry_points(style, impl)
    assert entries, f"{path.name}: no entry point found"
    runs = []
    for entry in entries:
        if styles.spec_space(style, impl, entry).sequences:
            continue  # layer entries (FullyConnectedNet[batchnorm] ...): tests/test_styles_norm*.py drive them
        for case in _cases_for(styles.spec_space(style, impl, entry), expectation(path)):
            obs = styles.run(style, impl, case, entry)
            runs.append((entry, case, obs, failures(compare_observation(case, obs, _expected(case)))))
    return style, impl, runs


def _describe(runs) -> str:
    lines = []
    for entry, case, obs, bad in runs:
        if bad or obs.errors:
            lines.append(f"[{entry}] {case.describe()}: {obs.errors or ''}")
            lines += ["    " + v.message for v in bad[:3]]
    return "\n".join(lines[:30])


def _ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


PASS = [p for p in fixtures() if expectation(p) == [("pass", "")]]
WARN = [p for p in fixtures() if any(v == "warn" for v, _ in expectation(p))]
CONVENTION = [p for p in fixtures() if {v for v, _ in expectation(p)} == {"convention"}]
FAIL = [p for p in fixtures() if any(v == "fail" for v, _ in expectation(p))]


def test_every_style_has_correct_and_buggy_fixtures():
    for style in ("nielsen", "dlai", "saito", "cs231n"):
        verdicts = [expectation(p)[0][0] for p in fixtures(style)]
        assert "pass" in verdicts and verdicts.count("fail") >= 3, (style, verdicts)


@pytest.mark.parametrize("path", PASS, ids=_ids(PASS))
def test_correct_fixture_passes_everywhere(path):
    _, _, runs = _drive(path)
    assert not any(bad or obs.errors or obs.mutated for _, _, obs, bad in runs), _describe(runs)


@pytest.mark.parametrize("path", WARN, ids=_ids(WARN))
def test_hygiene_finding_is_only_a_side_effect(path):
    verdicts = expectation(path)
    allowed = {"side_effects"} | ({"loss"} if ("convention", "log_epsilon") in verdicts else set())
    _, _, runs = _drive(path)
    assert not any(obs.errors for _, _, obs, _ in runs), _describe(runs)
    checks = {v.check for _, _, _, bad in runs for v in bad}
    assert checks <= allowed, _describe(runs)
    assert any("dout" in obs.mutated for _, _, obs, _ in runs), "the in-place write into dout was not reported"


@pytest.mark.parametrize("path", FAIL, ids=_ids(FAIL))
def test_buggy_fixture_differs(path):
    _, _, runs = _drive(path)
    assert any(bad for _, _, _, bad in runs), f"{path.name} ({expectation(path)}): every check passed"


@pytest.mark.parametrize("path", CONVENTION, ids=_ids(CONVENTION))
def test_convention_differs_but_agrees_with_itself(path):
    style, impl, runs = _drive(path)
    assert any(bad for _, _, _, bad in runs), "a different convention should differ from the canonical form"
    rng = np.random.default_rng(0)
    checked = 0
    for entry, case, obs, _ in runs[:4]:
        if styles.own_loss(style, impl, case, entry) is None:
            continue  # the style exposes no loss (Nielsen's network.py): nothing to agree with
        names = [k for k in case.params if k in obs.grads]
        direction = {k: rng.standard_normal(case.params[k].shape) for k in names}

        def f(params, case=case, entry=entry):
            return styles.own_loss(style, impl, dataclasses.replace(case, params=params), entry)

        d, err = finite_diff.directional(f, case.params, direction)
        claimed = sum(float(np.sum(direction[k] * obs.grads[k])) for k in names)
        v = compare_tensor("own directional derivative", claimed, d, oracle="fd", err_est=err)
        assert v.passed, v.message
        checked += 1
    if expectation(path)[0][1] != "factor_2_cost":  # seed 003 exposes no loss of its own
        assert checked, "no entry point exposed its own loss"


def test_factor_2_convention_is_exactly_twice_the_canonical_gradient():
    path = next(p for p in CONVENTION if expectation(p)[0][1] == "factor_2_cost")
    _, _, runs = _drive(path)
    for _, case, obs, _ in runs:
        exp = _expected(case)
        for k, g in obs.grads.items():
            v = compare_tensor(k, g, 2 * exp.grads[k], dtype=case.spec.dtype)
            assert v.passed, v.message


def test_book_saito_net_loss_is_off_only_by_the_log_epsilon():
    path = next(p for p in WARN if p.name == "book_two_layer_net.py")
    _, _, runs = _drive(path)
    for _, case, obs, _bad in runs:
        if obs.loss is not None:
            exp = _expected(case).loss
            assert abs(obs.loss - exp) <= 1e-6 * max(1.0, abs(exp)), (obs.loss, exp)
