"""Recomputation: the gradients a plausible wrong backprop would give, compared with what was observed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis, _as64, _close
from oracles.observation import Observation
from reference import functions as F

# ---- recomputation: what a plausible wrong backprop would give ------------------------------


def recompute_grads(
    case: Case,
    *,
    hidden_dz: Callable[[int, np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    output_delta: str = "right",
    weight_input: Sequence[int] = (),
    grad_as_weight: Sequence[int] = (),
    output_act: str | None = None,
) -> dict[str, np.ndarray]:
    """Canonical float64 gradients of the Case, optionally with one planted deviation.

    hidden_dz(l, z, a, dA) -> dZ replaces dA * sigma_l'(z) in hidden layer l. output_delta:
    "right", "no_derivative" (quadratic delta a - y without sigma_L'(z)), "at_activation"
    (sigma_L'(a)). weight_input: layers whose dW uses X in place of A_{l-1}. grad_as_weight: layers
    whose backward step uses their own gradient dW_l in place of W_l (dW2.T @ dZ2 for W2.T @ dZ2).
    output_act: an activation applied to a linear output layer's scores before the loss (the model differs).
    """
    spec = case.spec
    L = spec.n_layers
    P = {k: case.typed(v).astype(np.float64) for k, v in case.params.items()}
    x = case.typed(case.x).astype(np.float64)
    y = case.y if spec.target == "labels" else case.typed(case.y).astype(np.float64)
    A, Z = [x], [None]
    for l in range(1, L + 1):
        z = A[-1] @ P[f"W{l}"].T + P[f"b{l}"]
        Z.append(z)
        A.append(F.activation(spec.activations[l - 1])(z))
    zL, aL = Z[L], A[L]
    prime_L = F.derivative(spec.activations[-1])
    if output_act is not None:
        s = F.activation(output_act)(zL)
        if spec.loss == "quadratic":
            delta = (s - (case.onehot if spec.target == "labels" else y)) * F.derivative(output_act)(zL)
        elif spec.loss == "softmax_cross_entropy":
            delta = F.softmax_cross_entropy_delta(s, y) * F.derivative(output_act)(zL)
        elif spec.loss == "hinge":
            delta = F.hinge_delta(s, y) * F.derivative(output_act)(zL)
        else:
            raise ValueError(f"no output-activation hypothesis for loss {spec.loss!r}")
    elif spec.loss == "quadratic":
        yd = case.onehot if spec.target == "labels" else y
        if output_delta == "no_derivative":
            delta = aL - yd
        elif output_delta == "at_activation":
            delta = (aL - yd) * prime_L(aL)
        else:
            delta = (aL - yd) * prime_L(zL)
    elif spec.loss == "binary_cross_entropy":
        delta = aL - (case.onehot if spec.target == "labels" else y)
    elif spec.loss == "softmax_cross_entropy":
        delta = F.softmax_cross_entropy_delta(zL, y)
    else:
        delta = F.hinge_delta(zL, y)
    if spec.reduction == "mean":
        delta = delta / case.m
    grads: dict[str, np.ndarray] = {}
    for l in range(L, 0, -1):
        inp = x if l in weight_input else A[l - 1]
        grads[f"W{l}"] = delta.T @ inp + spec.reg * P[f"W{l}"]
        grads[f"b{l}"] = delta.sum(axis=0)
        dA = delta @ (grads[f"W{l}"] if l in grad_as_weight else P[f"W{l}"])
        if l == 1:
            grads["x"] = dA
        else:
            grads[f"A{l - 1}"] = dA
            if hidden_dz is None:
                delta = dA * F.derivative(spec.activations[l - 2])(Z[l - 1])
            else:
                delta = hidden_dz(l - 1, Z[l - 1], A[l - 1], dA)
    return grads


def _variants(case: Case):
    """(bug class, description, kwargs for recompute_grads) for every recomputation hypothesis."""
    spec = case.spec
    acts = spec.activations
    hidden = acts[:-1]
    prime = F.derivative

    def at_a(l, z, a, dA):
        return dA * prime(acts[l - 1])(a)

    out = []
    smooth = {"sigmoid", "tanh", "softplus"}
    if set(hidden) & smooth:
        out.append(("derivative_at_activation", "hidden layers use sigma'(a) instead of sigma'(z)",
                    {"hidden_dz": at_a}))
    smooth_hidden = [l for l in range(1, len(hidden) + 1) if hidden[l - 1] in smooth]
    if len(smooth_hidden) > 1:
        for k in smooth_hidden:
            out.append(("derivative_at_activation", f"hidden layer {k} uses sigma'(a) instead of sigma'(z)",
                        {"hidden_dz": lambda l, z, a, dA, k=k: dA * prime(acts[l - 1])(a if l == k else z)}))
    if spec.loss == "quadratic" and acts[-1] in smooth:
        out.append(("derivative_at_activation", "the output delta uses sigma'(a) instead of sigma'(z)",
                    {"output_delta": "at_activation"}))
        if set(hidden) & smooth:
            out.append(("derivative_at_activation", "every layer uses sigma'(a) instead of sigma'(z)",
                        {"hidden_dz": at_a, "output_delta": "at_activation"}))
    if spec.loss == "quadratic" and acts[-1] != "identity":
        out.append(("output_missing_derivative", f"output delta = a - y without {acts[-1]}'(z_L)",
                    {"output_delta": "no_derivative"}))
    if hidden:
        for alt in F.ACTIVATIONS:
            if alt in hidden:
                continue
            out.append(("wrong_derivative", f"hidden layers use {alt}' instead of their own derivative",
                        {"hidden_dz": lambda l, z, a, dA, alt=alt: dA * prime(alt)(z)}))
        if "relu" in hidden or "leaky_relu" in hidden:
            out.append(("wrong_derivative", "the ReLU mask is taken from the upstream gradient (dout > 0), not z",
                        {"hidden_dz": lambda l, z, a, dA: dA * (dA > 0) if acts[l - 1] in ("relu", "leaky_relu")
                         else dA * prime(acts[l - 1])(z)}))
            out.append(("kink_convention", "the ReLU mask is z >= 0 (relu'(0) = 1; torch uses 0)",
                        {"hidden_dz": lambda l, z, a, dA: dA * np.where(z >= 0, 1.0, 0.0 if acts[l - 1] == "relu"
                                                                        else F.LEAKY_SLOPE)
                         if acts[l - 1] in ("relu", "leaky_relu") else dA * prime(acts[l - 1])(z)}))
    if set(hidden) - {"relu", "identity"}:
        out.append(("derivative_twice", "the hidden layers multiply by the activation derivative twice",
                    {"hidden_dz": lambda l, z, a, dA: dA * prime(acts[l - 1])(z) ** 2}))
    if acts[-1] == "identity" and spec.loss in ("quadratic", "softmax_cross_entropy", "hinge"):
        for f in ("sigmoid", "relu", "tanh"):
            out.append(("output_activation", f"{f} applied to the output scores before the loss: the spec's "
                        f"output layer is linear (the model differs; remove the {f} after the last affine layer)",
                        {"output_act": f}))
    L = spec.n_layers
    for l in range(2, L + 1):
        out.append(("grad_for_param", f"the step back through layer {l} uses dW{l} in place of W{l} "
                    f"(dW{l}.T @ dZ{l} for W{l}.T @ dZ{l})", {"grad_as_weight": (l,)}))
    for l in range(2, L + 1):
        if spec.sizes[l - 1] == spec.sizes[0]:
            out.append(("a_prev_is_x", f"dW{l} uses X in place of A_{l - 1}", {"weight_input": (l,)}))
    same = tuple(l for l in range(2, L + 1) if spec.sizes[l - 1] == spec.sizes[0])
    if len(same) > 1:
        out.append(("a_prev_is_x", "every dW uses X in place of A_{l-1}", {"weight_input": same}))
    return out


def _recompute_match(case: Case, observed: Observation, expected: Observation, failing: list[str]):
    """The first recomputation hypothesis that reproduces every observed gradient, failing ones included."""
    keys = [k for k in observed.grads if k in expected.grads]
    if not failing:
        return None
    for cls, what, kwargs in _variants(case):
        try:
            alt = recompute_grads(case, **kwargs)
        except (ValueError, FloatingPointError):
            continue
        # the variant must differ from the oracle where the observation does, and agree everywhere
        if not all(k in alt for k in keys):
            continue
        if all(_close(_as64(observed.grads[k]), alt[k], case.spec.dtype) for k in keys):
            if any(not _close(alt[k], expected.grads[k], case.spec.dtype) for k in failing):
                return Diagnosis(cls, f"recomputed with this bug, the gradients equal yours: {what}", tuple(failing),
                                 {"hypothesis": what})
    return None


def _skipped_activation_match(case: Case, observed: Observation, expected: Observation, failing: list[str]):
    """A model's own backward that steps over an activation layer, while the hidden dA are right.

    MyTorch's MLPk.backward chains the file's layers; the driver reads every hidden dA from a pass it chains
    itself and dW, db, dx from the model's backward. A loop that starts below the output ReLU
    (``reversed(self.layers[:-1])``) leaves every layer right and the model wrong: the dA right, the parameter
    gradients wrong, which no hypothesis recomputing every tensor fits. For each activation k (from the
    output down), dW, db and dx are recomputed with that activation's derivative taken as 1 (its backward
    skipped) and compared with the observed ones; every hidden dA must be observed and right."""
    spec = case.spec
    L, acts = spec.n_layers, spec.activations
    hidden = [f"A{l}" for l in range(1, L)]
    bad = set(failing)
    if not hidden or not all(k in observed.grads and k in expected.grads and k not in bad for k in hidden):
        return None
    keys = [k for k in observed.grads if k in expected.grads and not k.startswith("A")]
    judged = [k for k in keys if k in bad]
    if not judged:
        return None
    prime = F.derivative
    for k in range(L, 0, -1):
        if acts[k - 1] == "identity" or (k == L and spec.loss != "quadratic"):
            continue  # nothing to skip; a softmax / sigmoid output's delta has no separate derivative step
        kwargs: dict = {"output_delta": "no_derivative"} if k == L else {
            "hidden_dz": lambda l, z, a, dA, k=k: dA if l == k else dA * prime(acts[l - 1])(z)}
        try:
            alt = recompute_grads(case, **kwargs)
        except (ValueError, FloatingPointError):
            continue
        if not all(key in alt for key in keys) or all(_close(alt[key], expected.grads[key], spec.dtype)
                                                      for key in judged):
            continue  # this Case cannot tell the skipped layer from the right chain
        if all(_close(_as64(observed.grads[key]), alt[key], spec.dtype) for key in keys):
            which = "the output activation" if k == L else f"activation {k}"
            # below a skipped activation k > 1 a single backward pass would get dA_{k-1} wrong too: right, it was
            # read by another pass, so the layers are right and the model's chaining is not
            why = (", so each layer's backward is right and the model's chaining is not (a loop that starts one "
                   "layer too low, e.g. reversed(self.layers[:-1]), or steps over a layer)") if k > 1 else ""
            return Diagnosis(
                "activation_backward_skipped",
                f"the backward skips {which} ({acts[k - 1]} after layer {k}): recomputed with its derivative taken "
                f"as 1, {', '.join('d' + key for key in judged)} equal yours, while every hidden dA is right{why}",
                tuple(judged), {"skipped_layer": k})
    return None
