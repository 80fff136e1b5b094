"""CS231n assignment 3's recurrent layers (rnn_layers.py): the layer kinds, the driver, the diagnoses, the mutants.

The references are pinned against an independent float64 torch computation written here (not the table's
twins: those are what is being tested); the checks must pass the reference, kill every recurrent mutant and
name its bug; a skeleton function is a finding; the functions bpcheck does not drive are listed as not checked.
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
import torch

from oracles import styles, torch_autograd
from oracles.diagnose.recurrent import recurrent_model
from oracles.strategies import draw_case
from reference import cs231n_rnn as R
from reference.mutants import MUTANTS
from reports.mutation_run import run_mutant
from reports.validate import validate_file
from tests.layer_twins import assert_forward_twins_agree

REF = Path(R.__file__)
RNN_MUTANTS = sorted(n for n, m in MUTANTS.items() if m.source == "reference/cs231n_rnn.py")
ENTRIES = ("fn:rnn_step", "fn:lstm_step", "fn:rnn", "fn:lstm", "fn:temporal_affine")


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _torch_lstm_seq(x, h0, Wx, Wh, b):
    # written out gate by gate from the handout's text: i, f, o, g; c0 = 0
    N, T, _ = x.shape
    H = h0.shape[1]
    h, c, hs = h0, torch.zeros(N, H, dtype=torch.float64), []
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o, g = a.split(H, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs, 1)


@pytest.mark.parametrize("N,T,D,H", [(3, 4, 5, 2), (1, 1, 1, 1), (2, 3, 1, 4)])
def test_reference_lstm_and_rnn_match_torch(N, T, D, H):
    rng = np.random.default_rng(N * 100 + T)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    for gates, fwd, bwd in ((1, R.rnn_forward, R.rnn_backward), (4, R.lstm_forward, R.lstm_backward)):
        Wx, Wh = rng.standard_normal((D, gates * H)), rng.standard_normal((H, gates * H))
        b = rng.standard_normal(gates * H)
        dh = rng.standard_normal((N, T, H))
        ts = [_t(v) for v in (x, h0, Wx, Wh, b)]
        if gates == 1:
            hh, hs = ts[1], []
            for t in range(T):
                hh = torch.tanh(ts[0][:, t] @ ts[2] + hh @ ts[3] + ts[4])
                hs.append(hh)
            out = torch.stack(hs, 1)
        else:
            out = _torch_lstm_seq(*ts)
        want = torch.autograd.grad((out * torch.tensor(dh)).sum(), ts)
        h, cache = fwd(x, h0, Wx, Wh, b)
        np.testing.assert_allclose(h, out.detach().numpy(), rtol=1e-12, atol=1e-12)
        for got, w in zip(bwd(dh, cache), want):
            np.testing.assert_allclose(got, w.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["rnn", "lstm", "rnn_step", "lstm_step"])
def test_table_numpy_forward_equals_its_torch_twin(name):
    impl = R
    case = draw_case(styles.spec_space("cs231n", impl, f"fn:{name}"), 3)
    assert_forward_twins_agree(case)


@pytest.mark.parametrize("entry", ENTRIES[:4])
def test_unbugged_model_is_the_oracle(entry):
    # the diagnosis's models must agree with the oracle when no bug is planted, or a match would mean nothing
    case = draw_case(styles.spec_space("cs231n", R, entry), 5)
    model = recurrent_model(case, None)
    _, grads = torch_autograd.loss_and_grads(case, with_hidden=False)
    for k in ("x", "Wx1", "Wh1", "b1"):
        np.testing.assert_allclose(model[k], grads[k], rtol=1e-12, atol=1e-12)


def test_the_reference_passes_and_every_function_is_checked():
    # word_embedding_* and temporal_softmax_loss too (tests/test_rnn_words.py): nothing left "not checked"
    r = validate_file(REF, cases=10, shrink=False, timeout=10.0)
    assert r.verdict == "pass", r.render()
    assert {c.name.split(":")[1] for c in r.checks} >= {e[3:] for e in ENTRIES} | {
        "word_embedding", "temporal_softmax_loss"}
    assert not r.coverage.not_checked, r.coverage


def test_rnn_mutants_are_in_the_zoo():
    assert len(RNN_MUTANTS) >= 10
    assert {MUTANTS[n].bug_class for n in RNN_MUTANTS} == {
        "rnn_tanh_derivative", "rnn_carry_dropped", "rnn_upstream_dropped", "lstm_gate_order", "lstm_cell_path",
        "embedding_repeats_lost", "temporal_loss_mean_over_steps", "temporal_loss_mean_over_mask",
        "temporal_loss_mask_dropped"}


@pytest.mark.parametrize("name", RNN_MUTANTS)
def test_each_rnn_mutant_is_killed_and_named(name):
    m = MUTANTS[name]
    r = run_mutant(m, cases=8, entries=[m.entry])
    assert r.killed and not r.false_alarms, (name, r.kills, r.false_alarms, r.problems)
    assert r.named, (name, str(r.diagnosis))


def _module(**fns) -> types.ModuleType:
    impl = types.ModuleType("student")
    for n in R.__all__:
        setattr(impl, n, getattr(R, n))
    for n, f in fns.items():
        setattr(impl, n, f)
    return impl


def test_a_skeleton_step_is_a_finding_not_silence():
    def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
        next_h, next_c, cache = None, None, None
        return next_h, next_c, cache

    impl = _module(lstm_step_forward=lstm_step_forward)
    case = draw_case(styles.spec_space("cs231n", impl, "fn:lstm_step"), 0)
    obs = styles.run("cs231n", impl, case, "fn:lstm_step")
    assert "returned no output (None)" in obs.errors["output"] and "grad_x" in obs.errors


def test_dlai_rnn_forward_is_not_driven_as_cs231n():
    # deeplearning.ai course 5: rnn_forward(x, a0, parameters); calling it with five arguments would blame a
    # file bpcheck misread
    def rnn_forward(x, a0, parameters):
        return None

    def rnn_backward(da, caches):
        return None

    impl = types.ModuleType("dlai")
    impl.rnn_forward, impl.rnn_backward = rnn_forward, rnn_backward
    impl.affine_forward, impl.affine_backward = R.temporal_affine_forward, R.temporal_affine_backward
    assert "fn:rnn" not in styles.entry_points("cs231n", impl)


def test_packed_gradient_says_which_part_is_dprev_h():
    # the packed gradient 'x' of a step is [dx, dprev_h]: a dprev_h-only bug still fails grad_x
    def rnn_step_backward(dnext_h, cache):
        dx, dprev_h, dWx, dWh, db = R.rnn_step_backward(dnext_h, cache)
        return dx, 0 * dprev_h, dWx, dWh, db

    impl = _module(rnn_step_backward=rnn_step_backward)
    case = draw_case(styles.spec_space("cs231n", impl, "fn:rnn_step"), 1)
    obs = styles.run("cs231n", impl, case, "fn:rnn_step")
    _, grads = torch_autograd.loss_and_grads(case, with_hidden=False)
    D = case.spec.slots[0].layer.hp["dims"][0]
    np.testing.assert_allclose(obs.grads["x"][:, :D], grads["x"][:, :D], rtol=1e-12, atol=1e-12)
    assert not np.allclose(obs.grads["x"][:, D:], grads["x"][:, D:])


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_snippet_replays_the_case_and_its_expected_values_are_the_references(entry):
    from reports.validate_snippets import snippet_for

    case = draw_case(styles.spec_space("cs231n", R, entry), 2)
    text = snippet_for("cs231n", entry, case, str(REF), torch_autograd)
    ns: dict = {}
    exec(text.replace("import cs231n_rnn as student", "student = __student__"), {"__student__": R}, ns)
    wanted = [k for k in ns if k.startswith("expected_")]
    assert len(wanted) >= 4
    for k in wanted:
        np.testing.assert_allclose(ns[k[len("expected_"):]], ns[k], rtol=1e-10, atol=1e-12, err_msg=k)
