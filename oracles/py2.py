"""Run Python 2 submissions: convert in memory with fissix (the maintained lib2to3), keep Python 2 meaning.

The book's own ``network.py`` and ``network2.py`` and many CS231n 2016 solutions are Python 2. They
are converted in memory (never on disk) with fissix's default fixers, then run and judged as usual.
Three things 2to3 does not cover and a gradient can depend on:

* ``/`` between two integers floors in Python 2 (``lmbda / n`` with int arguments is 0). Unless the
  file says ``from __future__ import division``, every ``a / b`` becomes ``__bpcheck_py2__.div(a, b)``
  (and ``a /= b`` an in-place equivalent): floor division when both operands are integers (Python
  ints, numpy integer scalars or integer arrays, as numpy 1.x on Python 2 did), true division
  otherwise. Whether both operands are ints is not decidable from the source, so it is decided when
  the line runs.
* fissix adds lines for a few fixers (``from functools import reduce``); line numbers of the result are
  mapped back to the file's own, so every message names the line the student wrote.
* ``zip``/``map``/``filter``/``range``/``dict.keys()`` used as lists are wrapped in ``list()`` by fissix.

Runs inside the sandbox child (fissix parses text, it never executes the submission).
"""

from __future__ import annotations

import ast
import difflib
import operator
import re
from dataclasses import dataclass, field

__all__ = ["Py2Error", "Converted", "PY2_NAMESPACE", "convert", "python2_markers", "Py2Runtime"]

PY2_NAMESPACE = "__bpcheck_py2__"

# fix_import rewrites `import layers` into `from . import layers` by looking at the disk; the loader
# resolves absolute imports next to the file itself, so the import is left as written.
_SKIPPED_FIXERS = {"fissix.fixes.fix_import"}

# What a fixer's name means to a student (for the note).
_FIXER_WORDS = {
    "print": "print statements", "xrange": "xrange/range", "dict": "dict.iteritems/keys/values",
    "except": "'except E, e'", "raise": "'raise E, msg'", "imports": "renamed modules (cPickle, ...)",
    "imports2": "renamed modules", "long": "long", "numliterals": "number literals (10L, 0777)",
    "zip": "zip as a list", "map": "map as a list", "filter": "filter as a list", "has_key": "has_key",
    "unicode": "unicode", "basestring": "basestring", "raw_input": "raw_input", "next": ".next()",
    "itertools": "itertools.izip/imap", "itertools_imports": "itertools.izip/imap", "reduce": "reduce",
    "ne": "'<>'", "repr": "backticks", "exec": "exec statement", "tuple_params": "tuple parameters",
    "metaclass": "__metaclass__", "urllib": "urllib", "string": "string functions",
}

# Names that exist only in Python 2: a file that parses as Python 3 but uses one of them unbound was
# written for Python 2 (its `/` floors too).
_PY2_NAMES = {"xrange", "unicode", "basestring", "raw_input", "long", "unichr", "execfile", "reduce",
              "cmp", "file", "reload", "intern", "apply", "buffer"}
_PY2_MODULES = {"cPickle", "cStringIO", "StringIO", "urllib2", "Queue", "ConfigParser", "Tkinter",
                "__builtin__", "commands", "HTMLParser", "httplib", "cookielib"}
_PY2_METHODS = {"iteritems", "iterkeys", "itervalues", "has_key", "viewitems", "viewkeys", "viewvalues"}


class Py2Error(Exception):
    """The converter could not handle the file: ``line`` is the file's own line."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Converted:
    source: str
    fixers: list[str] = field(default_factory=list)  # fissix fixers that changed something
    line_map: dict[int, int] = field(default_factory=dict)  # converted line -> original line
    true_division: bool = False  # the file has `from __future__ import division`

    def original_line(self, line: int | None) -> int | None:
        if line is None:
            return None
        return self.line_map.get(line, line)

    def describe(self) -> str:
        words = [_FIXER_WORDS.get(f, f) for f in self.fixers]
        what = ", ".join(dict.fromkeys(words)) or "no change needed"
        div = ("'/' is true division (the file imports division from __future__)" if self.true_division else
               "'/' kept its Python 2 meaning (floor division when both operands are integers, decided as each "
               "line runs)")
        return (f"ran after an automatic Python 2 -> 3 conversion in memory (fissix; converted: {what}); {div}; "
                f"line numbers are the file's own")


def python2_markers(tree: ast.Module) -> list[tuple[str, int]]:
    """Python 2-only names, modules and dict methods in a file that parses as Python 3, with lines."""
    bound: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            bound.add(n.id)
        elif isinstance(n, ast.alias):
            bound.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in _PY2_NAMES and n.id not in bound:
            found.append((n.id, n.lineno))
        elif isinstance(n, ast.Attribute) and n.attr in _PY2_METHODS and isinstance(n.ctx, ast.Load):
            found.append((f".{n.attr}()", n.lineno))
        elif isinstance(n, ast.Import):
            found += [(a.name, n.lineno) for a in n.names if a.name.split(".")[0] in _PY2_MODULES]
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and (n.module or "").split(".")[0] in _PY2_MODULES:
            found.append((n.module, n.lineno))
    # a fallback `try: import cPickle except ImportError: import pickle` is Python 3 code already
    guarded = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Try) and n.handlers:
            for s in n.body:
                guarded |= {m.lineno for m in ast.walk(s) if isinstance(m, (ast.Import, ast.ImportFrom))}
    return sorted((w, line) for w, line in found if line not in guarded)


_TOOL: dict = {}  # built once per process (a dict: the child's patch detector watches module globals)


def _tool():
    if not _TOOL:
        import logging

        # fissix logs "Generating grammar tables" and, in the child (no writable cache), "Writing failed"
        logging.getLogger("RefactoringTool").setLevel(logging.ERROR)
        import fissix
        from fissix.pgen2 import driver, pgen

        # fissix caches its grammar tables as pickles in the user's cache folder; the sandbox child may
        # not write (nor clean up a temporary folder), so the tables are generated in memory (~0.1 s).
        fissix.load_grammar = driver.load_grammar = lambda gt="Grammar.txt", *a, **k: pgen.generate_grammar(gt)
        from fissix import refactor

        fixers = [f for f in refactor.get_fixers_from_package("fissix.fixes") if f not in _SKIPPED_FIXERS]

        class _Tool(refactor.RefactoringTool):
            def __init__(self, names):
                super().__init__(names)
                self.used: list[str] = []
                for fixer in self.pre_order + self.post_order:
                    self._record(fixer)

            def _record(self, fixer):
                transform = fixer.transform
                name = type(fixer).__module__.rsplit(".", 1)[-1].removeprefix("fix_")

                def recorded(node, results):
                    before = str(node)
                    new = transform(node, results)
                    if str(node if new is None else new) != before:
                        self.used.append(name)
                    return new

                fixer.transform = recorded

        _TOOL["tool"] = _Tool(fixers)
    return _TOOL["tool"]


def convert(source: str, filename: str) -> Converted:
    """Python 2 source -> Python 3 source; Py2Error (with the file's line) when fissix cannot parse it."""
    try:
        tool = _tool()
    except ImportError as e:  # pragma: no cover - fissix is a dependency
        raise Py2Error(f"the Python 2 converter (fissix) is not installed here ({e}): pip install fissix",
                       None) from None
    tool.used = []
    text = source if source.endswith("\n") else source + "\n"
    try:
        tree = tool.refactor_string(text, filename)
    except Exception as e:  # noqa: BLE001 - ParseError, TokenError, IndentationError: all mean "cannot parse"
        line = _error_line(e)
        what = getattr(e, "msg", None) or str(e).splitlines()[0][:120]
        raise Py2Error(f"the Python 2 -> 3 converter could not parse line {line}: {what}", line) from None
    out = _indent_tabs_as_python2(str(tree))
    true_div = bool(re.search(r"^\s*from\s+__future__\s+import\s+[^\n]*\bdivision\b", source, re.M))
    return Converted(out, list(dict.fromkeys(tool.used)), _line_map(text, out), true_div)


def _indent_tabs_as_python2(source: str) -> str:
    """Python 2 read a tab in the indentation as up to the next multiple of 8 columns; Python 3 refuses
    to mix tabs and spaces. Expand them the way Python 2 read them (string contents are left alone:
    only lines that start a statement are touched, and only when the source needs it)."""
    try:
        ast.parse(source)
        return source
    except TabError:
        pass
    except SyntaxError:
        return source
    import io
    import tokenize

    starts = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.INDENT or tok.type == tokenize.DEDENT or tok.start[1] == 0:
                starts.add(tok.start[0])
            elif tok.type not in (tokenize.NL, tokenize.COMMENT) and tok.line[: tok.start[1]].strip() == "":
                starts.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError):
        starts = set(range(1, source.count("\n") + 2))
    out = []
    for i, line in enumerate(source.splitlines(keepends=True), start=1):
        body = line.lstrip(" \t")
        if i in starts and "\t" in line[: len(line) - len(body)]:
            line = line[: len(line) - len(body)].expandtabs(8) + body
        out.append(line)
    return "".join(out)


def _error_line(e: Exception) -> int | None:
    ctx = getattr(e, "context", None)  # fissix ParseError: (prefix, (line, column))
    if isinstance(ctx, tuple) and len(ctx) == 2 and isinstance(ctx[1], tuple):
        return ctx[1][0]
    if getattr(e, "lineno", None):
        return e.lineno
    if len(getattr(e, "args", ())) == 2 and isinstance(e.args[1], tuple):  # tokenize.TokenError
        return e.args[1][0]
    return None


def _line_map(before: str, after: str) -> dict[int, int]:
    """converted line number -> original line number, where they differ (fixers that add lines)."""
    a, b = before.splitlines(), after.splitlines()
    if len(a) == len(b):
        return {}
    out: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for j in range(j1, j2):
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                i = i1 + (j - j1)
            else:
                i = min(i1 + (j - j1), max(i1, i2 - 1))
            if i + 1 != j + 1:
                out[j + 1] = i + 1
    return out


def remap_lines(tree: ast.AST, converted: Converted) -> None:
    """Give every node of the converted file's tree the line the student wrote."""
    if not converted.line_map:
        return
    m = converted.line_map
    for n in ast.walk(tree):
        if hasattr(n, "lineno") and n.lineno is not None:
            n.lineno = m.get(n.lineno, n.lineno)
        if getattr(n, "end_lineno", None) is not None:
            n.end_lineno = max(m.get(n.end_lineno, n.end_lineno), n.lineno)


class _Division(ast.NodeTransformer):
    """a / b -> __bpcheck_py2__.div(a, b); x /= b -> x = __bpcheck_py2__.idiv(x, b)."""

    def _helper(self, name: str, node: ast.AST) -> ast.Attribute:
        return ast.copy_location(ast.Attribute(ast.Name(PY2_NAMESPACE, ast.Load()), name, ast.Load()), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, ast.Div):
            return node
        line = ast.Constant(getattr(node, "lineno", 0))
        return ast.copy_location(ast.Call(self._helper("div", node), [node.left, node.right, line], []), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.op, ast.Div) or not isinstance(node.target, (ast.Name, ast.Attribute, ast.Subscript)):
            return node
        load = _as_load(node.target)
        line = ast.Constant(getattr(node, "lineno", 0))
        call = ast.copy_location(ast.Call(self._helper("idiv", node), [load, node.value, line], []), node)
        return ast.copy_location(ast.Assign([node.target], call), node)


def _as_load(target: ast.expr) -> ast.expr:
    import copy

    t = copy.deepcopy(target)
    for n in ast.walk(t):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    t.ctx = ast.Load()
    return t


def rewrite_division(tree: ast.Module) -> ast.Module:
    tree = _Division().visit(tree)
    ast.fix_missing_locations(tree)
    return tree


class Py2Runtime:
    """What the rewritten division calls (bound as ``__bpcheck_py2__`` in the module's globals).

    Where Python 2's '/' truncates (both operands integers, a remainder), the first truncation of each
    line is recorded (``oracles.numpy_compat.drain``, kind ``TRUNCATED``): a `1 / m` that is 0 on the
    course's Python 2 is then named with its line next to the gradients it zeroed."""

    def __init__(self, file: str = "") -> None:
        import numpy as np

        self._np = np
        self._file = file
        self._seen: set[int] = set()

    def _both_int(self, a, b) -> bool:
        np = self._np

        def is_int(v):
            if isinstance(v, (int, np.integer)):  # bool too: True / 2 == 0 in Python 2
                return True
            return isinstance(v, np.ndarray) and v.dtype.kind in "iub"

        return is_int(a) and is_int(b)

    def _note(self, a, b, q, line: int) -> None:
        if line in self._seen or not self._file:
            return
        try:
            exact = bool(self._np.all(q * b == a))
        except (TypeError, ValueError, ArithmeticError):
            return
        if exact:
            return
        self._seen.add(line)
        from oracles.numpy_compat import TRUNCATED, record

        shown = f"{a!r} / {b!r} = {q!r}" if isinstance(a, int) and isinstance(b, int) else "integer arrays"
        record(TRUNCATED, f"'/' between integers ({shown} in Python 2)", self._file, line)

    def div(self, a, b, line: int = 0):
        if not self._both_int(a, b):
            return a / b
        q = a // b
        self._note(a, b, q, line)
        return q

    def idiv(self, a, b, line: int = 0):
        # in place where the object supports it (an array other code holds a reference to)
        if not self._both_int(a, b):
            return operator.itruediv(a, b)
        if line not in self._seen:
            self._note(a, b, a // b, line)
        return operator.ifloordiv(a, b)
