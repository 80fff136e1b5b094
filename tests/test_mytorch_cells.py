"""MyTorch hw3p1's RNNCell and GRUCell (oracles/layers/mytorch_cells.py, oracles/styles/mytorch_cells.py,
oracles/diagnose/mytorch_cells.py): references pinned to torch.nn's own cells (not the table's twins: those
are what is tested), the twins equal to torch.nn, both dtypes pass, every cell mutant killed and named, the
fixtures' verdicts, the handout variants (delta (1, H), S20's GRU) and the guards that make the checks fail."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
import torch
from submissions import expectation

from oracles import styles, torch_autograd
from oracles.compare import compare_observation, failures
from oracles.diagnose.mytorch_cells import cell_model
from oracles.strategies import draw_case
from reference.mutants import MUTANTS, clone_module
from reference.mytorch.nn import gru_cell as G
from reference.mytorch.nn import rnn_cell as R
from reports.mutation_run import run_mutant
from reports.validate import validate_file
from tests.layer_twins import assert_forward_twins_agree

HERE = Path(__file__).parent / "submissions" / "mytorch_cells"
REAL = Path(__file__).parent / "submissions" / "real_layers" / "fx" / "mytorch_hw3"  # real patterns (patterns.tsv)
CELL_MUTANTS = sorted(n for n, m in MUTANTS.items() if m.entry in ("cell:RNNCell", "cell:GRUCell"))
ENTRIES = (("cell:RNNCell", R), ("cell:GRUCell", G))


def _nn_cells(D, H, seed):
    torch.manual_seed(seed)
    return torch.nn.RNNCell(D, H, nonlinearity="tanh").double(), torch.nn.GRUCell(D, H).double()


@pytest.mark.parametrize("N,D,H", [(3, 4, 5), (1, 1, 1), (2, 3, 1), (4, 1, 2)])
def test_reference_cells_match_torch_nn(N, D, H):
    rng = np.random.default_rng(N * 10 + D)
    x, h, delta = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    rnn, gru = _nn_cells(D, H, N)
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    out = rnn(xt, ht)
    (out * torch.tensor(delta)).sum().backward()
    cell = R.RNNCell(D, H)
    cell.init_weights(*(p.detach().numpy().copy() for p in (rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh)))
    h_t = cell.forward(x, h)
    dx, dh = cell.backward(delta, h_t, x, h)
    np.testing.assert_allclose(h_t, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dh, ht.grad.numpy(), rtol=1e-10, atol=1e-12)
    for mine, p in ((cell.dW_ih, rnn.weight_ih), (cell.dW_hh, rnn.weight_hh), (cell.db_ih, rnn.bias_ih)):
        np.testing.assert_allclose(mine * N, p.grad.numpy(), rtol=1e-10, atol=1e-12)  # the handout averages
    # GRU: torch stacks the gates r, z, n in weight_ih / weight_hh; the course's cell runs one sample at a time
    for i in range(N):
        xi, hi = torch.tensor(x[i:i + 1], requires_grad=True), torch.tensor(h[i:i + 1], requires_grad=True)
        gru.zero_grad()
        o = gru(xi, hi)
        (o * torch.tensor(delta[i:i + 1])).sum().backward()
        Wi, Wh = gru.weight_ih.detach().numpy(), gru.weight_hh.detach().numpy()
        bi, bh = gru.bias_ih.detach().numpy(), gru.bias_hh.detach().numpy()
        cell = G.GRUCell(D, H)
        cell.init_weights(*(a[k * H:(k + 1) * H].copy() for a in (Wi, Wh) for k in range(3)),
                          *(a[k * H:(k + 1) * H].copy() for a in (bi, bh) for k in range(3)))
        np.testing.assert_allclose(cell.forward(x[i], h[i]), o.detach().numpy()[0], rtol=1e-12, atol=1e-12)
        dx, dh = cell.backward(delta[i])
        np.testing.assert_allclose(dx, xi.grad.numpy()[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dh, hi.grad.numpy()[0], rtol=1e-10, atol=1e-12)
        for k, g in enumerate("rzn"):
            np.testing.assert_allclose(getattr(cell, f"dW{g}x"), gru.weight_ih.grad.numpy()[k * H:(k + 1) * H],
                                       rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(getattr(cell, f"db{g}h"), gru.bias_hh.grad.numpy()[k * H:(k + 1) * H],
                                       rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("entry, impl", ENTRIES)
def test_table_twins_agree_and_equal_torch_nn(entry, impl):
    case = draw_case(styles.spec_space("mytorch", impl, entry), 3)
    slot, p, a = assert_forward_twins_agree(case)
    D, H = slot.layer.hp["dims"]
    rnn, gru = _nn_cells(D, H, 0)
    with torch.no_grad():
        if entry == "cell:RNNCell":
            for name, t in zip(("W_ih", "W_hh", "b_ih", "b_hh"), (rnn.weight_ih, rnn.weight_hh, rnn.bias_ih,
                                                                   rnn.bias_hh)):
                t.copy_(torch.tensor(p[name]))
            want = rnn(torch.tensor(case.x[:, :D]), torch.tensor(case.x[:, D:]))
        else:
            gru.weight_ih.copy_(torch.tensor(np.concatenate([p["Wrx"], p["Wzx"], p["Wnx"]])))
            gru.weight_hh.copy_(torch.tensor(np.concatenate([p["Wrh"], p["Wzh"], p["Wnh"]])))
            gru.bias_ih.copy_(torch.tensor(np.concatenate([p["brx"], p["bzx"], p["bnx"]])))
            gru.bias_hh.copy_(torch.tensor(np.concatenate([p["brh"], p["bzh"], p["bnh"]])))
            want = gru(torch.tensor(case.x[:, :D]), torch.tensor(case.x[:, D:]))
    np.testing.assert_allclose(a, want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("entry, impl", ENTRIES)
def test_unbugged_model_is_the_oracle(entry, impl):
    # the diagnosis's models must equal the oracle with no bug planted, or a match would mean nothing
    for seed in range(4):
        case = draw_case(styles.spec_space("mytorch", impl, entry), seed)
        model = cell_model(case, None)
        _, grads = torch_autograd.loss_and_grads(case, with_hidden=False)
        for k, v in grads.items():
            np.testing.assert_allclose(model[k], v, rtol=1e-12, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("entry, impl", ENTRIES)
def test_the_references_pass_in_both_dtypes(entry, impl, dtype):
    for seed in range(10):
        case = draw_case(styles.spec_space("mytorch", impl, entry), seed, dtype=dtype)
        obs = styles.run("mytorch", impl, case, entry)
        assert not obs.errors, obs.errors
        bad = failures(compare_observation(case, obs, torch_autograd.expected(case)))
        assert not bad, (seed, [v.message for v in bad])


def test_the_cell_mutants_are_in_the_zoo():
    assert {MUTANTS[n].bug_class for n in CELL_MUTANTS} == {
        "cell_grads_assigned", "rnn_tanh_derivative", "cell_hidden_mixed", "gru_z_sign", "gru_dh_path_missing",
        "gru_r_path", "cell_weight_transposed"}


@pytest.mark.parametrize("name", CELL_MUTANTS)
def test_each_cell_mutant_is_killed_and_named(name):
    m = MUTANTS[name]
    r = run_mutant(m, cases=8, entries=[m.entry])
    assert r.killed and not r.false_alarms, (name, r.kills, r.false_alarms, r.problems)
    assert r.named, (name, str(r.diagnosis))


def test_the_fixtures_get_their_expected_verdict_and_bug_class():
    paths = sorted(HERE.glob("*.py")) + sorted(REAL.glob("*.py"))
    assert len(paths) >= 5
    for path in paths:
        r = validate_file(path, cases=6, timeout=10.0, shrink=False)
        (verdict, bug), = expectation(path)
        assert r.verdict == verdict, (path.name, r.render())
        if verdict == "fail":
            assert bug in {c.bug_class for c in r.checks if c.verdict == "fail"}, (path.name, r.render())
        assert any(c.name.startswith("cell:") for c in r.checks), r.render()


def _gru_module(cls) -> types.ModuleType:
    impl = types.ModuleType("student")
    impl.GRUCell = cls
    return impl


def test_a_gru_backward_that_takes_delta_as_a_row_is_driven_with_a_row():
    # the earlier autograders passed delta (1, H); such a file is right, never blamed for our (H,)
    class RowGRU(G.GRUCell):
        def backward(self, delta):
            assert delta.shape == (1, self.h)
            dx, dh = super().backward(delta[0])
            return dx.reshape(1, -1), dh.reshape(1, -1)

    impl = _gru_module(RowGRU)
    case = draw_case(styles.spec_space("mytorch", impl, "cell:GRUCell"), 2)
    obs = styles.run("mytorch", impl, case, "cell:GRUCell")
    assert not obs.errors, obs.errors
    assert any("(1, H)" in n for n in obs.notes), obs.notes
    assert not failures(compare_observation(case, obs, torch_autograd.expected(case)))


def test_the_s20_gru_is_listed_as_not_checked_not_judged():
    class GRUCell:  # S20: init_weights(Wzh, Wrh, Wh, Wzx, Wrx, Wx), no biases
        def __init__(self, in_dim, hidden_dim):
            pass

        def init_weights(self, Wzh, Wrh, Wh, Wzx, Wrx, Wx):
            pass

        def forward(self, x, h):
            return h

        def backward(self, delta):
            return None

    impl = _gru_module(GRUCell)
    case = draw_case(styles.spec_space("mytorch", impl, "cell:GRUCell"), 0)
    obs = styles.run("mytorch", impl, case, "cell:GRUCell")
    assert not obs.errors, obs.errors  # declined (ERROR, not checked), never a FAIL
    assert any("S20" in why for why in obs.not_checked.values()), obs.not_checked


def test_an_rnn_cell_that_sums_over_the_batch_fails():
    # the handout averages dW over the batch; a summed one is N times too large (the check can fail)
    class Summed(R.RNNCell):
        def backward(self, delta, h_t, h_prev_l, h_prev_t):
            dx, dh = super().backward(delta, h_t, h_prev_l, h_prev_t)
            for n in ("dW_ih", "dW_hh", "db_ih", "db_hh"):
                setattr(self, n, getattr(self, n) * delta.shape[0])
            return dx, dh

    impl = clone_module(R, {"RNNCell": Summed})
    failed = set()
    for seed in range(6):
        case = draw_case(styles.spec_space("mytorch", impl, "cell:RNNCell"), seed)
        obs = styles.run("mytorch", impl, case, "cell:RNNCell")
        if case.m > 1:
            failed |= {v.name for v in failures(compare_observation(case, obs, torch_autograd.expected(case)))}
    assert failed and all("W" in n or "b" in n for n in failed), failed


@pytest.mark.parametrize("entry, impl", ENTRIES)
def test_the_snippet_replays_the_case_and_its_expected_values_are_the_references(entry, impl):
    from reports.validate_snippets import snippet_for

    case = draw_case(styles.spec_space("mytorch", impl, entry), 2)
    text = snippet_for("mytorch", entry, case, impl.__file__, torch_autograd)
    ns: dict = {}
    exec(text.replace(f"import {Path(impl.__file__).stem} as student", "student = __student__"),
         {"__student__": impl}, ns)
    cell = ns["cell"]
    for k in [k for k in ns if k.startswith("expected_d") and k[len("expected_"):] not in ns]:
        np.testing.assert_allclose(getattr(cell, k[len("expected_"):]), ns[k], rtol=1e-10, atol=1e-12, err_msg=k)
    for k in ("h_t", "dx", "dh_prev_t"):
        np.testing.assert_allclose(ns[k], ns[f"expected_{k}"], rtol=1e-10, atol=1e-12, err_msg=k)


def test_the_s20_gru_file_is_an_error_that_says_why(tmp_path):
    path = tmp_path / "gru_cell.py"
    path.write_text("class GRUCell:\n    def __init__(self, in_dim, hidden_dim):\n        pass\n\n"
                    "    def init_weights(self, Wzh, Wrh, Wh, Wzx, Wrx, Wx):\n        pass\n\n"
                    "    def forward(self, x, h):\n        return h\n\n"
                    "    def backward(self, delta):\n        return None\n")
    r = validate_file(path, cases=3, timeout=10.0, shrink=False)
    assert r.verdict == "error", r.render()
    assert all(c.verdict == "error" for c in r.checks) and any("S20" in c.message for c in r.checks), r.render()


def test_a_cell_beside_another_homeworks_activation_is_not_judged_not_failed():
    # real repositories keep hw1's activation.py (no __call__) where hw3's handout ships a callable one: the
    # cell's own code never runs, so it is ERROR (not checked, with why), never a FAIL of the cell
    class Tanh:  # hw1's: forward/backward, no __call__
        def forward(self, Z):
            return np.tanh(Z)

    Tanh.__module__ = "activation"

    class Cell(R.RNNCell):
        def __init__(self, input_size, hidden_size):
            super().__init__(input_size, hidden_size)
            self.activation = Tanh()

        def forward(self, x, h_prev_t):
            return self.activation(x @ self.W_ih.T + self.b_ih + h_prev_t @ self.W_hh.T + self.b_hh)

    impl = clone_module(R, {"RNNCell": Cell})
    case = draw_case(styles.spec_space("mytorch", impl, "cell:RNNCell"), 0)
    obs = styles.run("mytorch", impl, case, "cell:RNNCell")
    assert not obs.errors and any("__call__" in why for why in obs.not_checked.values()), (obs.errors, obs.not_checked)

    class Calls(R.RNNCell):  # the same foreign Tanh, called through .forward: runs, so it is judged
        def __init__(self, input_size, hidden_size):
            super().__init__(input_size, hidden_size)
            self.activation = Tanh()

        def forward(self, x, h_prev_t):
            return self.activation.forward(x @ self.W_ih.T + self.b_ih + h_prev_t @ self.W_hh.T + self.b_hh)

    impl = clone_module(R, {"RNNCell": Calls})
    obs = styles.run("mytorch", impl, case, "cell:RNNCell")
    assert not obs.not_checked and not failures(compare_observation(case, obs, torch_autograd.expected(case)))
