"""Issue 9 diagnosis hypotheses: each mutant (reference/mutants_verdicts.py) is killed and named as planted."""

from __future__ import annotations

import pytest

from reference.mutants import MUTANTS
from reports.mutation_run import run_mutant

CASES = [
    ("dlai2_grad_for_param", "two_layer"),
    ("dlai2_tanh_prime_twice", "two_layer"),
    ("cs231n_reg_scalar_sum", "FullyConnectedNet"),
    ("cs231n_l2_per_sample", "FullyConnectedNet"),
    ("cs231n_full_reg_on_bias", "FullyConnectedNet"),
    ("nielsen_decay_over_batch", "Network"),
    ("nielsen_sgd_full_batches_only", "Network"),
    ("cs231n_sigmoid_on_scores", "FullyConnectedNet"),
]


@pytest.mark.parametrize("name, entry", CASES)
def test_hypothesis_mutant_killed_and_named(name, entry):
    r = run_mutant(MUTANTS[name], cases=12, seed=0, entries=[entry])
    assert r.killed, f"{name} survived {r.n_cases} Cases"
    assert r.diagnosis is not None and r.diagnosis.bug_class == MUTANTS[name].bug_class, (
        f"{name}: planted {MUTANTS[name].bug_class}, diagnosed {r.diagnosis}")


@pytest.mark.parametrize("path, bug", [
    ("dlai/two_layer_grad_for_param.py", "grad_for_param"),
    ("dlai/two_layer_tanh_prime_twice.py", "derivative_twice"),
    ("cs231n/reg_scalar_sum.py", "scalar_added"),
    ("cs231n/scores_sigmoid.py", "output_activation"),
    ("cs231n/l2_per_sample.py", "l2_per_sample"),
])
def test_student_like_fixture_is_named(path, bug):
    from pathlib import Path

    from reports.validate import validate_file

    r = validate_file(Path(__file__).parent / "submissions" / path, cases=16, shrink=False, timeout=5.0)
    assert r.verdict == "fail"
    assert bug in r.bug_classes(), (r.bug_classes(), r.render())
