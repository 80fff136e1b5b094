"""Issue 9 section 2, "take the file as it is", end to end: each loading pattern real submissions show
(Python 2, notebooks, packages, numpy 1.x APIs, course helpers) on fixtures written for bpcheck
(tests/submissions/loading/), through `bpcheck validate` / `bpcheck grade` and the loader's units."""

from __future__ import annotations

from pathlib import Path

from oracles.import_guard import RootFinder

PROJECT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).resolve().parent / "submissions" / "loading"


# ---------------------------------------------------------------- bpcheck's own packages


def test_bpcheck_packages_are_never_served_as_the_learners():
    """The root of reference/mytorch/__init__.py is bpcheck's checkout: oracles.* imported by the child
    after loading must come from bpcheck (not run 'prepared', definitions only, as a learner's helper)."""
    ran = []
    finder = RootFinder([PROJECT], lambda module, path: ran.append(path), package="reference.mytorch")
    for name, path in (("oracles.optim.drivers", [str(PROJECT / "oracles" / "optim")]),
                       ("reports.validate", [str(PROJECT / "reports")]), ("oracles", None),
                       ("reference.functions", [str(PROJECT / "reference")])):
        assert finder.find_spec(name, path) is None, name
    spec = finder.find_spec("reference.mytorch.nn", [str(PROJECT / "reference" / "mytorch")])
    assert spec is not None and type(spec.loader).__name__ == "_PreparedLoader"  # the submission's own package
