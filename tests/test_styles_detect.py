"""detect(): the style of every fixture and every reference module from the names it defines."""

from __future__ import annotations

import importlib

import pytest
from submissions import fixtures, load

from oracles import styles
from oracles.styles._common import public_names


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_style_detected(path):
    _, names = load(path)
    style, reason = styles.detect(names)
    assert style == path.parent.name, reason
    assert reason.startswith(f"{style}: defines ")


@pytest.mark.parametrize(
    "module, style",
    [
        ("reference.nielsen", "nielsen"),
        ("reference.matrix", "nielsen"),
        ("reference.dlai", "dlai"),
        ("reference.dlai_two_layer", "dlai"),
        ("reference.layers", "saito"),
        ("reference.layer_net", "saito"),
        ("reference.cs231n", "cs231n"),
    ],
)
def test_reference_style_detected(module, style):
    got, reason = styles.detect(public_names(importlib.import_module(module)))
    assert got == style, reason


def test_reason_names_the_deciding_names():
    style, reason = styles.detect(["Network", "Network.backprop", "Network.update_mini_batch", "sigmoid"])
    assert style == "nielsen"
    assert "backprop" in reason and "update_mini_batch" in reason


@pytest.mark.parametrize(
    "names, style",
    [
        (["L_model_forward", "L_model_backward", "compute_cost"], "dlai"),
        (["forward_propagation", "backward_propagation", "compute_cost"], "dlai"),
        (["Affine", "Relu", "SoftmaxWithLoss"], "saito"),
        (["TwoLayerNet", "TwoLayerNet.loss", "TwoLayerNet.gradient"], "saito"),
        (["affine_forward", "affine_backward", "softmax_loss"], "cs231n"),
        (["TwoLayerNet", "TwoLayerNet.loss"], "cs231n"),
        (["NeuralNetwork", "sigmoid"], "nielsen"),  # no decisive name, one style hinted
    ],
)
def test_detect_by_names(names, style):
    assert styles.detect(names)[0] == style


def test_ambiguous_or_unknown_names_give_none_and_say_why():
    style, reason = styles.detect(["TwoLayerNet"])
    assert style is None and "Saito" in reason and "CS231n" in reason
    style, reason = styles.detect(["main", "load_data", "np"])
    assert style is None and "no style recognised" in reason


def test_more_decisive_names_win_and_the_other_style_is_mentioned():
    # a CS231n file that also defines a Saito-style Affine class for comparison
    style, reason = styles.detect(["affine_forward", "affine_backward", "softmax_loss", "svm_loss", "Affine"])
    assert style == "cs231n"
    assert "also saito" in reason


def test_unknown_style_is_a_usage_error():
    with pytest.raises(ValueError, match="unknown style 'keras'"):
        styles.entry_points("keras", object())


def test_a_file_with_only_hw2_flatten_is_mytorch():
    from oracles.styles import detect

    assert detect(["Flatten", "Flatten.forward", "Flatten.backward"])[0] == "mytorch"
