"""Configurations a file offers (an activation selector, a cost class, L2 on), each checked as its own entry.

Real files are often right in their default and wrong in another configuration: only ``'tanh'``,
only ``CrossEntropyCost``, only ``lmbda > 0``. A driver lists the default as its plain entry point
(``Network``) and every other choice as a configured one, one dimension at a time:
``Network (cost=CrossEntropyCost)``, ``Network (activation='ReLU')``, ``Network (reg > 0)``.

What a selector string means is never assumed from its spelling alone: the function the file
picks for it is evaluated and recognised (``identify_activation``), so an ``'LReLU'`` with slope
0.2 is named as such and not judged as bpcheck's leaky_relu (slope 0.01).
Numpy only: this runs inside the sandbox child.
"""

from __future__ import annotations

import re
import types

import numpy as np

from oracles.styles._common import by_identity

__all__ = [
    "REG_ON",
    "split_entry",
    "configured",
    "wants_reg",
    "identify_activation",
    "activation_words",
    "string_constants",
]

REG_ON = "reg > 0"
_CONFIG = re.compile(r"^(?P<base>.*?) \((?P<config>[^()]*)\)$")

# Spellings of activation names in selector strings -> the canonical activation they usually mean.
_WORDS = {
    "sigmoid": "sigmoid", "logistic": "sigmoid", "sigm": "sigmoid", "sig": "sigmoid",
    "tanh": "tanh", "hyperbolic": "tanh",
    "relu": "relu", "rectifier": "relu",
    "lrelu": "leaky_relu", "leaky_relu": "leaky_relu", "leakyrelu": "leaky_relu", "leaky": "leaky_relu",
    "linear": "identity", "identity": "identity", "none": "identity", "id": "identity",
    "softplus": "softplus",
}
_GRID = np.array([-3.0, -1.3, -0.4, 0.0, 0.2, 0.7, 1.9, 4.0])


def split_entry(entry: str) -> tuple[str, dict[str, str]]:
    """'Network (cost=CrossEntropyCost)' -> ('Network', {'cost': 'CrossEntropyCost'}); 'reg > 0' -> {'reg': '> 0'}."""
    m = _CONFIG.match(entry)
    if not m:
        return entry, {}
    out: dict[str, str] = {}
    for part in m.group("config").split(", "):
        if part == REG_ON:
            out["reg"] = "> 0"
        elif "=" in part:
            k, _, v = part.partition("=")
            out[k.strip()] = v.strip().strip("'\"")
    return m.group("base"), out


def configured(base: str, key: str, value: str, *, quote: bool = False) -> str:
    """The entry name of one configuration: configured('Network', 'activation', 'ReLU', quote=True)."""
    return f"{base} ({key}={value!r})" if quote else f"{base} ({key}={value})"


def wants_reg(entry: str) -> bool:
    return split_entry(entry)[1].get("reg") == "> 0"


def identify_activation(fn) -> str | None:
    """The canonical activation fn computes (evaluated on a grid, elementwise on a column), or None."""
    from reference import functions as F

    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(_GRID.reshape(-1, 1).copy()), dtype=np.float64).reshape(-1)
    except Exception:  # noqa: BLE001 - a function that cannot take a column is not an activation we know
        return None
    if out.shape != _GRID.shape or not np.all(np.isfinite(out)):
        return None
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity"):
        ref = F.activation(name)(_GRID)
        if np.allclose(out, ref, rtol=1e-12, atol=1e-12):
            return name
    return None


def activation_words(strings) -> list[tuple[str, str]]:
    """(string, canonical guess) for the strings that spell an activation name, in order, deduplicated."""
    out, seen = [], set()
    for s in strings:
        key = s.strip().lower().replace("-", "_").replace(" ", "_")
        guess = _WORDS.get(key)
        if guess is not None and s not in seen:
            seen.add(s)
            out.append((s, guess))
    return out


@by_identity
def string_constants(obj) -> tuple[str, ...]:
    """String literals in the code of a function or of every method of a class (comparisons, dict keys)."""
    codes: list[types.CodeType] = []
    if isinstance(obj, type):
        for v in vars(obj).values():
            f = getattr(v, "__func__", v)
            if isinstance(f, types.FunctionType):
                codes.append(f.__code__)
    elif isinstance(obj, types.FunctionType):
        codes.append(obj.__code__)
    out: list[str] = []

    def walk(c, depth=0):
        for k in c.co_consts:
            if isinstance(k, str):
                out.append(k)
            elif isinstance(k, tuple):
                out.extend(x for x in k if isinstance(x, str))
            elif isinstance(k, types.CodeType) and depth < 4:
                walk(k, depth + 1)

    for c in codes:
        walk(c)
    return tuple(out)
