"""The vocabulary of diagnoses: bug classes, Diagnosis, Convention, and the one way to say "equal"."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oracles.compare import compare_tensor

BUG_CLASSES: dict[str, str] = {
    "raised": "the implementation raised an exception",
    "forward_pass": "the forward pass is wrong (the loss differs and everything downstream)",
    "mutation": "an input, upstream gradient or parameter was modified in place",
    "missing_keepdims": "a (n,) gradient broadcast against a (n, 1) parameter: keepdims missing",
    "shape": "a gradient has the wrong shape",
    "extra_batch_axis": "a gradient keeps the batch axis: not summed over the samples",
    "large_inputs": "overflow / instability: NaN or inf where the oracle is finite",
    "missing_mean": "gradient m times too large: the 1/m of the mean is missing",
    "double_mean": "gradient 1/m of the oracle's: averaged twice",
    "factor_2": "gradient twice the oracle's: the cost has no 1/2 ((a - y)^2 gives 2 (a - y))",
    "factor_half": "gradient half the oracle's",
    "sign_flip": "gradient has the wrong sign",
    "constant_factor": "gradient off by a constant factor",
    "transpose": "weight gradient transposed",
    "zero_grad": "gradient is all zeros",
    "reg_scale": "the regularisation gradient is scaled wrong (or missing)",
    "reg_on_bias": "regularisation applied to the biases",
    "derivative_at_activation": "activation derivative evaluated at a = sigma(z) instead of z",
    "output_missing_derivative": "output delta without the output activation's derivative",
    "wrong_derivative": "the wrong activation derivative in the hidden layers",
    "a_prev_is_x": "the input X used in place of the previous layer's activation A_{l-1}",
    "kink_convention": "a different subgradient at exact kinks (ReLU mask z >= 0)",
    "loss_grad_mismatch": "the cost does not compute what the gradients differentiate",
    "update_only": "gradients right, the parameter update wrong",
    "reg_decay_scale": "the weight decay in the update is scaled wrong (lmbda / m for lmbda / n)",
    "bias_only": "only the bias gradients are wrong",
    "layer_break": "the backward recursion breaks at one layer: the layers above are right",
    "one_hot_only": "right with one-hot targets, wrong with label targets",
    "batch_only": "right for one sample, wrong for batches",
    "class_absent": "wrong or crashes on a batch that misses the highest class (sized from y.max(), not the classes)",
    "single_sample_only": "wrong or crashes on a batch of one sample",
    "scalar_added": "a scalar added where an array was meant (reg * np.sum(W) for reg * W)",
    "grad_for_param": "a parameter's gradient used in place of the parameter (dW2.T @ dZ2 for W2.T @ dZ2)",
    "derivative_twice": "the activation derivative applied twice",
    "l2_per_sample": "the L2 term added once per sample instead of once per batch",
    "output_activation": "an activation applied to the output scores: the model differs from the spec",
    "activation_backward_skipped": "the backward steps over an activation layer (its derivative taken as 1): the "
                                   "hidden dA are right, the model's own parameter gradients are not",
    "flatten_axis_order": "flatten lays the features out in another axis order (channels last): a permutation of "
                          "the right output",
    "mul_backward_swapped": "MulLayer.backward gives an input's gradient as dout times that same input, not the "
                            "other one",
    "svm_correct_class": "the SVM gradient's correct-class column is wrong: dW[:, y_i] gets -X_i once per positive "
                         "margin (never moved, or once too often)",
    "unclassified": "a mismatch no hypothesis explains",
    # normalisation and dropout (the layer table's mutants, reference/mutants_norm.py)
    "bn_no_mean_path": "batchnorm backward ignores the gradient through the batch mean",
    "bn_no_var_path": "batchnorm backward treats the batch variance as a constant",
    "running_stats_frozen": "the running mean / variance are never updated",
    "running_stats_momentum": "the running statistics weigh momentum and the batch the wrong way round",
    "test_uses_batch_stats": "test mode normalises with the batch's own statistics",
    "norm_wrong_axes": "normalised over the wrong axes",
    "dropout_unscaled": "inverted dropout without the 1/p at train time",
    "dropout_test_scale": "dropout rescales at test time too",
    "dropout_backward_mask": "dropout backward uses a different mask than the forward pass",
    "dropout_p_flipped": "dropout keeps units with probability 1 - p",
    "dropout_keep_rate_wrong": "dropout keeps units at a rate that is neither p nor 1 - p (e.g. every unit)",
    "reg_cost_scale": "the L2 term of the cost is scaled wrong (lambda / m for lambda / (2 m))",
}

# Ordering of one Case's diagnoses: faults, specific patterns (1), structure, generic, unexplained.


@dataclass
class Diagnosis:
    """One hypothesis that fits: a bug class, a sentence for a person, and the numbers behind it."""

    bug_class: str
    message: str
    tensors: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict)

    def __str__(self) -> str:
        where = f" [{', '.join(self.tensors)}]" if self.tensors else ""
        return f"{self.bug_class}{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"bug_class": self.bug_class, "message": self.message, "tensors": list(self.tensors),
                "evidence": {k: _plain(v) for k, v in self.evidence.items()}}


@dataclass(frozen=True)
class Convention:
    """A consistent convention that differs from the Spec's but is not a bug.

    ``grad_factor`` / ``loss_factor``: observed = factor * oracle on every gradient / the loss
    (reg_factor: on the regularisation term only). ``spec_changes``: the Spec fields that express
    the convention when the Spec can (e.g. ``{"reduction": "sum"}``), so a judge can re-run the
    oracle under it; empty when it cannot and the factors must be applied instead.
    """

    name: str
    description: str
    grad_factor: float = 1.0
    loss_factor: float = 1.0
    reg_factor: float = 1.0
    spec_changes: tuple[tuple[str, object], ...] = ()


def _plain(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, tuple):
        return list(v)
    return v


# ---- matching: every "equal?" goes through compare_tensor ----------------------------------


def _close(actual, expected, dtype: str, err_est: float | None = None) -> bool:
    """Does actual equal expected up to what an independent implementation in dtype may differ by?

    err_est: the rounding already in the operands (e.g. a step recovered as p - p_new)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape or not np.all(np.isfinite(a)):
        return False
    return compare_tensor("hypothesis", a, e, dtype=dtype, oracle="impl", err_est=err_est).passed


def _fit(a: np.ndarray, e: np.ndarray) -> float | None:
    """Least-squares c in a ~ c e (None when e is zero)."""
    ee = float(np.vdot(e, e))
    return float(np.vdot(a, e)) / ee if ee > 0 else None


def _named_factors(m: int) -> list[tuple[float, str, str]]:
    """(factor, how to say it, bug class), most telling first; m-factors only when m > 1."""
    out = [(-1.0, "-1 (sign flipped)", "sign_flip")]
    if m > 1:
        out += [(float(m), f"m = {m} (the 1/m of the mean is missing)", "missing_mean"),
                (1.0 / m, f"1/m = 1/{m} (averaged twice)", "double_mean")]
    out += [(2.0, "2 (cost without the 1/2)", "factor_2"), (0.5, "1/2", "factor_half")]
    if m > 1:
        out += [(-float(m), f"-m = -{m}", "sign_flip"), (2.0 * m, f"2m = {2 * m}", "constant_factor"),
                (2.0 / m, f"2/m = 2/{m}", "constant_factor")]
    return out


def _key(name: str) -> str | None:
    """grads['W2'] -> 'W2', updated['b1'] -> 'b1', W2 -> W2."""
    if "[" in name:
        return name.rsplit("[", 1)[-1].strip("]'\"")
    return name


def _layer_of(name: str) -> int | None:
    k = _key(name) or ""
    return int(k[1:]) if len(k) > 1 and k[0] in "WbA" and k[1:].isdigit() else None


def _as64(a):
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        return np.full(1, np.nan)
