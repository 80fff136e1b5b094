"""Course parts bpcheck recognises but does not check (recurrent layers, CTC): an ERROR that says so.

Real files showed it (public CS231n assignment 3 rnn_layers.py, e.g. AKSoo/CS231n-2017; MyTorch hw3
rnn_cell.py and gru_cell.py, e.g. neelpawarcmu/mytorch-library): they got "no style recognised ... pass
--style NAME", which blames the file's layout and suggests a flag that has nothing to run. ERROR
means bpcheck could not judge; it must say why."""

from __future__ import annotations

from pathlib import Path

import pytest

from oracles import styles
from reports.validate import validate_file

HERE = Path(__file__).parent / "submissions" / "not_checked"


@pytest.mark.parametrize("names, part", [
    (["word_embedding_forward", "lstm_forward", "CaptioningRNN"], "CS231n's recurrent"),
    (["lstm_forward", "lstm_backward", "CaptioningRNN"], "CS231n's recurrent"),
    (["RNN_Cell", "RNN_Cell.forward", "RNN_Cell.backward"], "MyTorch's CTC, recurrent classifiers or S20 cells"),
    (["GRU_Cell", "GRU_Cell.init_weights", "GRU_Cell.backward"], "MyTorch's CTC, recurrent classifiers or S20 cells"),
    (["CTCLoss", "CTCLoss.forward"], "MyTorch's CTC"),
    (["rnn_cell_forward", "rnn_forward", "lstm_cell_backward"], "deeplearning.ai's recurrent"),
])
def test_a_recurrent_file_is_named_as_not_checked(names, part):
    style, reason = styles.detect(names)
    assert style is None
    assert part in reason and "does not check these yet" in reason and "no style recognised" not in reason


def test_cs231n_rnn_layers_are_checked_now():
    # assignment 3's step functions decide the style: their entry points run (tests/test_rnn_layers.py)
    style, _ = styles.detect(["rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "sigmoid"])
    assert style == "cs231n"


@pytest.mark.parametrize("names", [["word_embedding_forward", "word_embedding_backward"], ["temporal_softmax_loss"]])
def test_cs231n_word_embedding_and_temporal_loss_are_checked_now(names):
    # a file with only these is cs231n (their entries run: tests/test_rnn_words.py), not "not checked"
    style, reason = styles.detect(names)
    assert style == "cs231n", reason


def test_cs231n_rnn_file_passes_with_embedding_and_temporal_loss_checked():
    r = validate_file(HERE / "rnn_layers_cs231n_like.py", cases=4, timeout=5.0, shrink=False)
    assert r.verdict == "pass", r.render()
    assert {"fn:word_embedding", "fn:temporal_softmax_loss"} <= {c.name.split(": ")[0] for c in r.checks}, r.render()
    for name in ("word_embedding_forward", "word_embedding_backward", "temporal_softmax_loss"):
        assert name in r.coverage.checked and name not in r.coverage.not_checked, r.coverage
    assert "not checked:" not in r.render(), r.render()


@pytest.mark.parametrize("names", [["RNNCell", "RNNCell.forward", "RNNCell.backward"],
                                   ["GRUCell", "GRUCell.init_weights", "GRUCell.forward", "GRUCell.backward"]])
def test_mytorch_hw3_cells_are_checked_now(names):
    # hw3p1's RNNCell / GRUCell decide the mytorch style: their cell: entries run (tests/test_mytorch_cells.py)
    style, reason = styles.detect(names)
    assert style == "mytorch", reason


def test_the_mytorch_gru_fixture_is_judged_now_and_its_bug_named():
    # it was "not checked" until session 8; a correct cell passes (tests/test_mytorch_cells.py), this one is not
    r = validate_file(HERE / "gru_cell_mytorch_like.py", cases=4, timeout=10.0, shrink=False)
    assert r.verdict == "fail", r.render()
    assert {c.bug_class for c in r.checks if c.verdict == "fail"} == {"gru_dh_path_missing"}, r.render()


def test_a_checked_file_with_recurrent_helpers_keeps_its_style():
    style, _ = styles.detect(["affine_forward", "affine_backward", "softmax_loss", "rnn_step_forward"])
    assert style == "cs231n"  # its recurrent functions are listed as not checked by coverage instead


def test_an_unknown_file_still_gets_the_style_advice():
    assert styles.not_checked_part(["main", "load_data"]) is None
    assert "no style recognised" in styles.detect(["main", "load_data"])[1]


@pytest.mark.parametrize("name, part", [("ctc_mytorch_like.py", "MyTorch's CTC")])
def test_validate_says_not_checked_without_forcing_advice(name, part):
    r = validate_file(HERE / name, cases=4, timeout=5.0)
    assert r.verdict == "error"
    (c,) = r.checks
    assert c.bug_class == "not_supported" and part in c.message
    assert "--style" not in c.message and "pass" not in r.verdict


def test_an_update_rule_our_call_does_not_fit_says_which_call_and_what_it_takes():
    """rmsprop(w, dw, config, cache_key): the row is an ERROR that quotes the file's signature and the call
    bpcheck makes (it used to read "the driver came back with nothing to compare"), and the coverage line
    lists rmsprop as not checked with the same reason, never as checked."""
    r = validate_file(HERE / "cs231n_rmsprop_cache_key.py", cases=4, timeout=5.0, shrink=False)
    rows = {c.name: c for c in r.checks}
    row = next(c for name, c in rows.items() if name.startswith("optim:rmsprop"))
    assert row.verdict == "error" and r.verdict == "error", r.render()
    assert "rmsprop(w, dw, config, cache_key)" in row.message and "rmsprop(w, dw, config)" in row.message, row.message
    assert "nothing to compare" not in row.message
    assert rows["optim:sgd: step"].verdict == "pass", r.render()
    assert "rmsprop" in r.coverage.not_checked and "cache_key" in r.coverage.not_checked["rmsprop"], r.coverage
    assert "rmsprop" not in r.coverage.checked
