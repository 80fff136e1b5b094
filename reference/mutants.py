"""The mutation zoo: our reference implementations, each broken on purpose by ONE realistic bug.

Every mutant is a copy of a reference module (``_clone``: the same functions and classes, with
their globals pointing at the copy) with one function, method or class replaced by a version
that carries the bug. The bug line is marked ``# BUG:``. ``bug_class`` is the key from
``oracles.diagnose.BUG_CLASSES`` the diagnosis should name. ``impl`` is the module copy: the
style drivers run it exactly as they run a student file (``oracles.styles.run(style, impl,
case, entry)``).

The bugs come from the seed documents (shared/seeds/README.md) and from the classics every
course sees. Some show only on some inputs (batch > 1, label targets, large logits, exact zeros,
equal layer widths): the kill run draws such Cases on purpose.

This module imports numpy and reference only (the sandbox child may import it).
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np

from reference import cs231n, dlai, dlai_two_layer, layer_net, layers, matrix, nielsen
from reference import functions as F

__all__ = ["Mutant", "MUTANTS", "clone_module"]


@dataclass(frozen=True)
class Mutant:
    name: str
    bug_class: str
    style: str
    entry: str | None  # the driver entry point to run (None: the style's first)
    description: str
    impl: object
    source: str = ""  # the reference module it was copied from
    needs: tuple[str, ...] = ()  # inputs that make it show: labels, batch, large, zeros, square, reg

    @property
    def reference(self):
        """The unmutated implementation it was copied from (the control of a kill run)."""
        return reference_impl(self.source)


# ---- cloning a module: the same code with its globals redirected to the copy --------------


def _rebind(f: types.FunctionType, g: dict, table: dict) -> types.FunctionType:
    new = types.FunctionType(f.__code__, g, f.__name__, _remap(f.__defaults__, table), f.__closure__)
    new.__kwdefaults__ = _remap(f.__kwdefaults__, table)
    new.__qualname__, new.__doc__, new.__module__ = f.__qualname__, f.__doc__, g["__name__"]
    new.__dict__.update(f.__dict__)
    return new


def _remap(obj, table: dict):
    """obj with every object found in table (by identity) replaced, through dicts, lists, tuples."""
    if obj is None:
        return None
    if id(obj) in table:
        return table[id(obj)]
    if isinstance(obj, dict):
        return {k: _remap(v, table) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_remap(v, table) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_remap(v, table) for v in obj)
    return obj


def _with_class_cell(f, new_cls):
    """Point a method's zero-argument super() cell (__class__) at the copied class."""
    if not isinstance(f, types.FunctionType) or "__class__" not in f.__code__.co_freevars:
        return f
    cells = tuple(
        types.CellType(new_cls) if name == "__class__" else cell
        for name, cell in zip(f.__code__.co_freevars, f.__closure__)
    )
    new = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__, cells)
    new.__kwdefaults__, new.__qualname__, new.__doc__ = f.__kwdefaults__, f.__qualname__, f.__doc__
    return new


def clone_module(module: types.ModuleType, overrides: dict | None = None, table: dict | None = None):
    """A copy of module with ``overrides`` (name -> object) in place of its own definitions.

    Functions and classes defined in the module are copied with their globals pointing at the
    copy, so a replaced helper is what every other function of the copy calls; tables (dicts,
    tuples) and default arguments that held an old object hold its replacement. ``table`` maps
    id(old object) -> new object for replacements made in other copied modules.
    """
    overrides = dict(overrides or {})
    table = dict(table or {})
    new = types.ModuleType(module.__name__ + "__mutant")
    g = new.__dict__
    g.update({k: v for k, v in vars(module).items() if k not in ("__name__", "__spec__", "__loader__")})
    g["__name__"] = new.__name__
    for k, v in overrides.items():
        old = vars(module).get(k)
        if old is not None:
            table[id(old)] = v
    g.update(overrides)
    home = module.__name__
    for k, v in list(vars(module).items()):
        if k in overrides:
            continue
        if isinstance(v, types.FunctionType) and v.__module__ == home:
            table[id(v)] = g[k] = _rebind(v, g, table)
        elif isinstance(v, type) and v.__module__ == home:
            table[id(v)] = g[k] = _clone_class(v, g, table)
    for k, v in list(g.items()):
        if k.startswith("__"):
            continue
        if id(v) in table:  # a name imported from a copied module (layer_net's Affine)
            g[k] = table[id(v)]
        elif isinstance(v, (dict, list, tuple)):
            g[k] = _remap(v, table)
    # defaults bound before a later replacement existed (Network(cost=QuadraticCost))
    for v in list(g.values()):
        if isinstance(v, types.FunctionType) and v.__module__ == new.__name__:
            v.__defaults__ = _remap(v.__defaults__, table)
        elif isinstance(v, type) and v.__module__ == new.__name__:
            for f in vars(v).values():
                if isinstance(f, types.FunctionType):
                    f.__defaults__ = _remap(f.__defaults__, table)
    return new


def _clone_class(cls: type, g: dict, table: dict) -> type:
    body = {}
    for k, v in vars(cls).items():
        if k in ("__dict__", "__weakref__"):
            continue
        if isinstance(v, types.FunctionType):
            body[k] = _rebind(v, g, table)
        elif isinstance(v, staticmethod):
            body[k] = staticmethod(_rebind(v.__func__, g, table))
        elif isinstance(v, classmethod):
            body[k] = classmethod(_rebind(v.__func__, g, table))
        else:
            body[k] = v
    bases = tuple(_remap(b, table) for b in cls.__bases__)
    new_cls = type(cls.__name__, bases, body)
    new_cls.__module__ = g["__name__"]
    new_cls.__qualname__ = cls.__qualname__
    for k, v in list(vars(new_cls).items()):
        fixed = _with_class_cell(v, new_cls)
        if fixed is not v:
            setattr(new_cls, k, fixed)
    return new_cls


MUTANTS: dict[str, Mutant] = {}
# source label -> reference module, for the mutant modules of later assignments (mutants_norm, ...)
SOURCES: dict[str, object] = {}


def reference_impl(source: str):
    """The reference implementation behind a mutant's ``source`` label."""
    if source == _S:
        ns = types.ModuleType("saito")
        names = {**{k: getattr(layers, k) for k in layers.__all__},
                 **{k: getattr(layer_net, k) for k in layer_net.__all__}}
        ns.__dict__.update(names)
        ns.__all__ = list(names)
        return ns
    modules = {_N: nielsen, _M: matrix, _D: dlai, _D2: dlai_two_layer, _C: cs231n, **SOURCES}
    if source not in modules:
        raise ValueError(f"unknown mutant source {source!r}; known: {sorted([*modules, _S])}")
    return modules[source]


_N = "reference/nielsen.py"
_M = "reference/matrix.py"
_D = "reference/dlai.py"
_D2 = "reference/dlai_two_layer.py"
_S = "reference/layers.py + layer_net.py"
_C = "reference/cs231n.py"


def _add(name, bug_class, style, entry, description, impl, source, needs=()):
    if name in MUTANTS:
        raise ValueError(f"duplicate mutant name {name!r}")
    MUTANTS[name] = Mutant(name, bug_class, style, entry, description, impl, source, tuple(needs))


# ==== Nielsen, one sample at a time (reference/nielsen.py) ==================================


class _NielsenSigmaPrimeOfA(nielsen.Network):
    def backprop(self, x, y):
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        activation, activations, zs = x, [x], []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = w @ activation + b
            zs.append(z)
            activation = self._act(l)(z)
            activations.append(activation)
        delta = self.cost.delta(zs[-1], activations[-1], y, self._act_prime(-1))
        nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(activations[-l])  # BUG: sigma'(a)
            nabla_b[-l], nabla_w[-l] = delta, delta @ activations[-l - 1].T
        return nabla_b, nabla_w


class _NielsenWrongLayerWeights(nielsen.Network):
    def backprop(self, x, y):
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        activation, activations, zs = x, [x], []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = w @ activation + b
            zs.append(z)
            activation = self._act(l)(z)
            activations.append(activation)
        delta = self.cost.delta(zs[-1], activations[-1], y, self._act_prime(-1))
        nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T
        for l in range(2, self.num_layers):
            delta = (self.weights[-l].T @ delta) * self._act_prime(-l)(zs[-l])  # BUG: W^l, not W^{l+1}
            nabla_b[-l], nabla_w[-l] = delta, delta @ activations[-l - 1].T
        return nabla_b, nabla_w


class _NielsenOffByOne(nielsen.Network):
    def backprop(self, x, y):
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        activation, activations, zs = x, [x], []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = w @ activation + b
            zs.append(z)
            activation = self._act(l)(z)
            activations.append(activation)
        delta = self.cost.delta(zs[-1], activations[-1], y, self._act_prime(-1))
        nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T
        for l in range(2, self.num_layers - 1):  # BUG: stops one layer early; the first layer keeps zeros
            delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(zs[-l])
            nabla_b[-l], nabla_w[-l] = delta, delta @ activations[-l - 1].T
        return nabla_b, nabla_w


class _NielsenTransposedDW(nielsen.Network):
    def backprop(self, x, y):
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        activation, activations, zs = x, [x], []
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = w @ activation + b
            zs.append(z)
            activation = self._act(l)(z)
            activations.append(activation)
        delta = self.cost.delta(zs[-1], activations[-1], y, self._act_prime(-1))
        nabla_b[-1], nabla_w[-1] = delta, activations[-2] @ delta.T  # BUG: a delta^T, not delta a^T
        for l in range(2, self.num_layers):
            delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(zs[-l])
            nabla_b[-l], nabla_w[-l] = delta, delta @ activations[-l - 1].T
        return nabla_b, nabla_w


class _QuadraticNoDerivative(nielsen.QuadraticCost):
    @staticmethod
    def delta(z, a, y, act_prime):
        return a - y  # BUG: the output activation's derivative is missing (right only for identity)


class _QuadraticNoHalf(nielsen.QuadraticCost):
    """Seed 003: C = ||a - y||^2 with derivative 2 (a - y): consistent, but not the 1/2 convention."""

    @staticmethod
    def fn(a, y, z=None):
        return float(np.sum((a - y) ** 2))

    @staticmethod
    def delta(z, a, y, act_prime):
        return 2 * (a - y) * act_prime(z)  # BUG (convention): factor 2 of an (a - y)^2 cost


class _NielsenUpdateByEta(nielsen.Network):
    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=1):
        nabla_b = [np.zeros_like(b) for b in self.biases]
        nabla_w = [np.zeros_like(w) for w in self.weights]
        for x, y in mini_batch:
            dnb, dnw = self.backprop(x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
        self.weights = [(1 - eta * lmbda / n) * w - eta * nw for w, nw in zip(self.weights, nabla_w)]  # BUG: eta
        self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b)]  # BUG: eta, not eta / m
        # (the summed gradients need eta / len(mini_batch))


class _NielsenBiasNotUpdated(nielsen.Network):
    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=1):
        nabla_w = [np.zeros_like(w) for w in self.weights]
        for x, y in mini_batch:
            _, dnw = self.backprop(x, y)
            nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
        m = len(mini_batch)
        self.weights = [(1 - eta * lmbda / n) * w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]
        # BUG: self.biases is never updated


_add("nielsen_sigma_prime_of_a", "derivative_at_activation", "nielsen", "Network",
     "hidden deltas multiply by sigma'(a) instead of sigma'(z)",
     clone_module(nielsen, {"Network": _NielsenSigmaPrimeOfA}), _N)
_add("nielsen_wrong_layer_weights", "layer_break", "nielsen", "Network",
     "seed 001: the backward recursion uses the current layer's W instead of the next layer's",
     clone_module(nielsen, {"Network": _NielsenWrongLayerWeights}), _N, ("square",))
_add("nielsen_off_by_one_layer", "zero_grad", "nielsen", "Network",
     "the backward loop stops one layer early: the first layer's gradient stays zero",
     clone_module(nielsen, {"Network": _NielsenOffByOne}), _N)
_add("nielsen_transposed_dw", "transpose", "nielsen", "Network",
     "output weight gradient a^{L-1} delta^T (transposed)",
     clone_module(nielsen, {"Network": _NielsenTransposedDW}), _N)
_add("nielsen_output_delta_no_derivative", "output_missing_derivative", "nielsen", "Network",
     "quadratic output delta a - y without sigma'(z_L)",
     clone_module(nielsen, {"QuadraticCost": _QuadraticNoDerivative}), _N)
_add("nielsen_factor_2_cost", "factor_2", "nielsen", "Network",
     "seed 003: cost ||a - y||^2 and derivative 2 (a - y) (no 1/2)",
     clone_module(nielsen, {"QuadraticCost": _QuadraticNoHalf}), _N)
_add("nielsen_update_eta_not_eta_over_m", "update_only", "nielsen", "Network",
     "update_mini_batch steps by eta times the SUMMED gradients (eta / m needed)",
     clone_module(nielsen, {"Network": _NielsenUpdateByEta}), _N, ("batch",))
_add("nielsen_bias_never_updated", "update_only", "nielsen", "Network",
     "update_mini_batch forgets the biases",
     clone_module(nielsen, {"Network": _NielsenBiasNotUpdated}), _N)


# ==== the full-matrix network (reference/matrix.py, seed 004) ===============================


def _matrix_forward(self, X):
    A, As, Zs = X, [X], []
    for l, (b, w) in enumerate(zip(self.biases, self.weights)):
        Z = w @ A + b
        Zs.append(Z)
        A = self._act(l)(Z)
        As.append(A)
    return As, Zs


class _MatrixMissingMean(matrix.Network):
    def backprop(self, X, Y):
        As, Zs = _matrix_forward(self, X)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = self.cost.delta(Zs[-1], As[-1], Y, self._act_prime(-1))
        for l in range(1, self.num_layers):
            if l > 1:
                delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(Zs[-l])
            nabla_b[-l] = np.sum(delta, axis=1, keepdims=True)  # BUG: sum, no 1/m
            nabla_w[-l] = delta @ As[-l - 1].T  # BUG: no / m
        return nabla_b, nabla_w


class _MatrixDoubleMean(matrix.Network):
    def backprop(self, X, Y):
        m = X.shape[1]
        As, Zs = _matrix_forward(self, X)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = self.cost.delta(Zs[-1], As[-1], Y, self._act_prime(-1)) / m  # BUG: averaged here ...
        for l in range(1, self.num_layers):
            if l > 1:
                delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(Zs[-l])
            nabla_b[-l] = np.mean(delta, axis=1, keepdims=True)  # ... and again here
            nabla_w[-l] = delta @ As[-l - 1].T / m
        return nabla_b, nabla_w


class _MatrixBiasNotSummed(matrix.Network):
    def backprop(self, X, Y):
        m = X.shape[1]
        As, Zs = _matrix_forward(self, X)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = self.cost.delta(Zs[-1], As[-1], Y, self._act_prime(-1))
        for l in range(1, self.num_layers):
            if l > 1:
                delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(Zs[-l])
            nabla_b[-l] = delta / m  # BUG: (n, m): never summed over the batch; b grows by broadcasting
            nabla_w[-l] = delta @ As[-l - 1].T / m
        return nabla_b, nabla_w


class _MatrixNoKeepdims(matrix.Network):
    def backprop(self, X, Y):
        m = X.shape[1]
        As, Zs = _matrix_forward(self, X)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = self.cost.delta(Zs[-1], As[-1], Y, self._act_prime(-1))
        for l in range(1, self.num_layers):
            if l > 1:
                delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(Zs[-l])
            nabla_b[-l] = np.mean(delta, axis=1)  # BUG: keepdims missing: (n,) against b (n, 1)
            nabla_w[-l] = delta @ As[-l - 1].T / m
        return nabla_b, nabla_w


class _MatrixHiddenSigmoidPrime(matrix.Network):
    def backprop(self, X, Y):
        m = X.shape[1]
        As, Zs = _matrix_forward(self, X)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = self.cost.delta(Zs[-1], As[-1], Y, self._act_prime(-1))
        for l in range(1, self.num_layers):
            if l > 1:
                delta = (self.weights[-l + 1].T @ delta) * F.sigmoid_prime(Zs[-l])  # BUG: sigmoid' for every layer
            nabla_b[-l] = np.mean(delta, axis=1, keepdims=True)
            nabla_w[-l] = delta @ As[-l - 1].T / m
        return nabla_b, nabla_w


class _MatrixXForAPrev(matrix.Network):
    def backprop(self, X, Y):
        m = X.shape[1]
        As, Zs = _matrix_forward(self, X)
        nabla_b, nabla_w = [None] * len(self.biases), [None] * len(self.weights)
        delta = self.cost.delta(Zs[-1], As[-1], Y, self._act_prime(-1))
        for l in range(1, self.num_layers):
            if l > 1:
                delta = (self.weights[-l + 1].T @ delta) * self._act_prime(-l)(Zs[-l])
            nabla_b[-l] = np.mean(delta, axis=1, keepdims=True)
            nabla_w[-l] = delta @ X.T / m  # BUG (seed 001): dW[l] = dZ[l] X^T instead of dZ[l] A[l-1]^T
        return nabla_b, nabla_w


class _MatrixUpdateEtaOverM(matrix.Network):
    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=1):
        X = np.hstack([x for x, _ in mini_batch])
        Y = np.hstack([y for _, y in mini_batch])
        nabla_b, nabla_w = self.backprop(X, Y)
        m = len(mini_batch)
        # BUG (seed 004): the gradients are already means; eta / m divides by m a second time
        self.weights = [(1 - eta * lmbda / n) * w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / m) * nb for b, nb in zip(self.biases, nabla_b)]


_B = "Network[batch]"
_add("matrix_missing_mean", "missing_mean", "nielsen", _B, "full-matrix gradients summed, the 1/m missing",
     clone_module(matrix, {"Network": _MatrixMissingMean}), _M, ("batch",))
_add("matrix_averaged_twice", "double_mean", "nielsen", _B, "delta divided by m, then dW and db averaged again",
     clone_module(matrix, {"Network": _MatrixDoubleMean}), _M, ("batch",))
_add("matrix_bias_not_summed", "extra_batch_axis", "nielsen", _B,
     "bias gradient delta / m of shape (n, m): not summed over the batch",
     clone_module(matrix, {"Network": _MatrixBiasNotSummed}), _M, ("batch",))
_add("matrix_keepdims_missing", "missing_keepdims", "nielsen", _B,
     "np.mean(delta, axis=1) without keepdims: the update broadcasts b (n, 1) - (n,) into (n, n)",
     clone_module(matrix, {"Network": _MatrixNoKeepdims}), _M)
_add("matrix_hidden_sigmoid_prime", "wrong_derivative", "nielsen", _B,
     "hidden layers use sigmoid' whatever their activation",
     clone_module(matrix, {"Network": _MatrixHiddenSigmoidPrime}), _M)
_add("matrix_x_for_a_prev", "a_prev_is_x", "nielsen", _B, "seed 001: dW[l] = dZ[l] X^T / m for every layer",
     clone_module(matrix, {"Network": _MatrixXForAPrev}), _M, ("square",))
_add("matrix_update_eta_over_m", "update_only", "nielsen", _B,
     "seed 004: mean gradients stepped by eta / m (the conventions mixed)",
     clone_module(matrix, {"Network": _MatrixUpdateEtaOverM}), _M, ("batch",))


# ==== deeplearning.ai, L layers (reference/dlai.py) =========================================


def _dlai_linear_forward_w_at_b(A, W, b):
    Z = np.dot(W, b)  # BUG (seed 001): W @ b instead of W @ A_prev + b
    return Z, (A, W, b)


def _dlai_compute_cost_not_averaged(AL, Y, ZL=None):
    Y = Y.reshape(AL.shape)
    z = ZL if ZL is not None else np.log(AL) - np.log1p(-AL)
    return np.squeeze(np.sum(F.binary_cross_entropy_from_logits(z, Y)))  # BUG (seed 001): no / m


def _dlai_linear_backward_no_keepdims(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1) / m  # BUG: keepdims missing: (n,) against b (n, 1)
    return W.T @ dZ, dW, db


def _dlai_relu_backward_lt(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache < 0] = 0  # BUG: mask z < 0 keeps the gradient at z == 0 (relu'(0) = 1)
    return dZ


def _dlai_relu_backward_in_place(dA, cache):
    dZ = dA  # BUG: no copy: zeroing dZ writes into the caller's dA
    dZ[cache <= 0] = 0
    return dZ


def _dlai_L_model_backward_overwrites_al(AL, Y, caches, activations=None):
    grads = {}
    L = len(caches)
    activations = dlai._layer_activations(L, activations)
    Y = Y.reshape(AL.shape)
    dZL = AL
    dZL -= Y  # BUG: dZL is AL itself: the caller's AL (the predictions) now holds AL - Y
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = dlai.linear_backward(dZL, caches[-1][0])
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = dlai.linear_activation_backward(grads["dA" + str(l + 1)], caches[l], activations[l])
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = dA_prev, dW, db
    return grads


def _dlai_L_model_backward_sign(AL, Y, caches, activations=None):
    grads = {}
    L = len(caches)
    activations = dlai._layer_activations(L, activations)
    Y = Y.reshape(AL.shape)
    dZL = Y - AL  # BUG: sign flipped (dL/dZ = AL - Y)
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = dlai.linear_backward(dZL, caches[-1][0])
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = dlai.linear_activation_backward(grads["dA" + str(l + 1)], caches[l], activations[l])
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = dA_prev, dW, db
    return grads


_add("dlai_w_at_b_forward", "forward_pass", "dlai", None, "seed 001: Z = np.dot(W, b) in the forward pass",
     clone_module(dlai, {"linear_forward": _dlai_linear_forward_w_at_b}), _D, ("square",))
_add("dlai_cost_not_averaged", "loss_grad_mismatch", "dlai", None,
     "seed 001: the cost is summed, not divided by m, while the gradients are",
     clone_module(dlai, {"compute_cost": _dlai_compute_cost_not_averaged}), _D, ("batch",))
_add("dlai_keepdims_missing", "missing_keepdims", "dlai", None, "db = np.sum(dZ, axis=1) / m without keepdims",
     clone_module(dlai, {"linear_backward": _dlai_linear_backward_no_keepdims}), _D)
_add("dlai_relu_mask_lt", "kink_convention", "dlai", None, "relu_backward masks z < 0: relu'(0) = 1",
     clone_module(dlai, {"relu_backward": _dlai_relu_backward_lt}), _D, ("zeros",))
_add("dlai_relu_backward_in_place", "mutation", "dlai", None, "relu_backward zeroes dA in place (no copy)",
     clone_module(dlai, {"relu_backward": _dlai_relu_backward_in_place}), _D)
_add("dlai_backward_overwrites_al", "mutation", "dlai", None, "L_model_backward computes dZL = AL - Y inside AL",
     clone_module(dlai, {"L_model_backward": _dlai_L_model_backward_overwrites_al}), _D)
_add("dlai_sign_flip", "sign_flip", "dlai", None, "dZL = Y - AL: every gradient has the wrong sign",
     clone_module(dlai, {"L_model_backward": _dlai_L_model_backward_sign}), _D)


# ==== deeplearning.ai, one hidden layer (reference/dlai_two_layer.py) =======================


def _dlai2_backward(bug):
    def backward_propagation(parameters, cache, X, Y):
        m = X.shape[1]
        W1, W2 = parameters["W1"], parameters["W2"]
        A1, A2 = cache["A1"], cache["A2"]
        Y = Y.reshape(A2.shape)
        dZ2 = A2 - Y
        dW2 = dZ2 @ (X if bug == "x_for_a1" else A1).T / m  # BUG x_for_a1 (seed 001): X instead of A1
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        if bug == "wrong_weights":
            dZ1 = (W1.T @ dZ2) * (1 - A1**2)  # BUG wrong_weights (seed 001): W1 instead of W2
        elif bug == "tanh_prime_of_a":
            dZ1 = (W2.T @ dZ2) * (1 - np.tanh(A1) ** 2)  # BUG tanh_prime_of_a: tanh'(A1), not tanh'(Z1)
        else:
            dZ1 = (W2.T @ dZ2) * (1 - A1**2)
        dW1 = dZ1 @ X.T / m
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        if bug == "no_mean":
            dW1, db1, dW2, db2 = dW1 * m, db1 * m, dW2 * m, db2 * m  # BUG no_mean: the 1/m undone
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    backward_propagation.__qualname__ = f"backward_propagation[{bug}]"
    return backward_propagation


_add("dlai2_wrong_layer_weights", "layer_break", "dlai", None, "seed 001: dZ1 = W1^T dZ2 * ... (W2 needed)",
     clone_module(dlai_two_layer, {"backward_propagation": _dlai2_backward("wrong_weights")}), _D2, ("square",))
_add("dlai2_x_for_a1", "a_prev_is_x", "dlai", None, "seed 001: dW2 = dZ2 X^T / m (A1 needed)",
     clone_module(dlai_two_layer, {"backward_propagation": _dlai2_backward("x_for_a1")}), _D2)
_add("dlai2_tanh_prime_of_a", "derivative_at_activation", "dlai", None,
     "seed 001: tanh' evaluated at A1 = tanh(Z1) instead of Z1",
     clone_module(dlai_two_layer, {"backward_propagation": _dlai2_backward("tanh_prime_of_a")}), _D2)
_add("dlai2_missing_mean", "missing_mean", "dlai", None, "dW and db without the 1/m",
     clone_module(dlai_two_layer, {"backward_propagation": _dlai2_backward("no_mean")}), _D2, ("batch",))


# ==== Saito's layers and nets (reference/layers.py, reference/layer_net.py) =================


class _ReluDoutInPlace(layers.Relu):
    def backward(self, dout):
        dout[self.mask] = 0  # BUG (seed 002): writes into the caller's dout
        return dout


class _SoftmaxOneHotOnly(layers.SoftmaxWithLoss):
    def backward(self, dout=1):
        N = self.y.shape[0]
        return (self.y - self.t) * (dout / N)  # BUG (seed 002): assumes one-hot t; labels broadcast


class _AffineDbNotSummed(layers.Affine):
    def backward(self, dout):
        dx = dout @ self.W.T
        self.dW = self.x.T @ dout
        self.db = dout  # BUG: (N, out): not summed over the batch
        return dx.reshape(self.original_x_shape)


class _AffineDWTransposed(layers.Affine):
    def backward(self, dout):
        dx = dout @ self.W.T
        self.dW = dout.T @ self.x  # BUG: (out, in), the transpose of W's shape
        self.db = np.sum(dout, axis=0)
        return dx.reshape(self.original_x_shape)


class _SigmoidPrimeOfOut(layers.Sigmoid):
    def backward(self, dout):
        s = F.sigmoid(self.out)  # BUG: sigma'(out) = sigma'(sigma(x)), not sigma'(x)
        return dout * (1.0 - s) * s


class _SoftmaxNoMax(layers.SoftmaxWithLoss):
    def forward(self, x, t):
        self.x_shape, self.t = x.shape, t
        N = x.shape[0]
        self.one_hot = t.size == x.size and t.ndim == x.ndim
        e = np.exp(x)  # BUG: no max-subtraction: overflows to inf / inf = nan for large logits
        self.y = e / np.sum(e, axis=1, keepdims=True)
        log_y = np.log(self.y)
        if self.one_hot:
            self.loss = -np.sum(t * log_y) / N
        else:
            self.loss = -np.sum(log_y[np.arange(N), t.astype(int)]) / N
        return self.loss


class _MulBackwardSwapped(layers.MulLayer):
    def backward(self, dout):
        return dout * self.x, dout * self.y  # BUG: each input times itself (the book: "x and y swapped")


def _saito(layer_overrides: dict, net_overrides: dict | None = None):
    """Copies of layers.py with replaced classes and of layer_net.py built on that copy."""
    lay = clone_module(layers, layer_overrides)
    table = {id(getattr(layers, k)): getattr(lay, k) for k in layers.__all__ if isinstance(getattr(layers, k), type)}
    net = clone_module(layer_net, net_overrides, table)
    # a Saito submission is one namespace: the layers and the nets side by side
    out = types.ModuleType("saito__mutant")
    names = {**{k: getattr(lay, k) for k in layers.__all__}, **{k: getattr(net, k) for k in layer_net.__all__}}
    out.__dict__.update(names)
    out.__all__ = list(names)
    return out


class _MultiLayerNetRegOnBias(layer_net.MultiLayerNet):
    def gradient(self, x, t):
        grads = super().gradient(x, t)
        for i in range(1, self.n_affine + 1):
            grads[f"b{i}"] = grads[f"b{i}"] + self.weight_decay_lambda * self.params[f"b{i}"]  # BUG: decays b
        return grads


_add("saito_relu_dout_in_place", "mutation", "saito", None, "seed 002: Relu.backward does dout[mask] = 0 in place",
     _saito({"Relu": _ReluDoutInPlace}), _S)
_add("saito_softmax_one_hot_only", "one_hot_only", "saito", None,
     "seed 002: SoftmaxWithLoss.backward = (y - t) / N, right for one-hot t only",
     _saito({"SoftmaxWithLoss": _SoftmaxOneHotOnly}), _S, ("labels",))
_add("saito_affine_db_not_summed", "extra_batch_axis", "saito", None, "Affine.db = dout, not summed over rows",
     _saito({"Affine": _AffineDbNotSummed}), _S, ("batch",))
_add("saito_affine_dw_transposed", "transpose", "saito", None, "Affine.dW = dout^T x (transposed)",
     _saito({"Affine": _AffineDWTransposed}), _S)
_add("saito_sigmoid_prime_of_out", "derivative_at_activation", "saito", None,
     "Sigmoid.backward applies sigma' to its output",
     _saito({"Sigmoid": _SigmoidPrimeOfOut}), _S)
_add("saito_softmax_no_max", "large_inputs", "saito", None, "softmax without max-subtraction (overflow)",
     _saito({"SoftmaxWithLoss": _SoftmaxNoMax}), _S, ("large",))
_add("saito_reg_on_bias", "reg_on_bias", "saito", None, "weight decay applied to the biases too",
     _saito({}, {"MultiLayerNet": _MultiLayerNetRegOnBias}), _S, ("reg",))
_add("saito_mul_backward_swapped", "mul_backward_swapped", "saito", "MulLayer",
     "MulLayer.backward returns dout * x as dx (each input times itself)",
     _saito({"MulLayer": _MulBackwardSwapped}), _S)


# ==== CS231n (reference/cs231n.py) ==========================================================


def _cs_relu_backward_mask_dout(dout, cache):
    return dout * (dout > 0)  # BUG: the mask comes from dout, not from the input x


def _cs_softmax_loss_no_max(x, y):
    N = x.shape[0]
    e = np.exp(x)  # BUG: no max-subtraction: overflows for large scores
    probs = e / np.sum(e, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def _cs_softmax_loss_no_mean(x, y):
    N = x.shape[0]
    log_probs = F.log_softmax(x, axis=1)
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx  # BUG: the loss is a mean but dx is not divided by N


def _cs_affine_backward_over_n(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T @ dout / N  # BUG: dout already carries 1/N (averaged twice)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def _cs_sigmoid_backward_at_out(dout, cache):
    s = F.sigmoid(cache)  # BUG: cache is already sigma(x): this is sigma'(sigma(x))
    return dout * s * (1 - s)


def _cs_tanh_backward_in_place(dout, cache):
    dout *= 1 - cache**2  # BUG: writes into the caller's dout
    return dout


def _cs_relu_forward_in_place(x):
    x[x < 0] = 0  # BUG: clamps the caller's array in place
    return x, x


class _FCNetRegBugs(cs231n.FullyConnectedNet):
    bug = ""

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        loss, grads = out
        for i in range(1, self.num_layers + 1):
            if self.bug == "reg_2x":
                grads[f"W{i}"] = grads[f"W{i}"] + self.reg * self.params[f"W{i}"]  # BUG: 2 reg W in all
            elif self.bug == "reg_on_bias":
                grads[f"b{i}"] = grads[f"b{i}"] + self.reg * self.params[f"b{i}"]  # BUG: biases decayed
        return loss, grads


class _FCNetReg2x(_FCNetRegBugs):
    bug = "reg_2x"


class _FCNetRegOnBias(_FCNetRegBugs):
    bug = "reg_on_bias"


# copy-paste in the activation table: every hidden layer backpropagates through relu_backward
_CS_ALL_RELU_BACKWARD = {k: (fwd, cs231n.relu_backward) for k, (fwd, _) in cs231n._ACTIVATIONS.items()}

_add("cs231n_relu_mask_from_dout", "wrong_derivative", "cs231n", None, "relu_backward masks by dout > 0",
     clone_module(cs231n, {"relu_backward": _cs_relu_backward_mask_dout}), _C)
_add("cs231n_softmax_no_max", "large_inputs", "cs231n", None, "softmax_loss without max-subtraction",
     clone_module(cs231n, {"softmax_loss": _cs_softmax_loss_no_max}), _C, ("large",))
_add("cs231n_softmax_dx_not_averaged", "missing_mean", "cs231n", None,
     "softmax_loss: mean loss, dx not divided by N",
     clone_module(cs231n, {"softmax_loss": _cs_softmax_loss_no_mean}), _C, ("batch",))
_add("cs231n_affine_dw_averaged_twice", "double_mean", "cs231n", None, "affine_backward divides dw by N again",
     clone_module(cs231n, {"affine_backward": _cs_affine_backward_over_n}), _C, ("batch",))
_add("cs231n_sigmoid_backward_at_out", "derivative_at_activation", "cs231n", None,
     "sigmoid_backward applies sigma to its cache (already sigma(x))",
     clone_module(cs231n, {"sigmoid_backward": _cs_sigmoid_backward_at_out}), _C)
_add("cs231n_tanh_backward_in_place", "mutation", "cs231n", None, "tanh_backward multiplies dout in place",
     clone_module(cs231n, {"tanh_backward": _cs_tanh_backward_in_place}), _C)
_add("cs231n_relu_forward_in_place", "mutation", "cs231n", None, "relu_forward clamps its input in place",
     clone_module(cs231n, {"relu_forward": _cs_relu_forward_in_place}), _C)
_add("cs231n_hidden_relu_backward_everywhere", "wrong_derivative", "cs231n", None,
     "the activation table maps every hidden activation to relu_backward",
     clone_module(cs231n, {"_ACTIVATIONS": _CS_ALL_RELU_BACKWARD}), _C)
_add("cs231n_reg_gradient_doubled", "reg_scale", "cs231n", None,
     "loss has 0.5 reg ||W||^2 but the gradient adds reg W twice",
     clone_module(cs231n, {"FullyConnectedNet": _FCNetReg2x}), _C, ("reg",))
_add("cs231n_reg_on_bias", "reg_on_bias", "cs231n", None, "L2 gradient added to the biases",
     clone_module(cs231n, {"FullyConnectedNet": _FCNetRegOnBias}), _C, ("reg",))

# Optimizer mutants (issue 11) register themselves in MUTANTS; they need _add and clone_module above.
# Later families (issues 9-11) register themselves in MUTANTS too.
from reference import (  # noqa: E402,F401
    mutants_conv,
    mutants_dlai_rnn,
    mutants_linear,  # noqa: E402,F401  (CS231n assignment 1's linear classifiers)
    mutants_mytorch,
    mutants_mytorch_cells,
    mutants_norm,
    mutants_optim,
    mutants_rnn,
    mutants_verdicts,
)
