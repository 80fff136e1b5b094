"""Spec and Case: validation names the field and the allowed values; save/load is bit-exact; ids are stable."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oracles.case import ACTIVATION_NAMES, LOSS_NAMES, Case, Spec, SpecSpace
from oracles.strategies import cases, draw_case


def _case(**spec_changes) -> Case:
    spec = Spec(sizes=(3, 4, 2), activations=("relu", "sigmoid"), **spec_changes)
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((4, 3)), "b1": np.zeros(4), "W2": rng.standard_normal((2, 4)), "b2": np.ones(2)}
    return Case(spec=spec, params=params, x=rng.standard_normal((5, 3)), y=rng.random((5, 2)))


# -- validation --------------------------------------------------------------------------------


def test_zero_width_layer_names_the_field():
    with pytest.raises(ValueError, match=r"Spec\.sizes\[1\]=0.*width >= 1"):
        Spec(sizes=(3, 0, 2), activations=("relu", "sigmoid"))


def test_unknown_activation_names_field_and_choices():
    with pytest.raises(ValueError) as info:
        Spec(sizes=(3, 4, 2), activations=("relu", "swish"))
    msg = str(info.value)
    assert "Spec.activations[1]='swish'" in msg
    for name in ACTIVATION_NAMES:
        assert name in msg


def test_unknown_loss_lists_the_losses():
    with pytest.raises(ValueError) as info:
        Spec(sizes=(3, 2), activations=("sigmoid",), loss="mse")
    assert "Spec.loss='mse'" in str(info.value)
    assert all(repr(name) in str(info.value) for name in LOSS_NAMES)


def test_activation_count_mismatch():
    with pytest.raises(ValueError, match=r"Spec\.activations has 1 entries.*2 layers"):
        Spec(sizes=(3, 4, 2), activations=("relu",))


def test_param_shape_mismatch_names_param_and_expected_shape():
    good = _case()
    params = dict(good.params, W2=good.params["W2"].T)
    with pytest.raises(ValueError, match=re.escape("Case.params['W2'] has shape (4, 2)") + r".*\(2, 4\)"):
        Case(spec=good.spec, params=params, x=good.x, y=good.y)


def test_input_shape_mismatch():
    good = _case()
    with pytest.raises(ValueError, match=r"Case\.x has shape \(5, 4\); expected \(m, 3\)"):
        Case(spec=good.spec, params=good.params, x=np.zeros((5, 4)), y=good.y)


def test_missing_param_names_the_keys():
    good = _case()
    params = {k: v for k, v in good.params.items() if k != "b2"}
    with pytest.raises(ValueError, match=r"missing \['b2'\].*expected keys"):
        Case(spec=good.spec, params=params, x=good.x, y=good.y)


@pytest.mark.parametrize("where", ["x", "y", "W1", "b2"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_is_rejected(where, bad):
    good = _case()
    x, y, params = good.x.copy(), good.y.copy(), {k: v.copy() for k, v in good.params.items()}
    target = {"x": x, "y": y}.get(where, params.get(where))
    target.flat[-1] = bad
    with pytest.raises(ValueError, match=r"contains NaN or inf"):
        Case(spec=good.spec, params=params, x=x, y=y)


def test_labels_out_of_range():
    spec = Spec(sizes=(2, 3), activations=("identity",), loss="softmax_cross_entropy", target="labels")
    params = {"W1": np.zeros((3, 2)), "b1": np.zeros(3)}
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        Case(spec=spec, params=params, x=np.zeros((2, 2)), y=np.array([0, 3]))


# -- persistence -------------------------------------------------------------------------------


def _bit_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
    )


def _assert_same_case(a: Case, b: Case) -> None:
    assert a.spec == b.spec
    assert (a.lr, a.seed, a.steps, a.tags) == (b.lr, b.seed, b.steps, b.tags)
    assert list(a.params) == list(b.params)
    for name in a.params:
        assert _bit_equal(a.params[name], b.params[name]), name
    assert _bit_equal(a.x, b.x)
    assert _bit_equal(a.y, b.y)


@given(cases(dtypes=("float64", "float32"), space=SpecSpace(allow_reg=True, reductions=("mean", "sum"))))
def test_save_load_is_bit_exact(tmp_path_factory, case):
    path = case.save(tmp_path_factory.mktemp("cases") / "case.npz")
    back = Case.load(path)
    _assert_same_case(case, back)
    assert back.case_id == case.case_id


def test_save_keeps_float32_and_negative_zero(tmp_path):
    case = _case()
    x = case.x.astype(np.float32)
    x[0, 0] = -0.0
    odd = Case(spec=case.spec, params=case.params, x=x, y=case.y, lr=0.1 + 1e-17, seed=2**40, tags=("a", "b"))
    back = Case.load(odd.save(tmp_path / "odd.npz"))
    assert back.x.dtype == np.float32
    assert np.signbit(back.x[0, 0])
    _assert_same_case(odd, back)


# -- identity ------------------------------------------------------------------------------------


def test_case_id_is_stable_and_content_addressed():
    a, b = draw_case(SpecSpace(), 11), draw_case(SpecSpace(), 11)
    assert a.case_id == b.case_id
    assert re.fullmatch(r"[0-9a-f]{10}", a.case_id)
    x = a.x.copy()
    x.flat[0] = np.nextafter(x.flat[0], np.inf)  # one ulp is a different case
    assert dataclasses.replace(a, x=x).case_id != a.case_id


@given(st.integers(0, 2**32 - 1))
def test_draw_case_is_a_function_of_its_seed(seed):
    assert draw_case(SpecSpace(), seed).case_id == draw_case(SpecSpace(), seed).case_id


def test_case_id_is_the_same_in_another_process():
    # Reports cite case ids: no timestamps, no hash randomisation may leak into them.
    code = (
        "from oracles.case import SpecSpace; from oracles.strategies import draw_case; "
        "print(draw_case(SpecSpace(), 11).case_id)"
    )
    repo = Path(__file__).resolve().parents[1]
    env = {"PYTHONHASHSEED": "123", "PATH": os.environ.get("PATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=repo)
    assert out.stdout.strip() == draw_case(SpecSpace(), 11).case_id
