"""Two MyTorch bugs that used to be 'unclassified', now named: a Flatten that lays the features out in
another axis order (``flatten_axis_order``) and a model backward that steps over an activation while every
layer is right (``activation_backward_skipped``). Each hypothesis is named on student-like files, and never
fires on a right answer, not even when asked with every tensor marked failing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import reference.mytorch as mt
from oracles import styles
from oracles.case import Case, Spec
from oracles.compare import compare_observation
from oracles.diagnose import diagnose
from oracles.diagnose.flatten import flatten_in_order, flatten_patterns
from oracles.diagnose.recompute import _skipped_activation_match
from oracles.observation import Observation
from oracles.strategies import draw_case
from reference.mutants import MUTANTS

FIXTURES = Path(__file__).parent / "submissions" / "mytorch"


@pytest.fixture(scope="module")
def torch_expected():
    from oracles.torch_autograd import expected

    return expected


def _all_failing(verdicts):
    """The verdicts as if every tensor had failed: a hypothesis asked anyway must still not fire."""
    return [dataclasses.replace(v, status="fail") for v in verdicts]


def _cases(entry: str, n: int, impl=mt):
    space = styles.spec_space("mytorch", impl, entry)
    return [draw_case(space, 2000 + i, regime=(None, "tiny")[i % 2], max_batch=6) for i in range(n)]


def _flatten_case(shape, m=3, seed=0) -> Case:
    rng = np.random.default_rng(seed)
    spec = Spec(layers=("flatten",), input_shape=shape, loss="dot", reduction="sum", layout="rows")
    return Case(spec, {}, rng.standard_normal((m, *shape)), rng.standard_normal((m, int(np.prod(shape)))))


# ---- validate on student-like files


@pytest.mark.parametrize("path, entry, bug", [
    ("flatten_swapaxes_channels_last.py", "layer:Flatten", "flatten_axis_order"),
    ("mlp4_backward_off_by_one.py", "MLP4", "activation_backward_skipped"),
])
def test_validate_fails_the_file_and_names_the_bug(path, entry, bug):
    from reports.validate import validate_file

    r = validate_file(FIXTURES / path, cases=8, shrink=False, timeout=5.0)
    assert r.verdict == "fail", r.render()
    failing = {c.name: c.bug_class for c in r.checks if c.verdict == "fail"}
    assert failing and all(n.startswith(entry + ":") for n in failing), failing
    assert set(failing.values()) == {bug}, r.render()


def test_validate_passes_the_right_flatten():
    from reports.validate import validate_file

    r = validate_file(FIXTURES / "flatten_correct.py", cases=8, shrink=False, timeout=5.0)
    assert r.verdict == "pass" and not r.bug_classes(), r.render()


# ---- flatten_axis_order


def test_a_right_flatten_is_never_called_reordered(torch_expected):
    """The reference's observations, every tensor marked failing: no order fits, not even where an axis of
    length 1 makes (W, C) order give the right answer (the hypothesis must skip an order it cannot tell)."""
    drawn = _cases("layer:Flatten", 10)
    made = [_flatten_case((1, 5)), _flatten_case((4, 1)), _flatten_case((1, 1, 3)), _flatten_case((2, 1, 3))]
    for case, by_driver in [(c, True) for c in drawn] + [(c, False) for c in made]:
        exp = torch_expected(case)
        obs = styles.run("mytorch", mt, case, "layer:Flatten") if by_driver else \
            Observation(out=np.array(exp.out), grads={"x": np.array(exp.grads["x"])})
        bad = _all_failing(compare_observation(case, obs, exp))
        assert flatten_patterns(case, bad, obs, exp) == [], case.describe()
        assert not any(d.bug_class == "flatten_axis_order" for d in diagnose(case, bad, obs, exp))


def test_the_channels_last_mutant_is_named_on_every_case_it_fails(torch_expected):
    impl = MUTANTS["mytorch_flatten_channels_last"].impl
    named = 0
    for case in _cases("layer:Flatten", 10, impl):
        obs, exp = styles.run("mytorch", impl, case, "layer:Flatten"), torch_expected(case)
        verdicts = compare_observation(case, obs, exp)
        if all(v.passed for v in verdicts):
            assert 1 in case.spec.input_shape  # only an axis of length 1 hides the order
            continue
        ds = diagnose(case, verdicts, obs, exp)
        assert ds[0].bug_class == "flatten_axis_order" and set(ds[0].tensors) == {"out", "x"}, ds
        named += 1
    assert named >= 5


def test_a_reordered_forward_with_a_right_backward_names_the_output_only(torch_expected):
    """A file that swaps the axes in forward but reshapes dLdZ straight back: dLdA passes, the output is named."""
    case = _flatten_case((3, 4))
    exp = torch_expected(case)
    alt = flatten_in_order(np.asarray(case.x), np.asarray(case.y), (1, 0))
    obs = Observation(out=alt["out"], grads=dict(exp.grads))
    ds = diagnose(case, compare_observation(case, obs, exp), obs, exp)
    assert ds[0].bug_class == "flatten_axis_order" and ds[0].tensors == ("out",), ds
    assert "(W, C)" in ds[0].message


@pytest.mark.parametrize("order, said", [((1, 2, 0), "(H, W, C)"), ((0, 2, 1), "(C, W, H)")])
def test_images_flattened_in_any_other_order_are_named_with_it(torch_expected, order, said):
    case = _flatten_case((2, 3, 4))
    exp = torch_expected(case)
    alt = flatten_in_order(np.asarray(case.x), np.asarray(case.y), order)
    obs = Observation(out=alt["out"], grads={"x": alt["x"]})
    ds = diagnose(case, compare_observation(case, obs, exp), obs, exp)
    assert ds[0].bug_class == "flatten_axis_order" and ds[0].evidence["order"] == list(order), ds
    assert said in ds[0].message


def test_a_flatten_that_only_scrambles_is_not_called_reordered(torch_expected):
    """Right numbers in an order no axis permutation gives (reversed features): not this hypothesis."""
    case = _flatten_case((3, 4))
    exp = torch_expected(case)
    obs = Observation(out=np.asarray(exp.out)[:, ::-1].copy(), grads=dict(exp.grads))
    ds = diagnose(case, compare_observation(case, obs, exp), obs, exp)
    assert ds and not any(d.bug_class == "flatten_axis_order" for d in ds), ds


# ---- activation_backward_skipped


def _mlp4_skipping(index: int):
    """An MLP4 whose backward steps over self.layers[index] (every layer itself right)."""
    class _Skip(mt.MLP4):
        def backward(self, dLdA):
            for i in range(len(self.layers) - 1, -1, -1):
                if i != index:
                    dLdA = self.layers[i].backward(dLdA)
            return dLdA

    from reference.mutants import clone_module

    return clone_module(mt, {"MLP4": _Skip})


def test_a_right_model_is_never_called_skipping(torch_expected):
    """The reference MLP4's observations, every tensor marked failing: no skipped activation fits, including on
    Cases where every output unit is active (there the skip gives the right answer and must not be claimed)."""
    alive = 0
    for case in _cases("MLP4", 12):
        obs, exp = styles.run("mytorch", mt, case, "MLP4"), torch_expected(case)
        verdicts = compare_observation(case, obs, exp)
        assert all(v.passed for v in verdicts)
        bad = _all_failing(verdicts)
        failing = sorted({v.name.rsplit("[", 1)[-1].strip("]'\"") for v in bad})
        assert _skipped_activation_match(case, obs, exp, [k for k in failing if not k.startswith("A")]) is None
        assert not any(d.bug_class == "activation_backward_skipped" for d in diagnose(case, bad, obs, exp))
        x = np.asarray(case.x, dtype=np.float64)
        for l in range(1, 6):
            x = x @ np.asarray(case.params[f"W{l}"]).T + np.asarray(case.params[f"b{l}"])
            x = np.maximum(x, 0) if l < 5 else x
        alive += bool(np.all(x > 0))
    assert alive, "no Case with every output unit active: the guard against a skip that changes nothing is untested"


def test_the_mlp4_mutant_is_named_and_points_at_the_output_relu(torch_expected):
    impl = MUTANTS["mytorch_mlp4_backward_skips_output_relu"].impl
    named = 0
    for case in _cases("MLP4", 8, impl):
        obs, exp = styles.run("mytorch", impl, case, "MLP4"), torch_expected(case)
        verdicts = compare_observation(case, obs, exp)
        if all(v.passed for v in verdicts):
            continue
        ds = diagnose(case, verdicts, obs, exp)
        assert ds[0].bug_class == "activation_backward_skipped" and ds[0].evidence["skipped_layer"] == 5, ds
        assert not any(d.bug_class == "constant_factor" for d in ds), ds  # a coincidental factor is no 2nd finding
        named += 1
    assert named >= 3


@pytest.mark.parametrize("index, layer", [(5, 3), (1, 1)])
def test_a_skipped_hidden_relu_is_named_with_its_layer(torch_expected, index, layer):
    impl = _mlp4_skipping(index)
    named = 0
    for case in _cases("MLP4", 8, impl):
        obs, exp = styles.run("mytorch", impl, case, "MLP4"), torch_expected(case)
        verdicts = compare_observation(case, obs, exp)
        if all(v.passed for v in verdicts):
            continue
        ds = diagnose(case, verdicts, obs, exp)
        assert ds[0].bug_class == "activation_backward_skipped" and ds[0].evidence["skipped_layer"] == layer, ds
        named += 1
    assert named >= 3


def test_not_claimed_when_a_hidden_da_is_wrong_too(torch_expected):
    """The signature is the mix: dA right, the model's dW wrong. With a dA wrong as well a layer itself is wrong,
    and the skip must not be claimed (even though dW, db, dx still equal the skipped chain's)."""
    impl = MUTANTS["mytorch_mlp4_backward_skips_output_relu"].impl
    tried = 0
    for case in _cases("MLP4", 8, impl):
        obs, exp = styles.run("mytorch", impl, case, "MLP4"), torch_expected(case)
        if all(v.passed for v in compare_observation(case, obs, exp)):
            continue
        if not np.any(exp.grads["A2"]):
            continue
        obs.grads["A2"] = 2.0 * np.asarray(obs.grads["A2"])
        verdicts = compare_observation(case, obs, exp)
        assert not next(v for v in verdicts if v.name == "grads['A2']").passed
        ds = diagnose(case, verdicts, obs, exp)
        assert not any(d.bug_class == "activation_backward_skipped" for d in ds), ds
        tried += 1
    assert tried >= 3
