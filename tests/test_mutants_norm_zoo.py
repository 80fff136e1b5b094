"""Every normalisation/dropout mutant in the zoo is killed by the checks and named by the diagnosis."""

from __future__ import annotations

import pytest

from reference.mutants import MUTANTS
from reference.mutants_norm import DRIVEN

NORM = sorted(n for n, m in MUTANTS.items() if m.entry in DRIVEN.get(m.style, ()))


def test_the_driven_norm_mutants_are_in_the_zoo():
    assert len(NORM) >= 13


@pytest.mark.parametrize("name", NORM)
def test_norm_mutant_killed_and_named(name):
    from reports.mutation_run import run_mutant

    m = MUTANTS[name]
    r = run_mutant(m, cases=12, seed=0, entries=[m.entry])
    assert r.killed and not r.false_alarms and not r.problems, r.to_dict()
    assert r.named, f"{name}: planted {m.bug_class}, diagnosed {r.diagnosis}"
