"""CS231n assignment 3's word embedding and temporal softmax loss (rnn_layers.py): the float-encoded integer
inputs, the kinds, the driver, the diagnoses, the mutants and our own fixtures.

The references are pinned against an independent float64 torch computation written here; every drawn Case
must hold what the bugs hide behind (repeated words, an all-False mask row); the checks pass the reference and
correct float32 runs, and fail and name each buggy file (mutants: tests/test_rnn_layers.py runs every mutant
of reference/cs231n_rnn.py, these included).
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
import torch
from submissions import expectation

from oracles import styles, torch_autograd
from oracles.compare import compare_observation, failures
from oracles.layers.words import split_scores, word_indices
from oracles.strategies import draw_case
from reference import cs231n_rnn as R
from reference.mutants import clone_module
from reports.validate import validate_file
from tests.layer_twins import assert_forward_twins_agree

REF = Path(R.__file__)
HERE = Path(__file__).parent / "submissions" / "rnn_cs231n"
ENTRIES = ("fn:word_embedding", "fn:temporal_softmax_loss")
SEEDS = range(40)


def _case(entry: str, seed: int, dtype: str = "float64"):
    return draw_case(styles.spec_space("cs231n", R, entry), seed, dtype=dtype)


def test_reference_embedding_matches_torch_with_repeated_words():
    x = np.array([[0, 2, 0, 3], [2, 2, 1, 0]])  # 0 three times, 2 three times, 4 never
    rng = np.random.default_rng(0)
    W, dout = rng.standard_normal((5, 3)), rng.standard_normal((2, 4, 3))
    Wt = torch.tensor(W, requires_grad=True)
    out = Wt[torch.tensor(x)]
    (want,) = torch.autograd.grad((out * torch.tensor(dout)).sum(), [Wt])
    got, cache = R.word_embedding_forward(x, W)
    np.testing.assert_array_equal(got, out.detach().numpy())
    np.testing.assert_allclose(R.word_embedding_backward(dout, cache), want.numpy(), rtol=1e-13, atol=1e-13)
    assert not np.any(want.numpy()[4])


def test_reference_temporal_loss_matches_torch_with_an_empty_row():
    rng = np.random.default_rng(1)
    N, T, V = 3, 4, 5
    x, y = rng.standard_normal((N, T, V)), rng.integers(0, V, (N, T))
    mask = np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1]], dtype=bool)
    xt = torch.tensor(x, requires_grad=True)
    ce = torch.nn.functional.cross_entropy(xt.reshape(N * T, V), torch.tensor(y.reshape(-1)), reduction="none")
    loss = (ce * torch.tensor(mask.reshape(-1), dtype=torch.float64)).sum() / N  # / N only: the handout's
    (want,) = torch.autograd.grad(loss, [xt])
    got, dx = R.temporal_softmax_loss(x, y, mask)
    assert got == pytest.approx(float(loss.detach()), rel=1e-13)
    np.testing.assert_allclose(dx, want.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("entry", ENTRIES)
def test_table_numpy_forward_equals_its_torch_twin(entry):
    for seed in range(5):
        case = _case(entry, seed)
        assert_forward_twins_agree(case)


def test_every_embedding_case_repeats_a_word_within_and_across_sequences():
    for seed in SEEDS:
        case = _case("fn:word_embedding", seed)
        idx = word_indices(case.x)
        V = case.spec.slots[0].layer.hp["vocab"]
        np.testing.assert_array_equal(idx, case.x)  # exact integers, not rounded noise
        assert idx.min() >= 0 and idx.max() < V
        assert all(len(set(row)) < len(row) for row in idx.tolist()), (seed, idx)
        if case.m >= 2:
            assert set(idx[0].tolist()) & set(idx[1:].ravel().tolist()), (seed, idx)


def test_every_loss_case_has_labels_in_range_and_an_all_false_row():
    for seed in SEEDS:
        case = _case("fn:temporal_softmax_loss", seed)
        scores, y, mask = split_scores(case.x)
        assert y.min() >= 0 and y.max() < scores.shape[2]
        assert mask.any(), seed
        if case.m >= 2:
            assert (~mask.any(axis=1)).any(), (seed, mask)
        np.testing.assert_array_equal(case.y, 1.0)  # dout = 1: the Case's loss is the course's


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_the_reference_matches_torch_in_both_dtypes(entry, dtype):
    # float32: the course's own dtype for captioning; a correct float32 run must pass the one tolerance table
    for seed in range(12):
        case = _case(entry, seed, dtype)
        obs = styles.run("cs231n", R, case, entry)
        assert not obs.errors, obs.errors
        bad = failures(compare_observation(case, obs, torch_autograd.expected(case)))
        assert not bad, (seed, [v.message for v in bad])


def test_the_fixtures_get_their_expected_verdict_and_bug_class():
    for path in sorted(HERE.glob("*.py")):
        r = validate_file(path, cases=8, timeout=10.0, shrink=False)
        (verdict, bug), = expectation(path)
        assert r.verdict == verdict, (path.name, r.render())
        if verdict == "fail":
            classes = {c.bug_class for c in r.checks if c.verdict == "fail"}
            assert bug in classes, (path.name, classes, r.render())
            # the whole bug is named once: the factor it happens to show on a Case (1/T) is no second finding
            assert not any("factor_half" in c.diagnosis or "factor_2" in c.diagnosis for c in r.checks), r.render()
        assert not r.coverage.not_checked, (path.name, r.coverage)


def _module(**fns) -> types.ModuleType:
    return clone_module(R, fns)  # the reference with these functions replaced


def test_a_skeleton_is_a_finding_not_silence():
    def word_embedding_forward(x, W):
        out, cache = None, None
        return out, cache

    impl = _module(word_embedding_forward=word_embedding_forward)
    case = _case("fn:word_embedding", 0)
    obs = styles.run("cs231n", impl, case, "fn:word_embedding")
    assert "returned no output (None)" in obs.errors["output"]
    assert set(obs.errors) == {"output", "grad_W"}  # the families the layer has: no dx, no db

    def temporal_softmax_loss(x, y, mask, verbose=False):
        loss, dx = None, None
        return loss, dx

    impl = _module(temporal_softmax_loss=temporal_softmax_loss)
    obs = styles.run("cs231n", impl, _case("fn:temporal_softmax_loss", 0), "fn:temporal_softmax_loss")
    assert set(obs.errors) == {"loss", "grad_x"} and "returned no output (None)" in obs.errors["loss"]


def test_the_file_receives_integers_and_booleans():
    seen = {}

    def word_embedding_forward(x, W):
        seen["x"] = x.dtype
        return R.word_embedding_forward(x, W)

    def temporal_softmax_loss(x, y, mask, verbose=False):
        seen["y"], seen["mask"] = y.dtype, mask.dtype
        return R.temporal_softmax_loss(x, y, mask)

    impl = _module(word_embedding_forward=word_embedding_forward, temporal_softmax_loss=temporal_softmax_loss)
    for entry in ENTRIES:
        styles.run("cs231n", impl, _case(entry, 3), entry)
    assert np.issubdtype(seen["x"], np.integer) and np.issubdtype(seen["y"], np.integer)
    assert seen["mask"] == np.bool_


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_snippet_writes_int_literals_and_its_expected_values_are_the_references(entry):
    from reports.validate_snippets import snippet_for

    case = _case(entry, 2)
    text = snippet_for("cs231n", entry, case, str(REF), torch_autograd)
    ns: dict = {}
    exec(text.replace("import cs231n_rnn as student", "student = __student__"), {"__student__": R}, ns)
    ints = ["x"] if entry == "fn:word_embedding" else ["y"]
    for k in ints:
        assert np.issubdtype(np.asarray(ns[k]).dtype, np.integer), (k, text[:300])
    if entry == "fn:temporal_softmax_loss":
        assert np.asarray(ns["mask"]).dtype == np.bool_
    wanted = [k for k in ns if k.startswith("expected_")]
    assert len(wanted) >= 2
    for k in wanted:
        np.testing.assert_allclose(ns[k[len("expected_"):]], ns[k], rtol=1e-10, atol=1e-12, err_msg=k)
