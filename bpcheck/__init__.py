"""bpcheck for instructors' own test files.

    from bpcheck import assert_backprop_matches, strategies

    def test_alice():
        assert_backprop_matches("submissions/alice/network.py", style="nielsen", cases=30)

``assert_backprop_matches(path, style="auto", **opts)`` validates the file exactly as
``bpcheck validate`` does (sandboxed; options root, cases, seed, timeout, memory_mb,
allow_imports) and raises AssertionError with the same report text unless it passes (warnings
pass). ``strategies`` is oracles.strategies: hypothesis strategies for Specs and Cases.
"""

from oracles import strategies
from reports.validate import ValidationReport, assert_backprop_matches, validate_file

__all__ = ["assert_backprop_matches", "validate_file", "ValidationReport", "strategies"]
