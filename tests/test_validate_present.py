"""Issue 9 section 5: what a student reads. The smallest failing case looks like a network (no all-zero
weights, no -0.0, the bug still shows), lines stay short, and passing rows print nothing scary."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oracles.case import Case, Spec
from reports.validate import validate_file
from reports.validate_present import looks_like_a_network, presentable

SUBMISSIONS = Path(__file__).parent / "submissions"


def _zero_case() -> Case:
    spec = Spec(sizes=(2, 2, 1), activations=("sigmoid", "sigmoid"))
    return Case(spec, {"W1": np.zeros((2, 2)), "b1": np.array([-0.0, 0.0]), "W2": np.array([[1.0, -0.0]]),
                       "b2": np.zeros(1)}, np.array([[0.0, -0.0]]), np.array([[0.0]]))


def test_zeros_and_negative_zeros_become_short_decimals_when_the_bug_still_shows():
    case = _zero_case()
    assert looks_like_a_network(case)  # the shrinker's favourite output is what we must not print
    out = presentable(case, lambda c: True)
    assert looks_like_a_network(out) == []
    for a in [*out.params.values(), out.x]:
        assert np.all(a != 0) and np.array_equal(a, np.round(a, 1))
    assert out.params["W2"][0, 0] == 1.0  # non-zero entries are kept


def test_a_zero_the_bug_needs_is_kept():
    # a bug that shows only at a zero bias (say a relu kink): b1's zeros stay, the rest is filled
    case = _zero_case()
    out = presentable(case, lambda c: not np.any(c.params["b1"]))
    assert not np.any(out.params["b1"]) and not np.any(np.signbit(out.params["b1"]))
    assert np.all(out.params["W1"] != 0) and np.all(out.x != 0)


def test_a_case_the_failure_needs_untouched_is_returned_as_is():
    case = _zero_case()
    assert presentable(case, lambda c: False) is case


def test_the_smallest_failing_case_of_a_real_bug_looks_like_a_network():
    # transposed dW: shrunk to a 1-input net, the shrinker rounds every number to 0 (seen before this fix)
    r = validate_file(SUBMISSIONS / "nielsen" / "transposed_dw.py", cases=8, timeout=5.0)
    bad = [c for c in r.checks if c.verdict == "fail" and c.case is not None]
    assert r.verdict == "fail" and bad
    for c in bad:
        assert looks_like_a_network(c.case) == [], (c.name, c.snippet)
        assert "-0.0" not in (c.snippet or "")


def test_passing_rows_print_no_scary_numbers():
    # an elementwise relative error of 1.0 on an entry that is 1e-17 against 0 misleads: passing rows say
    # that they match, and nothing else, even in the verbose report
    r = validate_file(SUBMISSIONS / "nielsen" / "network_correct.py", cases=8, shrink=False, timeout=5.0)
    assert r.verdict == "pass"
    text = r.render(verbose=True)
    for word in ("rel diff", "rel error", "mismatched", "greatest abs"):
        assert word not in text, text


def test_a_failing_report_ends_with_the_one_line_rerun_command():
    # Standards: every failure prints a one-line replay command (the same seed draws the same cases)
    r = validate_file(SUBMISSIONS / "nielsen" / "transposed_dw.py", cases=8, shrink=False, timeout=5.0)
    assert r.verdict == "fail"
    lines = r.render().splitlines()
    assert lines[-2].startswith("re-run: bpcheck validate ") and "--seed 0 --cases 8" in lines[-2]
    assert lines[-2].split()[3].endswith("transposed_dw.py")
    assert r.to_dict()["rerun"] == lines[-2]
    ok = validate_file(SUBMISSIONS / "nielsen" / "network_correct.py", cases=8, shrink=False, timeout=5.0)
    assert ok.verdict == "pass" and not any(line.startswith("re-run:") for line in ok.render().splitlines())
