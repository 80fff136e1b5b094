"""Saito's MulLayer and AddLayer (chapter 5.4), checked on their own: the two-input layer kinds against torch,
the driver on the reference and on student-like files (arrays and the book's Python floats), the
``mul_backward_swapped`` diagnosis (named on the mutant, never on a right answer), and Pooling's
constructor read in the file's own (width, height) order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from oracles import styles
from oracles.case import Case, Spec
from oracles.compare import compare_observation
from oracles.diagnose import diagnose
from oracles.diagnose.pair import pair_patterns
from oracles.layers import kind
from oracles.observation import Observation
from oracles.strategies import draw_case
from oracles.styles.saito_layers_conv import _width_first
from reference import layers
from reference.mutants import MUTANTS

SUBMISSIONS = Path(__file__).parent / "submissions"


@pytest.fixture(scope="module")
def torch_expected():
    from oracles.torch_autograd import expected

    return expected


def _cases(entry: str, n: int, impl=layers):
    space = styles.spec_space("saito", impl, entry)
    return [draw_case(space, 3000 + i, regime=(None, "tiny")[i % 2], max_batch=5) for i in range(n)]


def _pair_case(x: np.ndarray, dout: np.ndarray) -> Case:
    spec = Spec(layers=("mul_pair",), input_shape=x.shape[1:], loss="dot", reduction="sum", layout="rows")
    return Case(spec, {}, x, dout)


def test_the_pair_kinds_need_two_operands():
    assert kind("mul_pair").out_shape((2, 3), {}) == (3,)
    assert kind("add_pair").out_shape((2, 2, 3), {}) == (2, 3)
    with pytest.raises(ValueError, match="stacked as"):
        kind("mul_pair").out_shape((3, 4), {})


def test_the_oracle_gives_each_operand_the_other_one(torch_expected):
    """Hand-derived: d(ab)/da = b, d(ab)/db = a; d(a + b) = (1, 1), each times dout."""
    x = np.array([[[2.0, -1.0], [3.0, 0.5]]])
    dout = np.array([[10.0, 4.0]])
    exp = torch_expected(_pair_case(x, dout))
    assert np.array_equal(exp.out, [[6.0, -0.5]])
    assert np.array_equal(exp.grads["x"], [[[30.0, 2.0], [20.0, -4.0]]])
    spec = Spec(layers=("add_pair",), input_shape=(2, 2), loss="dot", reduction="sum", layout="rows")
    exp = torch_expected(Case(spec, {}, x, dout))
    assert np.array_equal(exp.out, [[5.0, -0.5]]) and np.array_equal(exp.grads["x"], [[[10.0, 4.0], [10.0, 4.0]]])


@pytest.mark.parametrize("entry", ["MulLayer", "AddLayer"])
def test_the_reference_layers_pass_on_every_drawn_case(entry, torch_expected):
    assert entry in styles.entry_points("saito", layers)
    for case in _cases(entry, 8):
        obs = styles.run("saito", layers, case, entry)
        assert obs.out is not None and "x" in obs.grads and not obs.errors, obs.errors
        assert all(v.passed for v in compare_observation(case, obs, torch_expected(case))), case.describe()


@pytest.mark.parametrize("entry", ["MulLayer", "AddLayer"])
def test_the_reference_layers_match_finite_differences(entry):
    """The second oracle: central differences of the pair kinds' loss agree with the reference's dx, dy (the
    generic reference tests skip one-layer entries)."""
    from oracles import finite_diff
    from oracles.compare import compare_tensor

    for case in _cases(entry, 4):
        obs = styles.run("saito", layers, case, entry)
        fd = finite_diff.full(case)
        v = compare_tensor("grads['x']", obs.grads["x"], fd.grads["x"], dtype="float64", oracle="fd",
                           err_est=fd.norm_err_est("x"), check="grad_x")
        assert v.passed, v.message


def test_the_swapped_mutant_is_named_on_every_case(torch_expected):
    impl = MUTANTS["saito_mul_backward_swapped"].impl
    for case in _cases("MulLayer", 8, impl):
        obs, exp = styles.run("saito", impl, case, "MulLayer"), torch_expected(case)
        verdicts = compare_observation(case, obs, exp)
        ds = diagnose(case, verdicts, obs, exp)
        assert ds and ds[0].bug_class == "mul_backward_swapped", (case.describe(), ds)
        assert ds[0].evidence["components"] == ["dx", "dy"]


def test_the_swap_is_never_claimed_where_it_cannot_be_seen(torch_expected):
    """Equal operands make dout * x and dout * y the same: a right answer marked failing is not 'swapped'."""
    x = np.array([[[1.5, -2.0], [1.5, -2.0]]])
    case = _pair_case(x, np.array([[1.0, 3.0]]))
    exp = torch_expected(case)
    obs = Observation(out=np.array(exp.out), grads={"x": np.array(exp.grads["x"])})
    bad = [dataclasses.replace(v, status="fail") for v in compare_observation(case, obs, exp)]
    assert pair_patterns(case, bad, obs, exp) == []


def test_one_swapped_component_is_named_alone(torch_expected):
    """dx = dout * x with dy right (a real file's dy = dout * self.x beside dx = dout * self.x)."""
    x = np.array([[[2.0, 3.0], [5.0, 7.0]]])
    dout = np.array([[1.0, -1.0]])
    case = _pair_case(x, dout)
    exp = torch_expected(case)
    g = np.array(exp.grads["x"])
    g[:, 0] = dout * x[:, 0]
    obs = Observation(out=np.array(exp.out), grads={"x": g})
    ds = pair_patterns(case, compare_observation(case, obs, exp), obs, exp)
    assert [d.bug_class for d in ds] == ["mul_backward_swapped"] and ds[0].evidence["components"] == ["dx"]


def test_validate_names_the_swap_and_the_arrays_only_layer():
    from reports.validate import validate_file

    r = validate_file(SUBMISSIONS / "saito_layers" / "mul_backward_swapped.py", cases=4, shrink=False, timeout=5.0)
    failing = {c.name: c.bug_class for c in r.checks if c.verdict == "fail"}
    assert r.verdict == "fail" and failing == {"MulLayer: grad_x": "mul_backward_swapped"}, r.render()

    path = SUBMISSIONS / "saito_layers" / "mul_copies_inputs_arrays_only.py"
    r = validate_file(path, cases=4, shrink=False, timeout=5.0)
    failing = {c.name: c for c in r.checks if c.verdict == "fail"}
    assert r.verdict == "fail" and list(failing) == ["MulLayer: output"], r.render()
    assert "Python floats" in r.render() and "AttributeError" in r.render()


def test_the_real_spellings_are_found_and_said():
    from reports.validate import validate_file

    r = validate_file(SUBMISSIONS / "real_layers" / "fx" / "saito_simple_layers_spelled.py", cases=4, shrink=False,
                      timeout=5.0)
    assert r.verdict == "pass" and r.style == "saito", r.render()
    assert {c.name.split(":")[0] for c in r.checks} == {"MulLayer", "AddLayer"}
    assert "the file's Mullayer is read as the book's MulLayer" in r.render()


def test_pooling_width_first_is_read_from_the_constructor():
    class Book:
        def __init__(self, pool_h, pool_w, stride=1, pad=0): ...

    class WidthFirst:
        def __init__(self, w_p, h_p, stride=1, pad=0): ...

    class Spelled:
        def __init__(self, pool_width, pool_height, stride=1): ...

    class Unnamed:
        def __init__(self, a, b, stride=1): ...

    assert [_width_first(c) for c in (Book, WidthFirst, Spelled, Unnamed)] == [False, True, True, False]


def test_the_chapter_5_layers_are_found_under_layer_suffixed_names():
    from reports.validate import validate_file

    r = validate_file(SUBMISSIONS / "real_layers" / "fx" / "saito_layer_suffix_names.py", cases=8, shrink=False,
                      timeout=5.0)
    entries = {c.name.split(":")[0] if not c.name.startswith("layer:") else ":".join(c.name.split(":")[:2])
               for c in r.checks}
    want = {"layer:AffineLayer", "layer:ReluLayer", "layer:SoftmaxWithLossLayer", "layers", "Dropout"}
    assert want <= entries, entries
    assert "the file's DropoutLayer is read as the book's Dropout" in r.render()
    failing = {c.bug_class for c in r.checks if c.verdict == "fail"}
    assert r.verdict == "fail" and failing == {"one_hot_only"}, r.render()


def test_a_stubbed_helper_module_is_not_judged_and_not_blamed():
    """A check that reaches a module the file imports but was not given (bpcheck's stub) is ERROR with the fix,
    never FAIL, and carries no hypothesis about the code; the checks that never reach it are judged."""
    from reports.validate import validate_file

    path = SUBMISSIONS / "loading" / "helpers" / "own_package_missing.py"
    r = validate_file(path, cases=4, shrink=False, timeout=5.0)
    assert r.verdict == "error" and not [c for c in r.checks if c.verdict == "fail"], r.render()
    stuck = [c for c in r.checks if c.verdict == "error"]
    assert stuck and {c.bug_class for c in stuck} == {"missing_module"}, r.render()
    assert all("--root" in c.message and "mynet" in c.message for c in stuck), [c.message for c in stuck]
    assert any(c.verdict == "pass" and c.name.startswith("layer:Affine") for c in r.checks), r.render()
