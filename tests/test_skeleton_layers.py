"""A layer left as the handout's skeleton (forward returns out = None) is a finding, never an empty row.

Seen in a real CS231n file (docs/real-world/layers.tsv, cs231n-4everrain2019-layers): conv_forward_naive and
max_pool_forward_naive returned None, the shared conv/pool runner skipped a None output, the Observation was
empty, no check had a verdict, and the file read "PASS (checked 14 of 14 functions)" on our fixture."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from oracles import styles
from oracles.strategies import draw_case
from reports.validate import validate_file
from tests.submissions import load

CORRECT = Path(__file__).parent / "submissions" / "cs231n" / "layers_correct.py"
# conv and max pool left as the handout gives them (out = None), after a correct assignment-2 layers file
SKELETON = """

def conv_forward_naive(x, w, b, conv_param):
    out = None
    pass
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    pass
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    out = None
    pass
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    dx = None
    pass
    return dx
"""


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("skeleton") / "layers.py"
    path.write_text(CORRECT.read_text() + SKELETON)
    return path


def _impl(path):
    ns, _ = load(path)
    return types.SimpleNamespace(**ns) if isinstance(ns, dict) else ns


def test_a_none_output_and_none_gradients_are_findings(fixture_file):
    impl = _impl(fixture_file)
    case = draw_case(styles.spec_space("cs231n", impl, "fn:conv"), 0)
    obs = styles.run("cs231n", impl, case, "fn:conv")
    assert "is None" in obs.errors["output"] and "dx is None" in obs.errors["grad_x"]
    case = draw_case(styles.spec_space("cs231n", impl, "fn:max_pool"), 0)
    obs = styles.run("cs231n", impl, case, "fn:max_pool")
    assert set(obs.errors) == {"output", "grad_x"}, obs.errors  # a pool has no W or b rows


def test_validate_fails_the_skeleton_layers_and_passes_the_rest(fixture_file):
    r = validate_file(fixture_file, cases=4, timeout=5.0, shrink=False)
    assert r.verdict == "fail"
    failed = {c.name.split(":")[1] for c in r.checks if c.verdict == "fail"}
    assert failed == {"conv", "max_pool"}, [c.name for c in r.checks if c.verdict == "fail"]
    assert all(c.verdict == "pass" for c in r.checks if not c.name.startswith(("fn:conv", "fn:max_pool")))


def test_an_entry_with_nothing_to_compare_is_an_error_row_not_a_missing_one(fixture_file):
    # the judge's own guard, whatever driver produced it: every case an empty Observation
    from types import SimpleNamespace

    from oracles.observation import Observation
    from oracles.sandbox import SandboxResult
    from reports.validate_judge import Judge
    from reports.validate_report import ValidationOptions, ValidationReport

    impl = _impl(fixture_file)
    space = styles.spec_space("cs231n", impl, "fn:conv")
    cases = [draw_case(space, i) for i in range(3)]
    report = ValidationReport(path=str(fixture_file), style="cs231n", style_reason="test", checks=[])
    judge = Judge(SimpleNamespace(output_cap=1 << 20), report, ValidationOptions(cases=3))
    judge.judge_entry("fn:conv", cases, [SandboxResult(obs=Observation()) for _ in cases], {})
    rows = [judge.to_check(r) for r in judge.rows.values()]
    assert [(c.name, c.verdict) for c in rows] == [("fn:conv: run", "error")], rows
    assert "nothing to compare" in rows[0].message
