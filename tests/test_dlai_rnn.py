"""deeplearning.ai course 5 week 1 ("Building your Recurrent Neural Network - Step by Step"): the reference, the
column-major adapter onto the recurrent layer kinds (oracles/styles/dlai_layers_rnn.py), the diagnoses and mutants,
and fixtures of our own for the patterns real files show (tests/submissions/rnn_dlai, docs/real-world/layers.md).

The reference is pinned against a float64 torch computation written here in the course's own layout (x (n_x, m,
T_x), W_g acting on [a_prev; xt]), not the table's twins nor the driver's layout conversion: those are what is
tested. A skeleton backward (the notebook's optional part left unfilled) is an ERROR that says so, never a FAIL.
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
import torch

from oracles import styles, torch_autograd
from oracles.compare import compare_observation, failures
from oracles.strategies import draw_case
from oracles.styles._common import Recorder
from oracles.styles.dlai_layers_rnn import GATES, course_params, from_course_grads, left_as_none
from reference import dlai_rnn as R
from reference.mutants import MUTANTS, clone_module
from reports.mutation_run import run_mutant
from reports.validate import validate_file

HERE = Path(__file__).parent / "submissions" / "rnn_dlai"
ENTRIES = ("fn:rnn_cell", "fn:lstm_cell", "fn:rnn", "fn:lstm")
DLAI_RNN_MUTANTS = sorted(n for n, m in MUTANTS.items() if m.source == "reference/dlai_rnn.py")


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _params(rng, n_x, n_a, lstm):
    if not lstm:
        return {"Wax": rng.standard_normal((n_a, n_x)), "Waa": rng.standard_normal((n_a, n_a)),
                "Wya": rng.standard_normal((2, n_a)), "ba": rng.standard_normal((n_a, 1)),
                "by": rng.standard_normal((2, 1))}
    p = {f"{w}{g}": rng.standard_normal((n_a, n_a + n_x) if w == "W" else (n_a, 1)) for g in "fico" for w in "Wb"}
    return {**p, "Wy": rng.standard_normal((2, n_a)), "by": rng.standard_normal((2, 1))}


def _torch_lstm_cell(xt, a, c, p):
    # the notebook's equations, written out: concat = [a_prev; xt]
    cat = torch.cat([a, xt], 0)
    f, i = torch.sigmoid(p["Wf"] @ cat + p["bf"]), torch.sigmoid(p["Wi"] @ cat + p["bi"])
    cct, o = torch.tanh(p["Wc"] @ cat + p["bc"]), torch.sigmoid(p["Wo"] @ cat + p["bo"])
    c_next = f * c + i * cct
    return o * torch.tanh(c_next), c_next


@pytest.mark.parametrize("n_x,n_a,m,T", [(3, 5, 4, 4), (1, 1, 1, 1), (4, 2, 3, 2)])
def test_reference_matches_torch_in_the_course_layout(n_x, n_a, m, T):
    rng = np.random.default_rng(n_x * 10 + n_a)
    for lstm in (False, True):
        p = _params(rng, n_x, n_a, lstm)
        keys = ["Wax", "Waa", "ba"] if not lstm else [f"{w}{g}" for g in "fico" for w in "Wb"]
        tp = {k: _t(v) for k, v in p.items()}
        x, a0, da = rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m, T))
        tx, ta0 = _t(x), _t(a0)
        h, c, hs = ta0, torch.zeros(n_a, m, dtype=torch.float64), []
        for t in range(T):
            if lstm:
                h, c = _torch_lstm_cell(tx[:, :, t], h, c, tp)
            else:
                h = torch.tanh(tp["Wax"] @ tx[:, :, t] + tp["Waa"] @ h + tp["ba"])
            hs.append(h)
        a_t = torch.stack(hs, 2)
        want = torch.autograd.grad((a_t * torch.tensor(da)).sum(), [tx, ta0] + [tp[k] for k in keys])
        if lstm:
            a, _, _, caches = R.lstm_forward(x, a0, p)
            g = R.lstm_backward(da, caches)
        else:
            a, _, caches = R.rnn_forward(x, a0, p)
            g = R.rnn_backward(da, caches)
        np.testing.assert_allclose(a, a_t.detach().numpy(), rtol=1e-12, atol=1e-12)
        for k, w in zip(["dx", "da0"] + ["d" + k for k in keys], want):
            np.testing.assert_allclose(g[k], w.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_reference_lstm_cell_matches_torch_with_a_cell_gradient():
    rng = np.random.default_rng(7)
    n_x, n_a, m = 3, 4, 5
    p = _params(rng, n_x, n_a, True)
    tp = {k: _t(v) for k, v in p.items()}
    xt, a, c = (rng.standard_normal(s) for s in ((n_x, m), (n_a, m), (n_a, m)))
    da, dc = rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m))
    txt, ta, tc = _t(xt), _t(a), _t(c)
    a2, c2 = _torch_lstm_cell(txt, ta, tc, tp)
    keys = [f"{w}{g}" for g in "fico" for w in "Wb"]
    want = torch.autograd.grad((a2 * torch.tensor(da)).sum() + (c2 * torch.tensor(dc)).sum(),
                               [txt, ta, tc] + [tp[k] for k in keys])
    _, _, _, cache = R.lstm_cell_forward(xt, a, c, p)
    g = R.lstm_cell_backward(da, dc, cache)
    for k, w in zip(["dxt", "da_prev", "dc_prev"] + ["d" + k for k in keys], want):
        np.testing.assert_allclose(g[k], w.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def test_layout_conversion_round_trips():
    # the table's (Wx, Wh, b) -> the course's W_g = [Wh_g.T, Wx_g.T] and back: gate g of (i, f, o, g) is (i, f, o, c)
    rng = np.random.default_rng(3)
    D, H = 2, 3
    p = {"Wx": rng.standard_normal((D, 4 * H)), "Wh": rng.standard_normal((H, 4 * H)), "b": rng.standard_normal(4 * H)}
    course = course_params(p, lstm=True)
    assert GATES == ("i", "f", "o", "c")
    np.testing.assert_array_equal(course["Wo"][:, H:], p["Wx"][:, 2 * H:3 * H].T)  # o: the third block
    np.testing.assert_array_equal(course["Wc"][:, :H], p["Wh"][:, 3 * H:].T)  # the candidate: the fourth
    grads = {"d" + k: v for k, v in course.items()}
    back = from_course_grads(Recorder(None), grads, "lstm_cell_backward", D, H, lstm=True)
    for k in ("Wx", "Wh", "b"):
        np.testing.assert_array_equal(back[f"{k}1"], p[k])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_the_reference_matches_the_oracle_in_both_dtypes(entry, dtype):
    # float32: a correct float32 run must pass the one tolerance table
    for seed in range(6):
        case = draw_case(styles.spec_space("dlai", R, entry), seed, dtype=dtype)
        obs = styles.run("dlai", R, case, entry)
        assert not obs.errors, obs.errors
        bad = failures(compare_observation(case, obs, torch_autograd.expected(case)))
        assert not bad, (seed, [v.message for v in bad])
        assert {"x", "Wx1", "Wh1", "b1"} <= set(obs.grads)


def test_the_reference_passes_and_every_function_is_checked():
    r = validate_file(Path(R.__file__), cases=6, shrink=False, timeout=10.0)
    assert r.style == "dlai" and r.verdict == "pass", r.render()
    assert {c.name.split(":")[1] for c in r.checks} >= {e[3:] for e in ENTRIES}, r.render()
    assert not r.coverage.not_checked, r.coverage


def test_dlai_rnn_mutants_are_in_the_zoo():
    assert {MUTANTS[n].bug_class for n in DLAI_RNN_MUTANTS} == {
        "rnn_tanh_derivative", "rnn_carry_dropped", "lstm_dx_wrong_columns", "lstm_states_aliased",
        "lstm_gate_derivative"}


@pytest.mark.parametrize("name", DLAI_RNN_MUTANTS)
def test_each_dlai_rnn_mutant_is_killed_and_named(name):
    m = MUTANTS[name]
    r = run_mutant(m, cases=8, entries=[m.entry])
    assert r.killed and not r.false_alarms, (name, r.kills, r.false_alarms, r.problems)
    assert r.named, (name, str(r.diagnosis))


def _expect(path: Path) -> tuple[str, str]:
    verdict, bug = path.read_text().splitlines()[0].removeprefix("# expect:").split()
    return verdict, bug


@pytest.mark.parametrize("path", sorted(HERE.glob("*.py")), ids=lambda p: p.stem)
def test_the_fixtures_get_their_expected_verdict_and_bug_class(path):
    text = path.read_text().splitlines()[0]
    verdict, bug = ("pass", "") if text == "# expect: pass" else _expect(path)
    r = validate_file(path, cases=8, timeout=10.0, shrink=False)
    assert r.verdict == verdict, (path.name, r.render())
    if verdict == "fail":
        classes = {c.bug_class for c in r.checks if c.verdict == "fail"}
        assert bug in classes, (path.name, classes, r.render())
    if verdict == "error":  # the optional backward left unfilled: said, and no check of it FAILs
        assert not [c for c in r.checks if c.verdict == "fail"], r.render()
        assert all("not written" in c.message for c in r.checks if c.verdict == "error"), r.render()
        assert [c for c in r.checks if c.verdict == "pass"], r.render()  # the graded forwards were judged


def test_left_as_none_reads_only_unfilled_skeleton_names():
    def unfilled(da_next, cache):
        dxt = None
        da_prev = None
        return {"dxt": dxt, "da_prev": da_prev}

    def filled_after_placeholder(da_next, cache):
        dxt = None  # a placeholder the student then fills
        dxt = da_next * 2
        return {"dxt": dxt}

    def loop_left(da, caches):
        for _ in reversed(range(None)):
            pass

    assert left_as_none(unfilled) == ["da_prev", "dxt"]
    assert left_as_none(filled_after_placeholder) == []
    assert left_as_none(loop_left) == ["range(None)"]
    assert left_as_none(R.lstm_backward) == [] and left_as_none(R.rnn_cell_backward) == []


def test_a_backward_that_raises_for_its_own_reason_still_fails():
    # not a skeleton: an exception of the student's own code is a FAIL, as everywhere else
    def rnn_cell_backward(da_next, cache):
        a_next, a_prev, xt, parameters = cache
        dtanh = (1 - a_next ** 2) * da_next
        return {"dxt": parameters["Wxa"].T @ dtanh}  # a misspelt key: KeyError

    impl = clone_module(R, {"rnn_cell_backward": rnn_cell_backward})
    case = draw_case(styles.spec_space("dlai", impl, "fn:rnn_cell"), 1)
    obs = styles.run("dlai", impl, case, "fn:rnn_cell")
    assert obs.errors and all("KeyError" in e and "not written" not in e for e in obs.errors.values()), obs.errors


def test_detection_and_what_stays_not_checked():
    style, _ = styles.detect(["rnn_cell_forward", "rnn_cell_backward", "rnn_forward", "rnn_backward"])
    assert style == "dlai"
    style, reason = styles.detect(["rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward"])
    assert style is None and "course 5" in reason and "does not check these yet" in reason  # forwards only


def test_cs231n_rnn_forward_is_not_driven_as_dlai():
    # CS231n's rnn_forward(x, h0, Wx, Wh, b): calling it with three arguments would blame a file bpcheck misread
    from reference import cs231n_rnn

    impl = types.ModuleType("cs231n_like")
    impl.rnn_forward, impl.rnn_backward = cs231n_rnn.rnn_forward, cs231n_rnn.rnn_backward
    impl.rnn_cell_forward, impl.rnn_cell_backward = R.rnn_cell_forward, R.rnn_cell_backward
    assert "fn:rnn" not in styles.entry_points("dlai", impl)
    assert "fn:rnn_cell" in styles.entry_points("dlai", impl)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_the_snippet_replays_the_case_in_the_course_layout(entry, dtype):
    # run as pasted against the reference: every expected_* value is what the reference returns there
    from reports.validate_snippets import snippet_for

    case = draw_case(styles.spec_space("dlai", R, entry), 2, dtype=dtype)
    text = snippet_for("dlai", entry, case, str(Path(R.__file__)), torch_autograd)
    assert "import dlai_rnn as student" in text and "parameters = {" in text
    ns: dict = {}
    exec(text.replace("import dlai_rnn as student", "student = __student__"), {"__student__": R}, ns)
    wanted = [k for k in ns if k.startswith("expected_")]
    assert len(wanted) >= 6, wanted
    tol = 1e-10 if dtype == "float64" else 1e-4
    for k in wanted:
        np.testing.assert_allclose(ns[k[len("expected_"):]], ns[k], rtol=tol, atol=tol, err_msg=k)
