"""Style drivers: put a Case into an implementation in its course's own layout, run it, and
return an Observation in canonical form (see oracles/case.py and ARCHITECTURE.md).

Used for our references and for unmodified student files (inside the sandbox child), so every
call into an implementation is guarded: exceptions, wrong types or shapes and NaN become
``Observation.errors[check_family]`` and the other checks still run. ``run`` raises ValueError
only for a Case the entry point cannot run (see ``spec_space``).

    style, why = detect(names)
    for entry in entry_points(style, impl):
        space = spec_space(style, impl, entry)      # draw Cases from here
        obs = run(style, impl, case, entry)         # Observation
        own = own_loss(style, impl, case, entry)    # the implementation's own loss, or None

Names in ``Observation.mutated``: ``x``, ``y`` (the batch handed over), ``dout`` (an upstream
gradient a backward wrote into: the book's Relu does, a hygiene finding), ``activations`` (a
forward wrote into its input inside a chain), ``caches`` (a backward wrote into a forward's
cache), ``AL`` (deeplearning.ai's output handed to L_model_backward), ``params:W1`` ... (a stored
parameter changed outside an update). Case tags read by drivers: ``nd_input`` (row-layout styles
get x as (m, p, q); Affine/affine_forward must flatten it and return dx in that shape).
"""

from __future__ import annotations

from collections.abc import Iterable

from oracles.case import Case, SpecSpace
from oracles.observation import Observation
from oracles.styles import cs231n, dlai, mytorch, nielsen, saito
from oracles.styles._common import UnsupportedCase
from oracles.styles._coverage import recording

__all__ = ["STYLES", "UnsupportedCase", "detect", "not_checked_part", "entry_points", "spec_space", "run", "own_loss"]

STYLES = ("nielsen", "dlai", "saito", "cs231n", "mytorch")
_DRIVERS = {"nielsen": nielsen, "dlai": dlai, "saito": saito, "cs231n": cs231n, "mytorch": mytorch}

# Names that decide a style on their own, and weaker hints that only break ties.
# "Class.method" entries are accepted too (e.g. "Network.backprop", "TwoLayerNet.gradient").
_DECISIVE = {
    "nielsen": ("backprop", "update_mini_batch", "update_batch", "Network.backprop", "NeuralNetwork.backprop",
                "Network.update_mini_batch", "QuadraticCost", "CrossEntropyCost"),
    "dlai": ("L_model_forward", "L_model_backward", "linear_activation_forward", "linear_activation_backward",
             "initialize_parameters_deep", "forward_propagation+backward_propagation",
             "compute_cost_with_regularization", "forward_propagation_with_dropout",
             "conv_single_step", "create_mask_from_window", "distribute_value", "pool_forward+pool_backward",
             # course 5 week 1's RNN step by step: checked by dlai_layers_rnn (a cell's forward with its backward)
             "rnn_cell_forward+rnn_cell_backward", "lstm_cell_forward+lstm_cell_backward"),
    "saito": ("Affine", "SoftmaxWithLoss", "AffineLayer", "SoftmaxWithLossLayer", "MulLayer", "AddLayer", "Mullayer",
              "Addlayer", "MullLayer",
              "MultiLayerNet", "TwoLayerNet.gradient", "cross_entropy_error", "SquaredLoss",
              "BatchNormalization.backward", "Dropout.backward",
              "MultiLayerNetExtend", "Convolution", "Pooling", "SimpleConvNet", "im2col+col2im"),
    "cs231n": ("affine_forward", "affine_backward", "softmax_loss", "svm_loss", "FullyConnectedNet",
               "affine_relu_forward", "TwoLayerNet.loss+affine_forward", "batchnorm_forward", "layernorm_forward",
               "spatial_batchnorm_forward", "spatial_groupnorm_forward", "dropout_forward+dropout_backward",
               "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "ThreeLayerConvNet",
               "conv_relu_pool_forward", "conv_forward_fast",
               # assignment 3's recurrent layers (rnn_layers.py): checked by cs231n_layers_rnn
               # (not rnn_forward/lstm_forward alone: deeplearning.ai course 5 has functions of those names)
               "rnn_step_forward+rnn_step_backward", "lstm_step_forward+lstm_step_backward",
               "temporal_affine_forward+temporal_affine_backward",
               "word_embedding_forward+word_embedding_backward", "temporal_softmax_loss",
               # assignment 1's linear classifiers (classifiers/softmax.py, linear_svm.py): cs231n_linear
               "softmax_loss_naive", "softmax_loss_vectorized", "svm_loss_naive", "svm_loss_vectorized"),
    # CMU 11-785 MyTorch (issue 11): layer classes with forward/backward, losses as classes, MLP0/1/4
    "mytorch": ("MSELoss", "CrossEntropyLoss", "SoftmaxCrossEntropy", "MLP0", "MLP1", "MLP4", "BatchNorm1d",
                "Linear.backward+ReLU.backward", "Identity.backward+ReLU.backward",
                "Conv1d_stride1", "Conv2d_stride1", "MaxPool2d_stride1", "MeanPool2d_stride1", "Downsample1d",
                "Upsample1d", "Downsample2d", "Upsample2d",  # hw2's own class names; S20-S21's below
                "Conv1D.backward", "Conv2D.backward", "MaxPoolLayer.backward", "MeanPoolLayer.backward",
                # S20-F21 hw1: BatchNorm(in_feature, alpha), activations with derivative(), the bonus Dropout(p)
                # (forward through __call__, which Saito's Dropout has not); hw2's bonus BatchNorm2d, Dropout2d
                "BatchNorm.backward", "Sigmoid.derivative", "Tanh.derivative", "ReLU.derivative",
                "Dropout.__call__+Dropout.backward", "BatchNorm2d.backward", "Dropout2d.backward",
                # hw3p1's recurrent cells (rnn_cell.py, gru_cell.py): checked by mytorch_cells
                "RNNCell.backward", "GRUCell.backward"),
}
_HINTS = {
    "nielsen": ("Network", "NeuralNetwork", "sigmoid_prime", "cost_derivative", "feedforward"),
    "dlai": ("compute_cost", "update_parameters", "linear_forward", "linear_backward", "relu_backward",
             "sigmoid_backward", "initialize_parameters", "layer_sizes", "nn_model"),
    "saito": ("Relu", "Sigmoid", "numerical_gradient", "TwoLayerNet"),
    "cs231n": ("relu_forward", "relu_backward", "sgd", "TwoLayerNet"),
    # hw2 Flatten alone: no other course has one; Saito's Dropout has no __call__
    "mytorch": ("Linear", "ReLU", "GELU", "Identity", "Flatten.backward", "Dropout.__call__"),
}


# Course assignments bpcheck recognises but does not check (yet): a file that is only one of these gets
# an ERROR that says so, not "no style recognised" and a suggestion to force a style that has nothing to
# run. Names from the real files of the corpus (docs/real-world/): MyTorch hw3p1's CTC.py and
# rnn_classifier.py, deeplearning.ai course 5's RNN step by step. CS231n assignment 3's RNN/LSTM layers are
# checked (a forward without its backward is not: nothing to compare a gradient with), the word embedding
# and the temporal softmax loss too; a file with only its captioning net (or forwards alone) is named here.
_NOT_CHECKED = {
    "CS231n's recurrent layers (assignment 3, rnn_layers.py)": (
        "rnn_step_forward", "rnn_step_backward", "rnn_forward+rnn_backward", "lstm_step_forward",
        "lstm_step_backward", "lstm_forward+lstm_backward", "word_embedding_forward", "temporal_affine_forward",
        "temporal_softmax_loss", "CaptioningRNN"),
    # MyTorch hw3p1's RNNCell and GRUCell are checked (oracles/styles/mytorch_cells.py); its CTC and classifiers
    # are not, nor S20's cells (RNN_Cell, GRU_Cell: another API, a GRU without biases)
    "MyTorch's CTC, recurrent classifiers or S20 cells (11-785 hw3)": (
        "RNN_Cell.backward", "GRU_Cell.backward", "CTC", "CTCLoss", "RNNPhonemeClassifier"),
    # course 5's cells with their backwards are checked (dlai_layers_rnn); forwards alone have no gradient to judge
    "deeplearning.ai's recurrent network step by step (course 5), forwards without their backwards": (
        "rnn_cell_forward", "lstm_cell_forward", "rnn_cell_backward", "lstm_cell_backward"),
    # MyTorch hw2's models/mlp.py, "only for your reference": MLP(layer_sizes) chains Linear and ReLU from
    # `from layers import *`, a module no handout ships; which layers (and which year's API) it is built from
    # cannot be told, and its own code is the chaining alone
    "an MLP class built from layers it imports (MyTorch hw2's reference models/mlp.py: `from layers import *`, "
    "a module the handout does not ship, so the layers it chains cannot be told)": (
        "MLP.init_weights+MLP.forward+MLP.backward",),
}


def not_checked_part(names: Iterable[str]) -> tuple[str, list[str]] | None:
    """(which course part, the names that show it) for a file made of a part bpcheck does not check."""
    names = set(names)
    best = max(((label, [t for t in tokens if _present(t, names)]) for label, tokens in _NOT_CHECKED.items()),
               key=lambda item: len(item[1]))
    return best if best[1] else None


def _present(token: str, names: set[str]) -> bool:
    """All '+'-joined parts present; a bare method name also matches any "Class.method" entry."""
    for part in token.split("+"):
        if part in names:
            continue
        if "." not in part and any(n.endswith("." + part) for n in names):
            continue
        return False
    return True


def detect(names: Iterable[str]) -> tuple[str | None, str]:
    """The course style of a file from the names it defines, and which names decided it.

    names: top-level names, optionally with "Class.method" entries (the sandbox loader adds them).
    Returns (None, reason) when no style is recognised or the names are ambiguous (e.g. only
    TwoLayerNet: Saito or CS231n)."""
    names = set(names)
    found = {}
    for style in STYLES:
        decisive = [t for t in _DECISIVE[style] if _present(t, names)]
        hints = [t for t in _HINTS[style] if _present(t, names)]
        found[style] = (decisive, hints)
    if "TwoLayerNet.loss" in names and "TwoLayerNet.gradient" not in names:
        found["cs231n"][0].append("TwoLayerNet.loss without TwoLayerNet.gradient")
    ranked = sorted(STYLES, key=lambda s: (len(found[s][0]), len(found[s][1])), reverse=True)
    best, runner_up = ranked[0], ranked[1]
    decisive, hints = found[best]
    if not decisive:
        hinted = [s for s in STYLES if found[s][1]]
        if len(hinted) == 1:
            return best, f"{best}: defines {', '.join(hints)} (no decisive name such as {_DECISIVE[best][0]})"
        if "TwoLayerNet" in names and set(hinted) >= {"saito", "cs231n"}:
            return None, ("TwoLayerNet alone does not tell Saito (gradient(x, t)) from CS231n (loss(X, y) -> "
                          "(loss, grads)); pass the style explicitly")
        part = not_checked_part(names)
        if part is not None:
            label, shown = part
            shown = [t.split("+")[0] for t in shown]
            more = f", ... ({len(shown)} names)" if len(shown) > 3 else ""
            return None, (f"this file is {label}: {', '.join(shown[:3])}{more}. bpcheck does not check these yet, "
                          f"so nothing in it was judged")
        seen = ", ".join(sorted({h for s in STYLES for h in found[s][1]})) or "none of the course names"
        return None, (f"no style recognised (found {seen}); expected e.g. Network.backprop (nielsen), "
                      f"L_model_forward (dlai), Affine/SoftmaxWithLoss (saito), affine_forward (cs231n)")
    reason = f"{best}: defines {', '.join(decisive + hints)}"
    if found[runner_up][0]:
        reason += f" (also {runner_up} names: {', '.join(found[runner_up][0])}; {best} has more)"
    return best, reason


def _driver(style: str):
    if style not in _DRIVERS:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    return _DRIVERS[style]


def entry_points(style: str, impl) -> list[str]:
    """The parts of impl this style's driver can run (may call into impl to probe, guarded)."""
    return _driver(style).entry_points(impl)


def spec_space(style: str, impl, entry: str) -> SpecSpace:
    """The Specs that entry point can run."""
    return _driver(style).spec_space(impl, entry)


def run(style: str, impl, case: Case, entry: str) -> Observation:
    """Run case through impl's entry point; implementation faults go into Observation.errors.

    Raises ValueError only for a Case outside ``spec_space(style, impl, entry)`` or an unknown entry."""
    driver = _driver(style)
    with recording(impl, _trace_key(case, entry)) as called:
        try:
            obs = driver.run(impl, case, entry)
        except ValueError as exc:
            if isinstance(exc, UnsupportedCase):
                raise
            obs = _unreadable(exc)
        except Exception as exc:  # an output so odd that the driver itself tripped: still the implementation's
            obs = _unreadable(exc)
    obs.called = sorted(called | set(obs.called))
    _fill_aux(case, obs)
    return obs


def _fill_aux(case: Case, obs: Observation) -> None:
    """Every aux input the oracle needs (a dropout mask), ones where the driver could not read one (it then
    recorded why): the oracle never lacks an input because an implementation failed."""
    import numpy as np

    for s in case.spec.slots if case.spec.aux_names() else ():
        for full in s.aux.values():
            obs.aux.setdefault(full, np.ones((case.m, *s.in_shape)))


def _trace_key(case: Case, entry: str) -> tuple:
    """What decides which of a file's functions a run reaches: the entry and the Spec's choices."""
    spec = case.spec
    return (entry, frozenset(spec.activations), spec.loss, spec.target, bool(spec.reg), case.m == 1, case.tags)


def _unreadable(exc: Exception) -> Observation:
    obs = Observation()
    msg = f"the implementation's results could not be read ({type(exc).__name__}: {exc})"
    for family in ("loss", "grad_W", "grad_b", "update"):
        obs.errors[family] = msg
    obs.notes.append("driver stopped early: " + msg)
    return obs


def own_loss(style: str, impl, case: Case, entry: str) -> float | None:
    """The implementation's own loss at case.params / x / y (None when the style exposes none or it failed)."""
    driver = _driver(style)
    try:
        return driver.own_loss(impl, case, entry)
    except ValueError as exc:
        if isinstance(exc, UnsupportedCase):
            raise
        return None
    except Exception:
        return None
