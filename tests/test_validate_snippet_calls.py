"""The paste-able snippet of a failing Nielsen-style file replays the call the driver judged the file through
(Observation.calls), not network.py's: network2's update_mini_batch(mini_batch, eta, lmbda, n), a
backprop(mini_batch) that takes the whole batch, a file whose step is backprop_matrix (no update_mini_batch),
an update with its parameters in another order. Each fixture below is a small student-like file of our own;
its snippet runs in a fresh interpreter and must print the same wrong numbers the driver observed. Where no
faithful snippet exists (bpcheck passed a stand-in of its own), the report says why and how to re-run."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from oracles import styles
from oracles.case import Case
from oracles.observation import Observation
from oracles.sandbox import validate_observation
from oracles.styles._common import array_literal
from oracles.styles._configs import REG_ON
from oracles.styles.nielsen_snippets import nielsen_snippet
from reports.validate import validate_file

FAST = dict(cases=4, shrink=False, timeout=3.0)

_HEAD = '''
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))
'''

_INIT = '''
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, k) for k, n in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a
'''

_BACKPROP = '''
    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activations, zs = [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ activations[-1] + b)
            activations.append(sigmoid(zs[-1]))
        delta = DELTA_OUT
        nabla_b[-1] = delta
        nabla_w[-1] = delta @ activations[-2].T
        for l in range(2, self.num_layers):
            delta = DELTA_HIDDEN
            nabla_b[-l] = delta
            nabla_w[-l] = delta @ activations[-l - 1].T
        return nabla_b, nabla_w
'''


def _backprop(out: str = "(activations[-1] - y) * sigmoid_prime(zs[-1])",
              hidden: str = "(self.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])") -> str:
    return _BACKPROP.replace("DELTA_OUT", out).replace("DELTA_HIDDEN", hidden)


# network2's update_mini_batch(mini_batch, eta, lmbda, n) with L2, whose weight decay reaches the biases too;
# total_cost(data, lmbda) charges the L2 term without its 1/2
NETWORK2_L2 = _HEAD + '''

class CrossEntropyCost(object):
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return a - y


class Network(object):
    def __init__(self, sizes, cost=CrossEntropyCost):
        self.num_layers = len(sizes)
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, k) / np.sqrt(k) for k, n in zip(sizes[:-1], sizes[1:])]
        self.cost = cost

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            dnb, dnw = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
        decay = 1 - eta * lmbda / n
        self.weights = [decay * w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [decay * b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def total_cost(self, data, lmbda):
        cost = sum(self.cost.fn(self.feedforward(x), y) for x, y in data) / len(data)
        return cost + (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in self.weights)
''' + _backprop(out="self.cost.delta(zs[-1], activations[-1], y)")

# the full-matrix exercise: backprop(mini_batch) takes the whole batch; sigma'(a) where sigma'(z) belongs
BACKPROP_MINI_BATCH = _HEAD + '''

class Network(object):''' + _INIT + '''
    def update_mini_batch(self, mini_batch, eta):
        nabla_b, nabla_w = self.backprop(mini_batch)
        self.weights = [w - eta * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, mini_batch):
        X = np.hstack([x for x, y in mini_batch])
        Y = np.hstack([y for x, y in mini_batch])
        m = X.shape[1]
        activations, zs = [X], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ activations[-1] + b)
            activations.append(sigmoid(zs[-1]))
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = (activations[-1] - Y) * sigmoid_prime(activations[-1])
        nabla_b[-1] = delta.sum(axis=1, keepdims=True) / m
        nabla_w[-1] = delta @ activations[-2].T / m
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
            nabla_b[-l] = delta.sum(axis=1, keepdims=True) / m
            nabla_w[-l] = delta @ activations[-l - 1].T / m
        return nabla_b, nabla_w
'''

# no update_mini_batch: backprop_matrix(X, Y, eta, m) steps the network (eta before m); the bias step
# forgets the 1/m
BACKPROP_MATRIX_STEP = _HEAD + '''

class Network(object):''' + _INIT + _backprop() + '''
    def backprop_matrix(self, X, Y, eta, m):
        activations, zs = [X], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ activations[-1] + b)
            activations.append(sigmoid(zs[-1]))
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = (activations[-1] - Y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta.sum(axis=1, keepdims=True)
        nabla_w[-1] = delta @ activations[-2].T
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
            nabla_b[-l] = delta.sum(axis=1, keepdims=True)
            nabla_w[-l] = delta @ activations[-l - 1].T
        self.weights = [w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b)]
'''

# update_batch(eta, batch): another name, the learning rate first; backprop(x, y) forgets sigma'(z) in the
# hidden layers
UPDATE_ETA_FIRST = _HEAD + '''

class Network(object):''' + _INIT + _backprop(hidden="self.weights[-l + 1].T @ delta") + '''
    def update_batch(self, eta, batch):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in batch:
            dnb, dnw = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
        self.weights = [w - (eta / len(batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(batch)) * nb for b, nb in zip(self.biases, nabla_b)]
'''

# seed 003's constructor takes the functions; the file has no sigmoid derivative bpcheck recognises by name,
# so the driver hands its own: a snippet cannot reproduce that call faithfully
CTOR_WITH_STANDIN = '''
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def slope(z):
    return sigmoid(z) * (1 - sigmoid(z))


def cost_derivative(a, y):
    return a - y


class NeuralNetwork(object):
    def __init__(self, sizes, act, act_derivative, cost_derivative):
        self.num_layers = len(sizes)
        self.act, self.act_derivative, self.cost_derivative = act, act_derivative, cost_derivative
        self.biases = [np.random.randn(n, 1) for n in sizes[1:]]
        self.weights = [np.random.randn(n, k) for k, n in zip(sizes[:-1], sizes[1:])]

    def backprop(self, x, y):
        activations, zs = [x], []
        for b, w in zip(self.biases, self.weights):
            zs.append(w @ activations[-1] + b)
            activations.append(self.act(zs[-1]))
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        delta = self.cost_derivative(activations[-1], y) * self.act_derivative(activations[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = delta @ activations[-2].T
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * self.act_derivative(zs[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = delta @ activations[-l - 1].T
        return nabla_b, nabla_w
'''

# What the snippet leaves behind for each check family, printed as JSON: the file's numbers and the oracle's.
_GOT = {
    "grad_W": "[np.asarray(g, float).tolist() for g in nabla_w]",
    "grad_b": "[np.asarray(g, float).reshape(-1).tolist() for g in nabla_b]",
    "update": "[np.asarray(w, float).tolist() for w in net.weights] + "
              "[np.asarray(b, float).reshape(-1).tolist() for b in net.biases]",
}
_GOT["trajectory"] = _GOT["update"]
_GOT["loss"] = "float(loss)"
_EXPECTED = {
    "grad_W": "[v.tolist() for k, v in sorted(globals().items()) if k.startswith('expected_dW')]",
    "grad_b": "[v.reshape(-1).tolist() for k, v in sorted(globals().items()) if k.startswith('expected_db')]",
    "update": "[v.tolist() for k, v in sorted(globals().items()) if k.startswith('expected_W')] + "
              "[v.reshape(-1).tolist() for k, v in sorted(globals().items()) if k.startswith('expected_b')]",
}
_EXPECTED["trajectory"] = _EXPECTED["update"]
_EXPECTED["loss"] = "expected_loss"


def _observed(family: str, obs: Observation, L: int):
    if family == "loss":
        return obs.loss
    if family in ("update", "trajectory"):
        after = obs.updated if family == "update" else obs.trajectory[-1]
        return [after[f"W{l}"].tolist() for l in range(1, L + 1)] + [after[f"b{l}"].tolist() for l in range(1, L + 1)]
    key = "W" if family == "grad_W" else "b"
    return [obs.grads[f"{key}{l}"].tolist() for l in range(1, L + 1)]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"fixture_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _close(a, b) -> bool:
    if not isinstance(a, list):
        return bool(np.isclose(a, b, rtol=1e-12, atol=0))
    return len(a) == len(b) and all(np.allclose(np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-14)
                                    for x, y in zip(a, b))


def _run_snippet(snippet: str, family: str, where: Path) -> dict:
    """The snippet run as pasted next to the file, in a fresh interpreter: what it computed, what it expects."""
    code = snippet + f"\nimport json\nprint(json.dumps({{'got': {_GOT[family]}, 'expected': {_EXPECTED[family]}}}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=where, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"{snippet}\n{out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _replays(path: Path, families: tuple[str, ...], wanted_call: str, r=None) -> list:
    """validate_file on the fixture (or its report r); the failing rows of these families have a snippet with the
    wanted call, and the snippet, run as pasted next to the file, prints the numbers the driver saw (and they
    are wrong)."""
    r = r or validate_file(path, **FAST)
    checks = []
    for family in families:
        rows = [c for c in r.checks if c.verdict == "fail" and c.name.endswith(f": {family}")]
        assert rows, r.render()
        check = rows[0]
        assert check.snippet, (check.no_snippet, r.render())
        assert wanted_call in check.snippet, check.snippet
        shown = _run_snippet(check.snippet, family, path.parent)
        # the driver, on the same case and entry point, in this process
        entry = check.name.split(": ")[0].replace(f", {REG_ON}", "").replace(f" ({REG_ON})", "")
        obs = styles.run("nielsen", _load(path), check.case, entry)
        assert _close(shown["got"], _observed(family, obs, check.case.spec.n_layers)), (check.snippet, shown, obs)
        assert not _close(shown["got"], shown["expected"]), "the snippet does not show the failure"
        checks.append(check)
    return checks


def _write(tmp_path: Path, name: str, src: str) -> Path:
    p = tmp_path / f"{name}.py"
    p.write_text(textwrap.dedent(src))
    return p


@pytest.fixture(scope="module")
def network2(tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("network2"), "student_l2", NETWORK2_L2)
    return path, validate_file(path, **FAST)


def test_network2_update_gets_lmbda_and_n(network2):
    check, _ = _replays(network2[0], ("update", "trajectory"), "net.update_mini_batch(mini_batch, eta, lmbda, n)",
                        network2[1])
    assert check.case.spec.reg > 0
    assert "lmbda = " in check.snippet and "n = 50" in check.snippet
    assert "student.Network([" in check.snippet and "cost=student.CrossEntropyCost" in check.snippet


def test_network2_total_cost_gets_lmbda(network2):
    (loss,) = _replays(network2[0], ("loss",), "loss = net.total_cost(mini_batch, lmbda)", network2[1])
    assert f"lmbda = {loss.case.spec.reg * loss.case.m!r}" in loss.snippet


def test_backprop_of_a_whole_mini_batch_gets_the_mini_batch(tmp_path):
    check, _ = _replays(_write(tmp_path, "student_batch", BACKPROP_MINI_BATCH), ("grad_W", "grad_b"),
                        "nabla_b, nabla_w = net.backprop(mini_batch)")
    assert "mini_batch = [(x[:, [i]], y[:, [i]])" in check.snippet


def test_file_without_update_mini_batch_steps_through_backprop_matrix(tmp_path):
    check, traj = _replays(_write(tmp_path, "student_matrix", BACKPROP_MATRIX_STEP), ("update", "trajectory"),
                           "net.backprop_matrix(x, y, eta, m)")
    assert "update_mini_batch" not in check.snippet and check.case.m > 1
    assert f"for step in range({traj.case.steps}):" in traj.snippet


def test_update_with_the_learning_rate_first(tmp_path):
    _replays(_write(tmp_path, "student_eta_first", UPDATE_ETA_FIRST), ("update",), "net.update_batch(eta, mini_batch)")


def test_per_sample_backprop_on_a_batch_is_averaged_as_the_driver_does(tmp_path):
    """backprop(x, y) takes one column; on a batch of 3 the driver averages its answers: so does the snippet."""
    from oracles import torch_autograd
    from oracles.strategies import draw_case
    from oracles.styles import nielsen

    path = _write(tmp_path, "student_per_sample", UPDATE_ETA_FIRST)
    impl = _load(path)
    case = draw_case(nielsen.spec_space(impl, "Network"), 5, min_layers=2, max_layers=2, max_width=3,
                     min_batch=3, max_batch=3)
    obs = styles.run("nielsen", impl, case, "Network")
    assert obs.calls["grads"]["over"] == "sample" and obs.calls["update"]["fn"] == "update_batch"
    for family in ("grad_W", "grad_b"):
        text, why = nielsen_snippet(case, family, obs.calls, torch_autograd.expected(case), path.stem)
        assert "per_sample = [net.backprop(x[:, [i]], y[:, [i]]) for i in range(x.shape[1])]" in text, why
        shown = _run_snippet(text, family, tmp_path)
        assert _close(shown["got"], _observed(family, obs, 2)) and not _close(shown["got"], shown["expected"])


def test_no_faithful_snippet_says_why_and_how_to_rerun(tmp_path):
    path = _write(tmp_path, "student_seed003", CTOR_WITH_STANDIN)
    r = validate_file(path, **FAST)
    bad = [c for c in r.checks if c.verdict == "fail" and c.name.endswith("grad_W")]
    assert bad, r.render()
    assert bad[0].snippet is None and "act_derivative" in bad[0].no_snippet, bad[0].no_snippet
    text = r.render()
    assert "no paste-able snippet (" in text and f"re-run: bpcheck validate {path} --seed 0 --cases 4" in text
    assert bad[0].to_dict()["no_snippet"] == bad[0].no_snippet


def _case() -> Case:
    from oracles.strategies import draw_case
    from oracles.styles import nielsen

    space = nielsen.spec_space(_load(Path(__file__).parent / "faults" / "correct_nielsen.py"), "Network")
    return draw_case(space, 3, max_batch=2)


class _Exp:
    loss, grads, trajectory = 0.5, {}, None
    updated: dict = {}


def test_snippet_spells_the_recorded_call_not_the_books():
    """A record the book's signature does not match (parameters reordered, one by keyword, a counter the body
    never reads): the snippet must spell exactly that call."""
    case = _case()
    calls = {"network": {"fn": "Net", "args": [["layer_sizes", "spec", "sizes"]],
                         "kwargs": [["kind", "literal", "sigmoid"]], "bias": "vector"},
             "update": {"fn": "step", "args": [["lr", "role", "eta"], ["i", "literal", 0], ["data", "role", "batch"]],
                        "kwargs": [["weight_decay", "role", "lmbda"]], "form": "matrix"}}
    text, why = nielsen_snippet(case, "update", calls, _Exp, "student")
    assert why == "" and "net = student.Net(" in text and ", kind='sigmoid')" in text
    assert "net.step(eta, 0, mini_batch, weight_decay=lmbda)" in text
    assert "update_mini_batch" not in text and f"b1 = {array_literal(case.params['b1'])}" in text  # (n,) biases
    # the book's call for the same Case would be another text: the test above fails on a guessed snippet
    book = dict(calls, update={"fn": "update_mini_batch", "args": [["mini_batch", "role", "batch"],
                                                                   ["eta", "role", "eta"]], "kwargs": []})
    assert nielsen_snippet(case, "update", book, _Exp, "student")[0] != text
    # a stand-in of bpcheck's in the call: no snippet, the reason
    calls["network"]["args"].append(["act_prime", "standin", "reference sigmoid_prime"])
    text, why = nielsen_snippet(case, "update", calls, _Exp, "student")
    assert text is None and "act_prime" in why
    assert nielsen_snippet(case, "grad_W", {"network": calls["network"]}, _Exp, "student")[0] is None


@pytest.mark.parametrize("bad", [
    {"update": {"fn": "step(); import os", "args": [], "kwargs": []}},
    {"update": {"fn": "step", "args": [["x", "literal", [1, 2]]], "kwargs": []}},
    {"update": {"fn": "step", "args": [["x", "file", "os.system"]], "kwargs": []}},
    {"update": {"fn": "step", "args": [["a b", "role", "eta"]], "kwargs": []}},
    {"update": {"fn": "step", "args": [], "kwargs": [], "form": "evil"}},
    {"update": {"fn": "step", "args": [["lr", "literal", float("nan")]], "kwargs": []}},
])
def test_calls_from_the_child_are_checked(bad):
    ok = {"update": {"fn": "update_mini_batch", "args": [["mini_batch", "role", "batch"], ["i", "literal", 0]],
                     "kwargs": [["lmbda", "role", "lmbda"]], "form": "stack"}}
    assert validate_observation(Observation(calls=ok).to_dict()).calls == ok
    with pytest.raises(ValueError):
        validate_observation({**Observation().to_dict(), "calls": bad})
