"""What every style driver needs: guarded calls into untrusted code, array checks, snapshots.

A driver never raises for an implementation's fault. Every call goes through ``Recorder.call``;
every returned value goes through ``Recorder.array`` (type, shape, finiteness, float64 copy);
every array handed over is snapshotted so that writes into it can be reported by name.
Numpy only: this runs inside the sandbox child.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import traceback
from collections.abc import Callable, Iterable

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.observation import Observation, call_literal

__all__ = [
    "array_literal",
    "probed",
    "by_identity",
    "UnsupportedCase",
    "ACTIVATION_CLASS_NAMES",
    "Recorder",
    "Snapshot",
    "accepts",
    "fits",
    "unit_of",
    "ROLE_NAMES",
    "role_of",
    "bind_roles",
    "bound_call",
    "require",
    "get",
    "public_names",
    "positional_count",
    "row_input",
    "shape_str",
]

_HARNESS_DIRS = tuple(
    os.path.dirname(os.path.abspath(p)) + os.sep
    for p in (__file__, os.path.join(os.path.dirname(__file__), "..", "__init__.py"))
)

# Saito-style class names for each canonical activation (first one preferred).
ACTIVATION_CLASS_NAMES = {
    "relu": ("Relu", "ReLU", "ReLu"),
    "sigmoid": ("Sigmoid",),
    "tanh": ("Tanh",),
    "leaky_relu": ("LeakyRelu", "LeakyReLU", "LeakyReLu"),
    "softplus": ("Softplus", "SoftPlus"),
    "identity": ("Identity",),
}


def public_names(impl) -> list[str]:
    """The names an implementation defines: ``__all__`` for a module that has one, else every name."""
    names = getattr(impl, "__all__", None)
    if names:
        return list(names)
    try:
        return [n for n in vars(impl) if not n.startswith("__")]
    except TypeError:
        return [n for n in dir(impl) if not n.startswith("__")]


def get(impl, name: str):
    """impl.name if the implementation defines it (respecting ``__all__``), else None."""
    names = getattr(impl, "__all__", None)
    if names and name not in names:
        return None
    try:
        return getattr(impl, name, None)
    except Exception:  # a property that raises is as good as absent
        return None


_PROBED: dict[int, tuple[object, dict]] = {}  # id(impl) -> (impl, {key: reading}); impl kept: ids stay unique


def layer_class(impl, name: str) -> type | None:
    """The class ``name`` when the file defines it with callable ``forward`` and ``backward`` (a MyTorch layer)."""
    c = get(impl, name)
    if isinstance(c, type) and callable(getattr(c, "forward", None)) and callable(getattr(c, "backward", None)):
        return c
    return None


def probed(impl, key: str, fn):
    """fn() once per implementation and key, with numpy's global RNG seeded and restored around it: the
    same file always reads the same way (spec_space is asked again by every run).
    A reading that raises is not kept: it raises again on the next ask."""
    _, memo = _PROBED.setdefault(id(impl), (impl, {}))
    if key not in memo:
        state = np.random.get_state()
        np.random.seed(20261201)
        try:
            memo[key] = fn()
        finally:
            np.random.set_state(state)
    return memo[key]


def by_identity(fn: Callable) -> Callable:
    """fn(obj) read once per object (a class, a function): the drivers ask on every Case what only the
    file's code decides. Each object is kept beside its reading, so an id is never reused for another."""
    memo: dict[int, tuple[object, object]] = {}

    @functools.wraps(fn)
    def read(obj):
        hit = memo.get(id(obj))
        if hit is None or hit[0] is not obj:
            if len(memo) > 50_000:  # (bounded: a long in-process campaign reads many mutants' code)
                memo.clear()
            hit = memo[id(obj)] = (obj, fn(obj))
        return hit[1]

    return read


@by_identity
def _own_signature(fn) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _signature(fn) -> inspect.Signature | None:
    """inspect.signature, read once per function or class: the drivers ask thousands of times per file (a
    bound method is a new object on every access, so its function's signature is kept, minus self)."""
    base = getattr(fn, "__func__", fn)
    sig = _own_signature(base)
    if base is not fn and sig is not None:  # bound (or a classmethod's): the first parameter is taken
        params = list(sig.parameters.values())
        if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            try:
                return inspect.signature(fn)
            except (TypeError, ValueError):
                return None
        sig = sig.replace(parameters=params[1:])
    return sig


def fits(fn, *args, **kwargs) -> bool:
    """Would fn accept these arguments? (True when its signature cannot be read: then only calling tells.)"""
    sig = _signature(fn)
    if sig is None:
        return True
    try:
        sig.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def unit_of(fn) -> str:
    """'Network.backprop' for a (bound) method, 'Network' for a class, 'backprop' for a function."""
    if isinstance(fn, type):
        return fn.__name__
    target = getattr(fn, "__func__", fn)
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or type(fn).__name__
    return str(name).replace(".<locals>", "")


def array_literal(a, width: int = 100) -> str:
    """An exact literal: repr of Python floats round-trips bit for bit. A long one is wrapped after
    commas (inside the brackets, so it still pastes as one statement): no 400-character lines."""
    text = f"np.array({np.asarray(a).tolist()!r})"
    if len(text) <= width:
        return text
    lines, line = [], ""
    for piece in text.split(", "):
        if line and len(line) + len(piece) + 2 > width:
            lines.append(line + ",")
            line = "    " + piece
        else:
            line = f"{line}, {piece}" if line else piece
    lines.append(line)
    return "\n".join(lines)


# What a course's parameter names mean: role -> the names real files give it (lower case).
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "batch": ("mini_batch", "minibatch", "batch", "training_batch", "mini_batch_data", "data", "training_data",
              "train_data", "samples", "mb", "mbatch"),
    "x": ("x", "inputs", "input", "x_batch", "xs", "a", "x_train", "features", "activation", "in_data", "inp",
          "inpt", "x_in", "input_data", "x_matrix", "x_mat"),
    "y": ("y", "targets", "target", "y_batch", "ys", "labels", "label", "t", "expected", "y_train", "y_true",
          "desired", "out_data", "classification", "output", "out", "outp", "target_output", "y_matrix", "y_mat",
          "desired_output", "expected_output"),
    "eta": ("eta", "lr", "learning_rate", "lr_rate", "alpha", "rate", "step", "step_size", "learningrate",
            "learn_rate", "eta_"),
    "lmbda": ("lmbda", "lmbd", "lambda_", "lambd", "lam", "lamb", "reg_lambda", "reg", "regularization", "l2",
              "lambda_reg", "weight_decay", "lmda", "lambda1", "reg_param", "lmbda_"),
    "n": ("n", "n_data", "n_train", "n_total", "total", "training_size", "n_samples", "data_size",
          "len_training_data", "train_size", "num_training", "n_training", "training_set_size", "n_training_data"),
    "mu": ("mu", "momentum", "friction", "momentum_coef", "coef_momentum"),
    "m": ("mini_batch_size", "batch_size", "m", "minibatch_size", "mb_size", "nbatch", "n_batch", "batchsize",
          "num_batch", "mbs"),
    "epochs": ("epochs", "n_epochs", "num_epochs", "nepochs", "epoch", "number_of_epochs"),
}
_ROLE_OF = {name: role for role, names in ROLE_NAMES.items() for name in names}


def role_of(name: str) -> str | None:
    return _ROLE_OF.get(name.lower())


def bind_roles(fn, values: dict[str, object]) -> tuple[list, dict] | str:
    """Arguments for fn chosen by what its parameters are called (``ROLE_NAMES``), or why none fit.

    values: role -> value bpcheck can supply. A required parameter with a name no role knows, or
    a role with no value, makes the call unfit (the reason names it); optional ones keep their default."""
    sig = _signature(fn)
    if sig is None:
        return "its signature cannot be read"
    args: list = []
    kwargs: dict = {}
    positional = True
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        role = role_of(p.name)
        if role is not None and role in values:
            if positional and p.kind is not p.KEYWORD_ONLY:
                args.append(values[role])
            else:
                kwargs[p.name] = values[role]
            continue
        if p.default is p.empty:
            if role is None and p.kind is not p.KEYWORD_ONLY and positional and _only_passed_along(fn, p.name):
                args.append(0)  # a counter the body never reads (at most hands on): any value will do
                continue
            what = f"its parameter {p.name!r}" + (f" ({role})" if role else "")
            return f"{what} is not one bpcheck can supply"
        positional = False  # later parameters by name, so this one keeps its default
    return args, kwargs


def bound_call(name: str, fn, got: tuple[list, dict], **extras: str) -> dict:
    """bind_roles's answer for fn as plain data (``Observation.calls``): each parameter it filled, in order,
    and what it was handed: its role's value, or a literal (the 0 for a counter the body never reads).
    Anything else is marked a stand-in (no snippet replays it faithfully). extras: see observation.py."""
    args, kwargs = got
    sig = _signature(fn)
    params = [p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)] \
        if sig is not None else []

    def item(param: str, value) -> list:
        role = role_of(param)
        if role is not None:
            return [param, "role", role]
        if call_literal(value):
            return [param, "literal", value]
        return [param, "standin", type(value).__name__]

    return {"fn": name, "args": [item(params[i] if i < len(params) else f"arg{i}", v) for i, v in enumerate(args)],
            "kwargs": [item(k, v) for k, v in kwargs.items()], **extras}


def _only_passed_along(fn, name: str) -> bool:
    """Does fn's body never read ``name`` except to hand it to another method of the same object that never
    reads it either (a batch counter i in update_mini_batch(x, y, eta, m, i) passed on to backprop(x, y, i))?"""
    import ast
    import textwrap

    target = getattr(fn, "__func__", fn)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(target)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    func = tree.body[0] if tree.body and isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if func is None:
        return False
    owner = getattr(fn, "__self__", None)
    for node in ast.walk(func):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        call = next((c for c in ast.walk(func) if isinstance(c, ast.Call) and node in c.args), None)
        if call is None or owner is None or not (isinstance(call.func, ast.Attribute)
                                                 and isinstance(call.func.value, ast.Name)
                                                 and call.func.value.id == "self"):
            return False
        callee = getattr(owner, call.func.attr, None)
        pos = call.args.index(node)
        sig = _signature(callee) if callee is not None else None
        params = [q for q in sig.parameters.values()] if sig is not None else []
        if pos >= len(params) or callee is fn or not _only_passed_along(callee, params[pos].name):
            return False
    return True


def accepts(fn, name: str) -> bool:
    """Does fn declare a parameter called name? (**kwargs does not count: a feature must be named.)"""
    sig = _signature(fn)
    if sig is None:
        return False
    return any(p.name == name and p.kind is not p.VAR_POSITIONAL for p in sig.parameters.values())


def positional_count(fn) -> tuple[int, int]:
    """(required, total) positional parameters of fn (bound methods exclude self); total is large for *args."""
    sig = _signature(fn)
    if sig is None:
        return 0, 99
    required = total = 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            total += 1
            if p.default is p.empty:
                required += 1
        elif p.kind is p.VAR_POSITIONAL:
            total = 99
    return required, total


class UnsupportedCase(ValueError):
    """The Case lies outside what the entry point can run (the caller's mistake, not the implementation's)."""


def require(space: SpecSpace, case: Case, style: str, entry: str, extra: str | None = None) -> None:
    """ValueError when the Case is outside what this entry point can run (not the implementation's fault)."""
    why = space.allows(case.spec) or extra
    if why:
        raise UnsupportedCase(
            f"{style}[{entry}] cannot run {case.spec.describe()}: unsupported {why}; "
            f"draw Cases from spec_space({style!r}, impl, {entry!r})"
        )


def shape_str(a) -> str:
    return str(tuple(np.shape(a))) if isinstance(a, np.ndarray) else type(a).__name__


def row_input(case: Case) -> np.ndarray:
    """x as a row-layout style receives it; with the tag ``nd_input`` an (m, p, q) batch (Affine reshapes it)."""
    x = case.typed(case.x)
    if "nd_input" in case.tags:
        n0 = x.shape[1]
        p = next((k for k in range(2, int(math.isqrt(n0)) + 1) if n0 % k == 0), 1)
        x = x.reshape(x.shape[0], p, n0 // p)
    return np.ascontiguousarray(x)


def _student_frame(exc: BaseException) -> str:
    """' (at file.py:12 in backprop)' for the innermost frame outside the harness and numpy."""
    frames = traceback.extract_tb(exc.__traceback__)
    for fr in reversed(frames):
        path = os.path.abspath(fr.filename)
        if path.startswith(_HARNESS_DIRS) or f"{os.sep}numpy{os.sep}" in path:
            continue
        return f" (at {os.path.basename(fr.filename)}:{fr.lineno} in {fr.name})"
    return ""


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


class Recorder:
    """Builds one Observation: errors per check family, notes, mutations, shape changes."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.obs = Observation()

    # -- bookkeeping --
    def error(self, families: str | Iterable[str], message: str) -> None:
        if isinstance(families, str):
            families = (families,)
        for f in families:
            old = self.obs.errors.get(f)
            if old is None:
                self.obs.errors[f] = message
            elif message not in old:
                self.obs.errors[f] = f"{old}; {message}"

    def note(self, message: str) -> None:
        if message not in self.obs.notes:
            self.obs.notes.append(message)

    def mutated(self, name: str) -> None:
        if name not in self.obs.mutated:
            self.obs.mutated.append(name)

    def bound(self, purpose: str, name: str, fn, got: tuple[list, dict], **extras: str) -> None:
        """Record the call a driver is about to make (``Observation.calls[purpose]``): the snippet replays it."""
        self.obs.calls[purpose] = bound_call(name, fn, got, **extras)

    def decline(self, fn, what: str, why: str = "") -> None:
        """Not called: our call would not fit this function (never the submission's error)."""
        unit = unit_of(fn)
        sig = _signature(fn)
        shown = f"{unit}{sig}" if sig is not None else unit
        text = why or f"its signature {shown} fits no known variant of {what}"
        if unit not in self.obs.not_checked:
            self.obs.not_checked[unit] = text

    def fits_call(self, fn, what: str, *args, **kwargs) -> bool:
        """True when fn accepts these arguments; otherwise fn is declined (not checked) and False."""
        if fits(fn, *args, **kwargs):
            return True
        self.decline(fn, what)
        return False

    # -- calls --
    def call(self, families, what: str, fn: Callable, *args, **kwargs) -> tuple[bool, object]:
        """(True, result), or (False, None) with the exception recorded for families.

        Arguments the function's signature does not accept are our guess, not its fault: the
        function is then declined (``Observation.not_checked``) and nothing is recorded as an error."""
        if not callable(fn):
            self.error(families, f"{what}: {_describe(fn)} is not callable")
            return False, None
        if not fits(fn, *args, **kwargs):
            self.decline(fn, what)
            return False, None
        try:
            with np.errstate(all="ignore"):  # overflow warnings are the student's business; NaN is checked
                return True, fn(*args, **kwargs)
        except SystemExit as exc:
            self.error(families, f"{what} called sys.exit({exc.code!r}){_student_frame(exc)}")
        except Exception as exc:  # an implementation fault, never ours to raise
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            msg = msg if len(msg) <= 200 else msg[:197] + "..."
            self.error(families, f"{what} raised {type(exc).__name__}: {msg}{_student_frame(exc)}")
        return False, None

    # -- values --
    def array(
        self,
        families,
        what: str,
        value,
        shape: tuple[int, ...] | None,
        *,
        loose: bool = False,
        hint: str = "",
    ) -> np.ndarray | None:
        """A float64 copy of value with the given shape, or None with the reason recorded.

        loose: a vector may come as (n,), (n, 1) or (1, n) (bias gradients); a note says so."""
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float, np.number)) for v in value):
            value = np.asarray(value)
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and shape in ((), None):
            value = np.asarray(value)
        if not isinstance(value, np.ndarray):
            self.error(families, f"{what} is {_describe(value)}; expected a numpy array of shape {shape}")
            return None
        if not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)):
            self.error(families, f"{what} has dtype {value.dtype}; expected floating-point numbers")
            return None
        if shape is not None and value.shape != tuple(shape):
            squeezed = tuple(d for d in value.shape if d != 1) == tuple(d for d in shape if d != 1)
            if loose and squeezed:
                self.note(f"{what} has shape {value.shape} where {tuple(shape)} was expected; same numbers, accepted")
                value = value.reshape(shape)
            else:
                extra = ""
                if len(shape) == 2 and value.shape == tuple(reversed(shape)):
                    extra = " (transposed?)"
                elif loose and value.size > math.prod(shape):
                    extra = " (not summed over the batch, or broadcast into a matrix?)"
                self.error(families, f"{what} has shape {value.shape}; expected {tuple(shape)}{extra}{hint}")
                return None
        out = np.array(value, dtype=np.float64, copy=True)
        bad = ~np.isfinite(out)
        if bad.any():
            kinds = ("NaN" if np.isnan(out).any() else "") + ("/inf" if np.isinf(out).any() else "")
            self.error(
                families,
                f"{what} contains {kinds.strip('/')} ({int(bad.sum())} of {out.size} entries, first at "
                f"{tuple(int(i) for i in np.argwhere(bad)[0])})",
            )
            return None
        return out

    def forward(self, families, what: str, fn: Callable, args: tuple, shape: tuple[int, ...],
                inputs: dict[str, np.ndarray]) -> np.ndarray | None:
        """A layer's forward: call it on ``args``, read its output as an array of ``shape`` into ``obs.out``, and
        record an input (``inputs``, by name) it wrote into; None with the reason recorded when it raised or
        returned something unusable."""
        snap = Snapshot(inputs, "in")
        ok, out = self.call(families, what, fn, *args)
        if not ok:
            return None
        out = self.array(families, f"{what} out", out, shape)
        if out is None:
            return None
        self.obs.out = out
        for path in snap.changed():
            self.mutated(path.split("'")[1] if "'" in path else path)
        return out

    def scalar(self, families, what: str, value) -> float | None:
        """A finite float from a number or a size-1 array."""
        if isinstance(value, np.ndarray) and value.size == 1 and (
            np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)
        ):
            if value.ndim > 0:
                self.note(f"{what} is an array of shape {value.shape}; its single value was used")
            value = value.reshape(()).item()
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(families, f"{what} is {_describe(value)}; expected a number")
            return None
        value = float(value)
        if not math.isfinite(value):
            self.error(families, f"{what} is {value}")
            return None
        return value


class Snapshot:
    """Copies of every array reachable in obj (lists, tuples, dicts, object attributes not followed)."""

    def __init__(self, obj, name: str, *, skip: Iterable[np.ndarray] = ()) -> None:
        self.name = name
        skip_ids = {id(a) for a in skip}
        self.items: list[tuple[str, np.ndarray, np.ndarray]] = []
        self._walk(obj, name, skip_ids, depth=0)

    def _walk(self, obj, path: str, skip_ids: set[int], depth: int) -> None:
        if depth > 6 or len(self.items) > 10_000:
            return
        if isinstance(obj, np.ndarray):
            if id(obj) not in skip_ids and obj.dtype != object:
                self.items.append((path, obj, obj.copy()))
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                self._walk(v, f"{path}[{i}]", skip_ids, depth + 1)
        elif isinstance(obj, dict):
            for k, v in obj.items():
                self._walk(v, f"{path}[{k!r}]", skip_ids, depth + 1)

    def changed(self) -> list[str]:
        """Paths whose contents differ from the copy (NaN equals NaN)."""
        out = []
        for path, ref, copy in self.items:
            try:
                same = ref.shape == copy.shape and np.array_equal(ref, copy, equal_nan=True)
            except TypeError:
                same = ref.shape == copy.shape and np.array_equal(ref, copy)
            if not same:
                out.append(path)
        return out


def read_row_grads(rec: Recorder, spec, grads: dict) -> None:
    """A net's ``grads`` dict in row layout (CS231n, Saito: W{l} is (n_in, n_out)) into canonical form:
    W transposed back, every other parameter (b, gamma, beta) reshaped; each read through ``rec.array``."""
    for k, shape in spec.param_shapes().items():
        fam = {"W": "grad_W", "b": "grad_b"}.get(k[0], "grad_param")
        want = tuple(reversed(shape)) if k.startswith("W") else shape
        g = rec.array(fam, f"grads[{k!r}]", grads.get(k), want, loose=not k.startswith("W"))
        if g is not None:
            rec.obs.grads[k] = g.T.copy() if k.startswith("W") else g.reshape(shape)
