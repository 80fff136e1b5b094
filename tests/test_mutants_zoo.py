"""The mutation zoo: every mutant is killed by the property checks and diagnosed as planted."""

from __future__ import annotations

import pytest

from reference.mutants import MUTANTS

# one per style and per bug family, each on the entry point that exercises the bug (about 1 s each)
FAST = [
    ("nielsen_sigma_prime_of_a", "Network"),              # recomputation: sigma'(a)
    ("nielsen_off_by_one_layer", "Network"),              # zero gradient
    ("nielsen_update_eta_not_eta_over_m", "Network"),     # update only
    ("matrix_missing_mean", "Network[batch]"),            # constant factor m
    ("matrix_keepdims_missing", "Network[batch]"),        # broadcasting shape change
    ("matrix_x_for_a_prev", "Network"),                   # X in place of A_prev
    ("dlai_cost_not_averaged", "L_model"),                # loss and gradient averaged differently
    ("dlai_sign_flip", "L_model"),                        # factor -1
    ("dlai_relu_mask_lt", "L_model"),                     # relu'(0) at exact zeros
    ("dlai_relu_backward_in_place", "L_model"),           # upstream gradient mutated
    ("dlai2_tanh_prime_of_a", "two_layer"),               # seed 001 tanh'(A)
    ("saito_softmax_one_hot_only", "MultiLayerNet"),      # campaign condition: labels only
    ("saito_affine_db_not_summed", "MultiLayerNet"),      # extra batch axis
    ("saito_affine_dw_transposed", "MultiLayerNet"),      # transpose
    ("cs231n_softmax_no_max", "FullyConnectedNet"),       # overflow on large logits
    ("cs231n_reg_on_bias", "FullyConnectedNet"),          # regularisation on biases
    ("cs231n_relu_mask_from_dout", "FullyConnectedNet"),  # wrong derivative
    ("cs231n_relu_forward_in_place", "fn:relu"),          # input mutated
    ("matrix_averaged_twice", "Network[batch]"),          # constant factor 1/m
    ("nielsen_factor_2_cost", "Network"),                 # factor 2 (seed 003)
    ("nielsen_output_delta_no_derivative", "Network"),    # output delta without sigma'(z_L)
    ("nielsen_wrong_layer_weights", "Network"),           # the recursion breaks at a layer (seed 001)
    ("dlai_w_at_b_forward", "L_model"),                   # W @ b in the forward pass (seed 001)
    ("cs231n_reg_gradient_doubled", "FullyConnectedNet"),  # regularisation gradient scaled wrong
]


def test_zoo_is_big_and_labelled():
    from oracles.diagnose import BUG_CLASSES
    from oracles.optim.judge import OPTIM_BUG_CLASSES

    assert len(MUTANTS) >= 30
    assert {m.style for m in MUTANTS.values()} == {"nielsen", "dlai", "saito", "cs231n", "mytorch"}
    for m in MUTANTS.values():
        known = OPTIM_BUG_CLASSES if (m.entry or "").startswith("optim:") else BUG_CLASSES
        assert m.bug_class in known, f"{m.name}: unknown bug class {m.bug_class!r}"
    # every seed bug is present
    for needed in ("wrong_layer_weights", "x_for_a", "w_at_b", "cost_not_averaged", "tanh_prime_of_a",
                   "relu_dout_in_place", "one_hot_only", "factor_2"):
        assert any(needed in n for n in MUTANTS), needed


def test_clone_leaves_reference_untouched():
    from reference import dlai

    impl = MUTANTS["dlai_relu_mask_lt"].impl
    assert impl.relu_backward is not dlai.relu_backward
    assert dlai._BACKWARD["relu"] is dlai.relu_backward  # the original table still holds the original
    assert impl._BACKWARD["relu"] is impl.relu_backward  # the copy's table holds the mutant


@pytest.mark.parametrize("name,entry", FAST)
def test_fast_mutant_killed_and_diagnosed(name, entry):
    from reports.mutation_run import run_mutant

    r = run_mutant(MUTANTS[name], cases=12, seed=0, entries=[entry])
    assert r.killed, f"{name} survived {r.n_cases} Cases"
    assert r.diagnosis is not None and r.diagnosis.bug_class == MUTANTS[name].bug_class, (
        f"{name}: planted {MUTANTS[name].bug_class}, diagnosed {r.diagnosis}"
    )


@pytest.mark.slow
def test_every_mutant_killed():
    from reports.mutation_run import kill_run

    results = kill_run()
    survivors = [r.name for r in results if not r.killed]
    assert not survivors, f"surviving mutants: {survivors}"
    named = sum(r.named for r in results) / len(results)
    assert named >= 0.9, f"diagnosis names the planted class for only {named:.0%}"


def test_mutants_cmd_json_subset(capsys):
    import json

    from reports.cli import main

    code = main(["mutants", "--json", "--cases", "6", "--shrink", "30",
                 "--only", "matrix_missing_mean", "--only", "dlai_sign_flip"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [m["name"] for m in out["mutants"]] == ["matrix_missing_mean", "dlai_sign_flip"]
    for m in out["mutants"]:
        assert m["killed"] is True and m["killed_by"] and m["diagnosis"] == m["bug_class"]
    # a missing 1/m needs two samples to show: the shrunk Case keeps exactly two
    assert "batch 2," in out["mutants"][0]["smallest_case"]["case"]


def test_mutants_cmd_usage_error():
    from reports.cli import main

    assert main(["mutants", "--only", "no_such_mutant"]) == 2


def test_clone_redirects_imported_classes():
    """layer_net imports Affine from layers: the copied net must build the mutant Affine."""
    impl = MUTANTS["saito_affine_dw_transposed"].impl
    net = impl.MultiLayerNet(3, [4], 2)
    assert type(net.layers["Affine1"]).__name__ == "_AffineDWTransposed"
    from reference import layer_net, layers

    assert type(layer_net.MultiLayerNet(3, [4], 2).layers["Affine1"]) is layers.Affine


_REFERENCE_SOURCES = [
    ("nielsen", "reference/nielsen.py"),
    ("nielsen", "reference/matrix.py"),
    ("dlai", "reference/dlai.py"),
    ("dlai", "reference/dlai_two_layer.py"),
    ("saito", "reference/layers.py + layer_net.py"),
    ("cs231n", "reference/cs231n.py"),
]


@pytest.mark.parametrize("style,source", _REFERENCE_SOURCES)
def test_references_survive_the_kill_plan(style, source):
    """No false alarms: the unmutated references pass every check on the kill run's Cases (no control)."""
    import oracles.styles as styles
    from reference.mutants import Mutant
    from reports.mutation_run import run_mutant

    ref = Mutant("reference", "none", style, None, "unmutated", None, source)
    ref = Mutant("reference", "none", style, None, "unmutated", ref.reference, source)
    entry = styles.entry_points(style, ref.impl)[0]
    r = run_mutant(ref, cases=12, seed=0, entries=[entry], control=False)
    assert r.n_cases >= 10
    assert not r.killed, f"{source} [{entry}] failed {r.kills}: {r.example}"
    assert r.diagnoses == []
