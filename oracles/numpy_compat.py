"""Judge code written for numpy 1.x (the numpy its course ships) on the numpy installed here.

numpy 2 removed APIs that course code uses everywhere: ``np.float``/``np.int``, ``np.math``,
``np.reshape(..., newshape=)``, ``float()`` of a one-element array with ndim > 0 (the convolution
course's own ``conv_single_step``), ``np.array(x, copy=False)`` where a copy is needed. Such a file is
not wrong about backprop. By default the loader rewrites those uses in the file's syntax tree (never
numpy itself, so bpcheck's own code is untouched) and records each with its line; the report WARNs:
"uses np.float (line 12), removed in numpy 1.24: fine on the course's numpy 1.x, fails on numpy 2".
With ``strict`` (``bpcheck validate --strict-numpy``) nothing is rewritten and the file is judged
against the installed numpy as it is; the uses are still listed.

Only what the installed numpy really lacks is rewritten: on a numpy that still has ``np.product``
nothing changes for it. Static uses are found at load time; ``float()``/``int()`` of an array and
``np.array(copy=False)`` can only be seen when the line runs, and are recorded then (``drain``).
Runs inside the sandbox child.
"""

from __future__ import annotations

import ast
import math
import operator

import numpy as np

__all__ = ["NAMESPACE", "TRUNCATED", "Use", "scan_and_rewrite", "NumpyCompat", "drain", "record", "describe_uses",
           "compat_findings"]

NAMESPACE = "__bpcheck_numpy__"

# name -> (numpy version that removed it, what to write instead, stand-in factory)
_REMOVED: dict[str, tuple[str, str, object]] = {
    "float": ("1.24", "float", lambda: float),
    "int": ("1.24", "int", lambda: int),
    "object": ("1.24", "object", lambda: object),
    "complex": ("1.24", "complex", lambda: complex),
    "str": ("1.24", "str", lambda: str),
    "unicode": ("1.24", "str", lambda: str),
    "bool": ("1.24", "bool", lambda: bool),
    "long": ("1.24", "int", lambda: int),
    "asscalar": ("1.23", "a.item()", lambda: lambda a: np.asarray(a).item()),
    "rank": ("1.18", "np.ndim", lambda: np.ndim),
    "alen": ("1.23", "len(a)", lambda: lambda a: len(np.array(a, ndmin=1))),
    "math": ("2.0", "import math", lambda: math),
    "product": ("2.0", "np.prod", lambda: np.prod),
    "cumproduct": ("2.0", "np.cumprod", lambda: np.cumprod),
    "sometrue": ("2.0", "np.any", lambda: np.any),
    "alltrue": ("2.0", "np.all", lambda: np.all),
    "round_": ("2.0", "np.round", lambda: np.round),
    "NaN": ("2.0", "np.nan", lambda: np.nan),
    "NAN": ("2.0", "np.nan", lambda: np.nan),
    "Inf": ("2.0", "np.inf", lambda: np.inf),
    "Infinity": ("2.0", "np.inf", lambda: np.inf),
    "infty": ("2.0", "np.inf", lambda: np.inf),
    "PINF": ("2.0", "np.inf", lambda: np.inf),
    "NINF": ("2.0", "-np.inf", lambda: -np.inf),
    "PZERO": ("2.0", "0.0", lambda: 0.0),
    "NZERO": ("2.0", "-0.0", lambda: -0.0),
    "float_": ("2.0", "np.float64", lambda: np.float64),
    "complex_": ("2.0", "np.complex128", lambda: np.complex128),
    "cfloat": ("2.0", "np.complex128", lambda: np.complex128),
    "singlecomplex": ("2.0", "np.complex64", lambda: np.complex64),
    "longfloat": ("2.0", "np.longdouble", lambda: np.longdouble),
    "longcomplex": ("2.0", "np.clongdouble", lambda: np.clongdouble),
    "clongfloat": ("2.0", "np.clongdouble", lambda: np.clongdouble),
    "string_": ("2.0", "np.bytes_", lambda: np.bytes_),
    "unicode_": ("2.0", "np.str_", lambda: np.str_),
    "int0": ("2.0", "np.intp", lambda: np.intp),
    "uint0": ("2.0", "np.uintp", lambda: np.uintp),
    "bool8": ("2.0", "np.bool_", lambda: np.bool_),
    "object0": ("2.0", "np.object_", lambda: np.object_),
    "str0": ("2.0", "np.str_", lambda: np.str_),
    "bytes0": ("2.0", "np.bytes_", lambda: np.bytes_),
    "void0": ("2.0", "np.void", lambda: np.void),
    "msort": ("2.0", "np.sort(a, axis=0)", lambda: lambda a: np.sort(a, axis=0)),
    "asfarray": ("2.0", "np.asarray(a, dtype=float)", lambda: _asfarray),
    "mat": ("2.0", "np.asmatrix", lambda: np.asmatrix),
    "trapz": ("2.0", "np.trapezoid", lambda: getattr(np, "trapezoid", None)),
    "in1d": ("2.0", "np.isin", lambda: lambda a, b, **kw: np.isin(a, b, **kw).ravel()),
    "row_stack": ("2.0", "np.vstack", lambda: np.vstack),
}


def _asfarray(a, dtype=np.float64):
    dtype = np.dtype(dtype)
    return np.asarray(a, dtype=dtype if dtype.kind in "fc" else np.float64)


def _missing(name: str) -> bool:
    """True when the installed numpy lacks np.<name> (reading it would raise AttributeError)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            getattr(np, name)
        except AttributeError:
            return True
    return False


def _scalar_conversion_fails() -> bool:
    try:
        float(np.ones((1, 1)))
    except TypeError:
        return True
    return False


def _reshape_newshape_fails() -> bool:
    try:
        np.reshape(np.ones(1), newshape=(1,))
    except TypeError:
        return True
    return False


def _none_shape_fails() -> bool:
    try:
        np.zeros(None)
    except TypeError:
        return True
    return False


def _copy_false_fails() -> bool:
    try:
        np.array([1.0], copy=False)
    except ValueError:
        return True
    return False


_INSTALLED = {}


def _installed() -> dict:
    if not _INSTALLED:
        _INSTALLED.update(
            missing={n for n in _REMOVED if _missing(n)},
            scalar=_scalar_conversion_fails(),
            newshape=_reshape_newshape_fails(),
            copy_false=_copy_false_fails(),
            none_shape=_none_shape_fails(),
        )
    return _INSTALLED


class Use(tuple):
    """(what, file, line, removed_in, fix): one use of a removed API."""

    __slots__ = ()

    def __new__(cls, what: str, file: str, line: int, removed_in: str, fix: str) -> Use:
        return super().__new__(cls, (what, file, int(line), removed_in, fix))

    what = property(operator.itemgetter(0))
    file = property(operator.itemgetter(1))
    line = property(operator.itemgetter(2))
    removed_in = property(operator.itemgetter(3))
    fix = property(operator.itemgetter(4))


_RUNTIME: list[Use] = []  # uses seen while lines ran (float() of an array, ...), drained with each answer


# removed_in of a Use that is not a numpy API: a Python 2 '/' that truncated (oracles/py2.py); a note, not a WARN
TRUNCATED = "python2-division"


def record(removed_in: str, what: str, file: str, line: int, fix: str = "") -> None:
    """A use seen while a line ran (sent to the parent with the next answer)."""
    _RUNTIME.append(Use(what, file, line, removed_in, fix))


def drain() -> list[Use]:
    out = list(dict.fromkeys(_RUNTIME))
    _RUNTIME.clear()
    return out


def _numpy_aliases(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to the numpy module and to numpy.random, anywhere in the file."""
    np_names, random_names = set(), set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for a in n.names:
                if a.name == "numpy":
                    np_names.add(a.asname or "numpy")
                elif a.name == "numpy.random" and a.asname:
                    random_names.add(a.asname)
        elif isinstance(n, ast.ImportFrom) and n.module == "numpy" and n.level == 0:
            random_names |= {a.asname or a.name for a in n.names if a.name == "random"}
    return np_names, random_names


def _rebinds(tree: ast.Module, name: str) -> bool:
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load):
            return True
        if isinstance(n, ast.arg) and n.arg == name:
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == name:
            return True
        if isinstance(n, ast.alias) and (n.asname or n.name) == name:
            return True
    return False


def _helper(attr: str, node: ast.AST) -> ast.Attribute:
    return ast.copy_location(ast.Attribute(ast.Name(NAMESPACE, ast.Load()), attr, ast.Load()), node)


class _Rewriter(ast.NodeTransformer):
    def __init__(self, tree: ast.Module, file: str, rewrite: bool) -> None:
        self.file, self.rewrite = file, rewrite
        self.np_names, _ = _numpy_aliases(tree)
        self.uses: list[Use] = []
        inst = _installed()
        self.missing = inst["missing"]
        self.scalar = inst["scalar"] and rewrite
        self.newshape = inst["newshape"]
        self.copy_false = inst["copy_false"] and rewrite
        self.none_shape = inst["none_shape"]
        self.wrap_conversions = {n for n in ("float", "int") if not _rebinds(tree, n)} if self.scalar else set()

    def _is_np(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self.np_names

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and self._is_np(node.value) and node.attr in self.missing:
            removed, fix, _ = _REMOVED[node.attr]
            self.uses.append(Use(f"{node.value.id}.{node.attr}", self.file, node.lineno, removed, fix))
            if self.rewrite:
                return _helper(node.attr, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and self._is_np(f.value):
            if f.attr == "reshape" and self.newshape and any(k.arg == "newshape" for k in node.keywords):
                self.uses.append(Use(f"{f.value.id}.reshape(newshape=)", self.file, node.lineno, "2.1",
                                     f"{f.value.id}.reshape(a, shape)"))
                if self.rewrite:
                    kw = next(k for k in node.keywords if k.arg == "newshape")
                    node.keywords = [k for k in node.keywords if k is not kw]
                    if len(node.args) == 1:
                        node.args.append(kw.value)
                    else:
                        node.keywords.append(ast.keyword("shape", kw.value))
            elif f.attr in ("zeros", "ones", "empty") and self.none_shape and node.args and isinstance(
                    node.args[0], ast.Constant) and node.args[0].value is None:
                # MyTorch S20's `self.dW = np.zeros(None)` placeholders: a 0-d array on numpy 1.x (deprecated
                # in 1.20), a TypeError on numpy 2
                self.uses.append(Use(f"{f.value.id}.{f.attr}(None)", self.file, node.lineno, "2.x",
                                     f"{f.value.id}.{f.attr}(())"))
                if self.rewrite:
                    node.args[0] = ast.copy_location(ast.Tuple([], ast.Load()), node.args[0])
            elif f.attr == "array" and self.copy_false and any(
                    k.arg == "copy" and isinstance(k.value, ast.Constant) and k.value.value is False
                    for k in node.keywords):
                node.func = _helper("array_copy_false", node)
                node.args.insert(0, ast.Constant(node.lineno))
        elif isinstance(f, ast.Name) and f.id in self.wrap_conversions and len(node.args) == 1 and not node.keywords \
                and not isinstance(node.args[0], ast.Starred):
            return ast.copy_location(ast.Call(_helper(f"to_{f.id}", node), [ast.Constant(node.lineno), node.args[0]],
                                              []), node)
        return node


def scan_and_rewrite(tree: ast.Module, file: str, *, strict: bool = False) -> tuple[ast.Module, list[Use]]:
    """Find uses of numpy APIs the installed numpy removed; unless strict, rewrite them to stand-ins."""
    r = _Rewriter(tree, file, rewrite=not strict)
    tree = r.visit(tree)
    ast.fix_missing_locations(tree)
    return tree, list(dict.fromkeys(r.uses))


class NumpyCompat:
    """Bound as ``__bpcheck_numpy__`` in a rewritten module: the removed names and the conversions."""

    def __init__(self, file: str) -> None:
        self._file = file

    def __getattr__(self, name: str):
        if name in _REMOVED:
            value = _REMOVED[name][2]()
            if value is not None:
                return value
        raise AttributeError(f"module 'numpy' has no attribute {name!r}")

    def _convert(self, kind, line: int, x):
        if isinstance(x, np.ndarray) and x.ndim > 0 and x.size == 1:
            _RUNTIME.append(Use(f"{kind.__name__}() of an array with ndim > 0 (shape {x.shape})", self._file,
                                line, "2.x", f"{kind.__name__}(a.item()) or a.reshape(())"))
            x = x.reshape(())
        return kind(x)

    def to_float(self, line: int, x=0.0):
        return self._convert(float, line, x)

    def to_int(self, line: int, x=0):
        return self._convert(int, line, x)

    def array_copy_false(self, line: int, *args, **kwargs):
        try:
            return np.array(*args, **kwargs)
        except ValueError:
            _RUNTIME.append(Use("np.array(copy=False) where a copy is needed", self._file, line, "2.0",
                                "np.asarray(a)"))
            kwargs["copy"] = None
            return np.array(*args, **kwargs)


def describe_uses(uses: list[dict], *, strict: bool = False, numpy_version: str | None = None) -> str:
    """One readable message for the report's WARN row: each use with where it is (file and line)."""
    version = numpy_version or np.__version__
    by_what: dict[tuple[str, str, str], list[str]] = {}
    for u in uses:
        by_what.setdefault((u["what"], u["removed_in"], u["fix"]), []).append(u["where"])
    parts = []
    for (what, removed, fix), where in by_what.items():
        at = ", ".join(list(dict.fromkeys(where))[:4]) + (" ..." if len(set(where)) > 4 else "")
        parts.append(f"uses {what} ({at}), removed in numpy {removed}: write {fix}")
    if strict:
        return (f"judged strictly against the installed numpy {version} (--strict-numpy): " + "; ".join(parts)
                + "; these fail here, they were fine on the course's numpy 1.x")
    return ("; ".join(parts) + f": fine on the course's numpy 1.x, fails on numpy {version}; judged with a "
            f"compatibility layer (--strict-numpy judges against the installed numpy)")


def compat_findings(uses: list[dict], *, strict: bool = False) -> tuple[str | None, list[str]]:
    """(the numpy 2 WARN message or None, notes) for the uses the child reported (parent side)."""
    numpy_uses = [u for u in uses if u["removed_in"] != TRUNCATED]
    truncated = [u for u in uses if u["removed_in"] == TRUNCATED]
    notes = []
    if truncated:
        shown = "; ".join(f"{u['where']}: {u['what']}" for u in truncated[:4])
        more = f" and {len(truncated) - 4} more" if len(truncated) > 4 else ""
        notes.append(f"Python 2 integer division truncated (judged as Python 2 runs it): {shown}{more}; if true "
                     f"division was meant, write 1.0 / m or add `from __future__ import division`")
    return (describe_uses(numpy_uses, strict=strict) if numpy_uses else None), notes
