"""MyTorch files of earlier terms and hw2's bonus layers, seen in real repositories (docs/real-world/layers.tsv,
rows mytorch-s20-*, mytorch-s21-*, mytorch-hw2-ramanathan-*): each was ERROR ("no style recognised", or a Linear
signature bpcheck could not call). The fixtures of our own that pin them run in tests/test_real_layer_patterns.py
(patterns.tsv); this file pins what the table cannot: the style each is read as, the year's API, a reference
MLP whose layers cannot be told, and the dropout diagnosis against the mask the layer drew."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oracles import styles
from oracles.styles import mytorch
from reports.validate import validate_file

HERE = Path(__file__).parent / "submissions"
FX = HERE / "real_layers" / "fx"


@pytest.mark.parametrize("names", [
    ["BatchNorm", "BatchNorm.forward", "BatchNorm.backward"],  # S20-F21 hw1
    ["Activation", "Sigmoid", "Sigmoid.derivative", "Tanh", "Tanh.derivative", "ReLU", "ReLU.derivative"],
    ["Dropout", "Dropout.__call__", "Dropout.forward", "Dropout.backward"],  # S20-F21 bonus, forwards via __call__
    ["BatchNorm2d", "BatchNorm2d.backward"], ["Dropout2d", "Dropout2d.backward"],  # hw2 bonus
])
def test_earlier_terms_and_bonus_layers_are_mytorch(names):
    assert styles.detect(names)[0] == "mytorch"


def test_saitos_dropout_stays_saito():
    # the book's Dropout(dropout_ratio) defines no __call__: the token that tells them apart
    assert styles.detect(["Dropout", "Dropout.forward", "Dropout.backward"])[0] == "saito"


def test_hw3_linear_layout_is_read_off_the_object():
    class OutIn:  # Linear(in_feature, out_feature) holding W (out, in)
        def __init__(self, in_feature, out_feature):
            self.W, self.b = np.zeros((out_feature, in_feature)), np.zeros(out_feature)

        def forward(self, x):
            return x @ self.W.T + self.b

    class InOut(OutIn):  # the same signature holding W (in, out): not this layout, never guessed into it
        def __init__(self, in_feature, out_feature):
            self.W, self.b = np.zeros((in_feature, out_feature)), np.zeros(out_feature)

    assert mytorch._api(type("impl", (), {"Linear": OutIn})) == "2021r"
    assert mytorch._api(type("impl", (), {"Linear": InOut})) == "2021"


def test_the_hw3_linear_is_judged_by_its_own_scale():
    r = validate_file(FX / "mytorch_s21_hw3" / "linear.py", cases=4, timeout=10.0)
    assert r.verdict == "pass", r.render()
    assert any("W (out, in), dW averaged" in n for n in r.to_dict()["notes"]), r.to_dict()["notes"]


def test_a_reference_mlp_of_unknown_layers_is_not_checked():
    r = validate_file(HERE / "not_checked" / "mytorch_hw2_models" / "mlp_from_layers.py", cases=4, timeout=10.0)
    assert r.verdict == "error"
    (c,) = r.checks
    assert c.bug_class == "not_supported" and "cannot be told" in c.message and "--style" not in c.message


def test_the_s20_dropout_is_judged_under_its_own_keep_rate():
    """p keeps a unit in this file (binomial(1, p)): stated, the forward passes; the unscaled backward fails."""
    r = validate_file(FX / "mytorch_s20" / "mytorch" / "dropout.py", cases=8, timeout=10.0)
    d = r.to_dict()
    assert any("probability of KEEPING" in n for n in d["notes"]), d["notes"]
    by = {c["name"]: c for c in d["checks"]}
    assert by["layer:Dropout: output"]["verdict"] == "pass"
    assert by["layer:Dropout: grad_x"]["verdict"] == "fail"
    assert "dropout_backward_unscaled" in str(by["layer:Dropout: grad_x"]["diagnosis"])
