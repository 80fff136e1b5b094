"""Issue 9 section 4: no diagnosis contradicts the findings next to it; section 5: short lines, plain line first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from oracles import torch_autograd
from oracles.case import Case, Spec
from oracles.compare import compare_observation
from oracles.diagnose import diagnose
from oracles.diagnose.structure import _loss_pattern
from oracles.observation import Observation
from reports.validate import validate_file
from reports.validate_consistency import contradictions, drop_contradicted_notes
from reports.validate_report import Check, ValidationReport

SUBMISSIONS = Path(__file__).parent / "submissions"


def _report(checks, notes=()) -> ValidationReport:
    return ValidationReport("f.py", "nielsen", "test", list(checks), notes=list(notes))


@pytest.mark.parametrize("checks, notes, words", [
    ([Check("Network: grad_W", "fail", "x", diagnosis="factor_2: ...; consistent with the convention 'c' (d)\n"
            "forward_pass [loss]: the loss itself differs (1 vs 2) and so do the gradients: "
            "the forward pass is wrong")],
     [], "convention and a wrong forward pass"),
    ([Check("Network: grad_W", "fail", "raised"),
      Check("Network: loss", "fail", "x", diagnosis="loss_grad_mismatch: the loss differs (1 vs 2) while every "
            "gradient matches")], [], "every gradient matches"),
    ([Check("Network: update", "error", "x")], ["Network: no update method: update not checked"], "note"),
    ([Check("Network: loss", "fail", "x", diagnosis="forward_pass: the loss itself differs (0.682512 vs 0.682512)")],
     [], "digits"),
    ([Check("Net: loss", "pass", "x"), Check("Net: grad_W", "fail", "x", plain="dW1 wrong: the loss differs too, so "
                                             "the forward pass is wrong and every gradient after it")],
     [], "passing loss"),
])
def test_each_contradiction_seen_on_real_files_is_detected(checks, notes, words):
    found = contradictions(_report(checks, notes))
    assert found and words in " ".join(found)


def test_a_note_the_checks_disprove_is_dropped():
    r = _report([Check("Network: update", "error", "x")], ["Network: no update method: update not checked", "other"])
    drop_contradicted_notes(r)
    assert r.notes == ["other"] and contradictions(r) == []


def _case() -> Case:
    rng = np.random.default_rng(1)
    spec = Spec(sizes=(3, 4, 2), activations=("sigmoid", "sigmoid"))
    return Case(spec, {"W1": rng.normal(size=(4, 3)), "b1": rng.normal(size=4), "W2": rng.normal(size=(2, 4)),
                       "b2": rng.normal(size=2)}, rng.normal(size=(5, 3)), rng.uniform(0.1, 0.9, (5, 2)))


def test_a_loss_difference_is_printed_with_the_digits_that_show_it():
    case = _case()
    exp = Observation(loss=0.6825121)
    (d,) = _loss_pattern(case, Observation(loss=0.6825124), exp, True)
    assert "0.6825124 vs 0.6825121" in d.message and d.bug_class == "forward_pass"
    # a rounding-level difference is no wrong forward pass
    assert _loss_pattern(case, Observation(loss=0.6825121 * (1 + 1e-12)), exp, True) == []
    (d,) = _loss_pattern(case, Observation(loss=0.6825121 * (1 + 1e-12)), exp, False)
    assert "rounding level" in d.message and "forward pass" not in d.message.replace("not a wrong forward pass", "")


def test_a_gradient_that_raised_is_never_called_matching():
    case = _case()
    exp = torch_autograd.expected(case)
    obs = Observation(loss=exp.loss * 1.5, grads={}, errors={"grad_W": "backprop raised ValueError",
                                                             "grad_b": "backprop raised ValueError"})
    ds = diagnose(case, compare_observation(case, obs, exp), obs, exp)
    text = " ".join(str(d) for d in ds)
    assert "every gradient matches" not in text and "could not be compared" in text


def test_no_convention_beside_a_wrong_forward_pass():
    case = _case()
    exp = torch_autograd.expected(case)
    obs = replace(exp, loss=exp.loss * 1.37, grads={k: 2 * v for k, v in exp.grads.items()}, updated=None,
                  trajectory=None)
    ds = diagnose(case, compare_observation(case, obs, exp), obs, exp)
    text = "\n".join(str(d) for d in ds)
    assert "forward pass is wrong" in text and "consistent with the convention" not in text


@pytest.mark.parametrize("path", [
    "nielsen/transposed_dw.py", "nielsen/sigma_prime_of_a.py", "nielsen/wrong_layer_weights.py",
    "dlai/L_model_relu_derivative_on_a.py", "saito/affine_dw_transposed.py", "cs231n/reg_gradient_missing.py",
    "saito/deepnet_sigmoid_only_bug.py",
])
def test_buggy_fixtures_read_consistently_with_a_plain_line_first_and_short_lines(path):
    r = validate_file(SUBMISSIONS / path, cases=8, shrink=False, timeout=5.0)
    assert r.verdict == "fail"
    assert contradictions(r) == []
    text = r.render()
    assert max(len(line) for line in text.splitlines()) < 400
    failing = [c for c in r.checks if c.verdict == "fail"]
    assert all(c.plain for c in failing)
    # the plain lines lead: the problems block comes before the first check row
    lines = text.splitlines()
    assert lines.index("problems:") < min(i for i, l in enumerate(lines) if l.startswith("FAIL "))
