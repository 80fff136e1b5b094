"""Coverage: which of the file's functions, classes and methods bpcheck checked, and why not the rest.

The list of what a file defines comes from its source (top-level ``def``, ``class`` and the methods
in it; private ``_helpers`` and dunders other than ``__call__`` are not units). What was checked
comes from the drivers: the units that ran while the checks ran (``Observation.called``, recorded by
``oracles.styles.run``), so a layer kind or optimizer added later counts without being listed here.
A unit a driver declined to call says why (``Observation.not_checked``: the signature it has);
otherwise the reason is guessed from the name (a training loop, an initialiser, an evaluation).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Coverage", "defined_units", "build_coverage", "is_backward"]

_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?def\s+(?P<name>\w+)\s*\(|^(?P<cindent>[ \t]*)class\s+(?P<cls>\w+)")


@dataclass
class Coverage:
    """checked / defined units; not_checked: unit -> reason (in source order)."""

    defined: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    not_checked: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.not_checked

    def unchecked_backward(self) -> list[str]:
        return [u for u in self.not_checked if is_backward(u)]

    def headline(self, limit: int = 6) -> str:
        """'checked 9 of 14 functions; not checked: batchnorm_backward, ...' ('' when nothing is defined)."""
        if not self.defined:
            return ""
        text = f"checked {len(self.checked)} of {len(self.defined)} functions"
        if self.not_checked:
            # backward code first: that is what a reader must not overlook
            order = {u: i for i, u in enumerate(self.defined)}
            names = sorted(self.not_checked, key=lambda u: (not is_backward(u) and u in order, order.get(u, -1)))
            shown = ", ".join(names[:limit]) + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")
            text += f"; not checked: {shown}"
        return text

    def to_dict(self) -> dict:
        return {"defined": len(self.defined), "checked": list(self.checked),
                "not_checked": [{"name": u, "reason": r, "line": self.lines.get(u)}
                                for u, r in self.not_checked.items()]}


def is_backward(unit: str) -> bool:
    """Backward code: a gradient is computed here (the check a bare PASS must never hide)."""
    low = unit.rsplit(".", 1)[-1].lower()
    return any(k in low for k in ("backward", "backprop", "grad", "prime", "deriv", "delta")) and "numerical" not in low


def _source(path: Path) -> str | None:
    try:
        if path.suffix == ".ipynb":
            try:
                from oracles.notebook import read_notebook  # the loader's reader, when it is there

                return read_notebook(path).source
            except ImportError:
                nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
                cells = [c.get("source", "") for c in nb.get("cells", []) if c.get("cell_type") == "code"]
                return "\n".join("".join(c) if isinstance(c, list) else c for c in cells)
        return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None


def defined_units(path: str | Path) -> dict[str, int]:
    """Unit name -> line for what the file defines ('f', 'Class.method', 'Class' for a constructor-only class)."""
    from oracles.styles._coverage import unit_name

    text = _source(Path(path))
    if text is None:
        return {}
    out: dict[str, int] = {}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return _units_by_lines(text)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            unit = unit_name(None, node.name)
            if unit:
                out.setdefault(unit, node.lineno)
        elif isinstance(node, ast.ClassDef):
            _class_units(node, out, unit_name)
    return out


def _class_units(node: ast.ClassDef, out: dict[str, int], unit_name) -> None:
    methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    listed = [unit_name(node.name, m.name) for m in methods]
    for m, unit in zip(methods, listed):
        if unit and (unit != node.name or not any(u and u != node.name for u in listed)):
            out.setdefault(unit, m.lineno)  # the constructor counts only for a class with nothing else


def _units_by_lines(text: str) -> dict[str, int]:
    """Source that does not parse here (Python 2): top-level defs, classes and their methods by indentation."""
    from oracles.styles._coverage import unit_name

    out: dict[str, int] = {}
    ctors: dict[str, int] = {}
    cls = None
    for i, line in enumerate(text.splitlines(), 1):
        m = _DEF.match(line)
        if not m:
            if line.strip() and not line[0].isspace() and not line.lstrip().startswith("#"):
                cls = None  # top-level code ends a class body
            continue
        if m.group("cls") is not None:
            if not m.group("cindent"):
                cls = m.group("cls")
            continue
        if not m.group("indent"):
            cls = None
            unit = unit_name(None, m.group("name"))
        elif cls is not None and len(m.group("indent").expandtabs()) <= 4:
            unit = unit_name(cls, m.group("name"))
            if unit == cls:
                ctors.setdefault(cls, i)
                continue
        else:
            continue
        if unit:
            out.setdefault(unit, i)
    for cls, line in ctors.items():  # the constructor counts only for a class with nothing else
        if not any(u.startswith(cls + ".") for u in out):
            out[cls] = line
    return out


def _tokens(unit: str) -> set[str]:
    name = unit.rsplit(".", 1)[-1]
    return {t.lower() for t in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name) if t}


_REASONS = (
    ({"train", "fit", "epoch", "epochs", "optimize", "optimise", "main", "run"},
     "a training loop (it needs data and time; the step it repeats is what is checked)"),
    ({"init", "initialize", "initialise", "initializer", "initialiser"},
     "initialisation (random by design, not judged)"),
    ({"predict", "accuracy", "evaluate", "score", "test", "classify", "inference"},
     "prediction/evaluation (no gradient)"),
    ({"load", "save", "plot", "show", "print", "read", "write", "visualize", "draw", "download"}, "input/output"),
    ({"numerical", "check"}, "a numerical-gradient helper (bpcheck computes its own)"),
    ({"vectorized", "onehot", "categorical", "shuffle", "batches", "split"}, "a data helper"),
)


def _reason(unit: str) -> str:
    tokens = _tokens(unit)
    if unit.rsplit(".", 1)[-1] == "SGD":  # Nielsen's training loop (a lowercase sgd is an update rule)
        return "a training loop (it needs data and time; the step it repeats is what is checked)"
    if "model" in tokens and not tokens & {"forward", "backward"}:
        return "a training loop (it needs data and time; the step it repeats is what is checked)"
    for keys, why in _REASONS:
        if tokens & keys:
            return why
    if is_backward(unit):
        return "backward code no check reached (a layer or option bpcheck does not drive here)"
    return "no check called it"


def build_coverage(path: str | Path, called: set[str], declined: dict[str, str]) -> Coverage:
    """Coverage of one file from what ran (``called``) and what drivers declined to call (``declined``)."""
    units = defined_units(path)
    cov = Coverage(defined=list(units), lines=units)
    for unit in units:
        if unit in called or (unit + ".__call__") in called:
            cov.checked.append(unit)
        elif unit in declined:
            cov.not_checked[unit] = declined[unit]
        else:
            cov.not_checked[unit] = _reason(unit)
    for unit, why in declined.items():
        # an option of a checked class that no entry point drove (FullyConnectedNet(normalization='layernorm')):
        # not a function of its own, but code no check reached all the same
        if unit not in units and "(" in unit:
            cov.not_checked[unit] = why
    return cov
