"""A layer left as the handout's skeleton (forward returns out = None) is a finding, never an empty row.

Seen in a real CS231n file (docs/real-world/layers.tsv, cs231n-4everrain2019-layers): conv_forward_naive and
max_pool_forward_naive returned None, the shared conv/pool runner skipped a None output, the Observation was
empty, no check had a verdict, and the file read "PASS (checked 14 of 14 functions)" on our fixture."""

from __future__ import annotations

import types
from pathlib import Path

from oracles import styles
from oracles.strategies import draw_case
from reports.validate import validate_file
from tests.submissions import load

FIXTURE = Path(__file__).parent / "submissions" / "skeleton" / "layers_conv_skeleton.py"


def _impl():
    ns, _ = load(FIXTURE)
    return types.SimpleNamespace(**ns) if isinstance(ns, dict) else ns


def test_a_none_output_and_none_gradients_are_findings():
    impl = _impl()
    case = draw_case(styles.spec_space("cs231n", impl, "fn:conv"), 0)
    obs = styles.run("cs231n", impl, case, "fn:conv")
    assert "is None" in obs.errors["output"] and "dx is None" in obs.errors["grad_x"]
    case = draw_case(styles.spec_space("cs231n", impl, "fn:max_pool"), 0)
    obs = styles.run("cs231n", impl, case, "fn:max_pool")
    assert set(obs.errors) == {"output", "grad_x"}, obs.errors  # a pool has no W or b rows


def test_validate_fails_the_skeleton_layers_and_passes_the_rest():
    r = validate_file(FIXTURE, cases=4, timeout=5.0, shrink=False)
    assert r.verdict == "fail"
    failed = {c.name.split(":")[1] for c in r.checks if c.verdict == "fail"}
    assert failed == {"conv", "max_pool"}, [c.name for c in r.checks if c.verdict == "fail"]
    assert all(c.verdict == "pass" for c in r.checks if not c.name.startswith(("fn:conv", "fn:max_pool")))
