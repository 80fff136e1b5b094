"""Load a student file the way a grader should: take it as it is, run its definitions, never its script.

Runs inside the sandbox child (oracles/child.py). Numpy only: nothing here may import the oracle.
One preparation for the submitted file and for every helper module of the learner's it imports:

1. read: a ``.py`` file, or a ``.ipynb`` notebook's code cells (oracles/notebook.py); IPython-only
   lines (``%matplotlib``, ``!pip``) become ``pass``;
2. parse as Python 3; Python 2 is converted in memory (oracles/py2.py), ``/`` keeps its Python 2 meaning;
3. keep definitions, imports and simple constants; skip script code and everything that depends on
   it; run kept statements guarded (oracles/toplevel.py);
4. rewrite uses of numpy APIs that numpy 2 removed, unless strict (oracles/numpy_compat.py);
5. run with the import policy (oracles/import_guard.py): autograd libraries refused, missing modules
   stubbed (course helpers supplied), the learner's package found by walking up ``__init__.py``
   files (oracles/package_root.py).

Every step that changed something leaves a note; anything that keeps the file from loading is a
``LoadError`` naming the line and the fix.
"""

from __future__ import annotations

import ast
import builtins
import copy
import linecache
import re
import sys
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from oracles import numpy_compat, py2
from oracles.import_guard import ALWAYS_STUBBED, BLOCKED, BlockFinder, Guard, RootFinder, Stub
from oracles.notebook import NotebookError, read_notebook, strip_magics
from oracles.package_root import import_context, local_roots
from oracles.toplevel import exec_filtered, filter_module

__all__ = [
    "BLOCKED",
    "ALWAYS_STUBBED",
    "LoadError",
    "Loaded",
    "Prepared",
    "load_submission",
    "prepare",
    "parse",
    "student_traceback",
    "filter_module",
    "imported_roots",
    "where",
]


class LoadError(Exception):
    """The file could not be loaded. kind: syntax, python2, not_allowed, exception, exit, notebook, missing."""

    def __init__(self, kind: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


@dataclass
class Loaded:
    """A loaded submission: ``impl`` (a SimpleNamespace of its names), readable notes, numpy 1.x uses."""

    impl: types.SimpleNamespace
    notes: list[str]
    names: list[str]
    compat: list[dict] = field(default_factory=list)


# file -> how to name one of its lines ("cell 3, line 2" for a notebook); used by every message
_LABELS: dict[str, Callable[[int], str]] = {}


def where(file: str, line: int | None) -> str:
    """'network.py line 12', or 'nb.ipynb cell 3, line 2'."""
    name = Path(file).name
    if line is None:
        return name
    label = _LABELS.get(file)
    return f"{name} {label(line)}" if label else f"{name} line {line}"


# ---------------------------------------------------------------- Python 2 recognised by its syntax

_PY2_PATTERNS = (
    (re.compile(r"^\s*print\s+[^\s(=.,)\]]"), "print statement"),
    (re.compile(r"^\s*print\s*$"), "print statement"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:"), "'except E, e:'"),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,"), "'raise E, message'"),
    (re.compile(r"^\s*exec\s+['\"\w]"), "exec statement"),
    (re.compile(r"`[^`]+`"), "backtick repr"),
    (re.compile(r"<>"), "'<>' operator"),
    (re.compile(r"\b0[0-7]+\b"), "octal literal like 0777"),
    (re.compile(r"\b\d+[lL]\b"), "long literal like 10L"),
    (re.compile(r"\bur['\"]"), "ur'' string"),
)


def _python2_reason(err: SyntaxError, lines: list[str]) -> str | None:
    msg = err.msg or ""
    if "Missing parentheses in call to 'print'" in msg:
        return "print statement"
    if "Missing parentheses in call to 'exec'" in msg:
        return "exec statement"
    if "multiple exception types must be parenthesized" in msg:
        return "'except E, e:'"
    if err.lineno and 0 < err.lineno <= len(lines):
        line = lines[err.lineno - 1]
        for pattern, what in _PY2_PATTERNS:
            if pattern.search(line):
                return what
    return None


def _syntax_error(err: SyntaxError, lines: list[str], label: Callable[[int], str]) -> LoadError:
    line = err.lineno
    text = (lines[line - 1].strip() if line and 0 < line <= len(lines) else "") or (err.text or "").strip()
    hint = " (tabs and spaces mixed in the indentation: use spaces only)" if isinstance(err, TabError) else ""
    return LoadError("syntax", f"syntax error at {label(line)}: {err.msg} ({text!r}){hint}", line)


def _text(lines: list[str], line: int | None) -> str:
    return lines[line - 1].strip()[:80] if line and 0 < line <= len(lines) else ""


def _py2_head(why: str, err: SyntaxError, lines: list[str], label: Callable[[int], str]) -> str:
    return f"Python 2 syntax at {label(err.lineno)}: {why} ({_text(lines, err.lineno)!r})"


def _first_non_python2_error(lines: list[str], tries: int = 200) -> tuple[int, str] | None:
    """Where a Python 2 file is broken in any Python: blank the lines Python 3 rejects as Python 2 syntax,
    one at a time, until Python 3 names an error that is not (an unclosed bracket, a stray indent)."""
    lines = list(lines)
    for _ in range(tries):
        try:
            ast.parse("\n".join(lines))
            return None
        except SyntaxError as err:
            if _python2_reason(err, lines) is None or not err.lineno or err.lineno > len(lines):
                return (err.lineno, err.msg) if err.lineno else None
            bad = lines[err.lineno - 1]
            indent = bad[: len(bad) - len(bad.lstrip())]
            lines[err.lineno - 1] = indent + ("except Exception:" if bad.lstrip().startswith("except") else "pass")
    return None


def parse(source: str, filename: str, label: Callable[[int], str] | None = None
          ) -> tuple[ast.Module, list[str], py2.Converted | None]:
    """Parse as Python 3, or convert from Python 2; LoadError (with the line) when neither works.

    Returns the tree (line numbers the file's own), notes, and the conversion (None for Python 3)."""
    label = label or (lambda n: f"line {n}")
    lines = source.splitlines()
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as err:
        why = _python2_reason(err, lines)
        try:
            converted = py2.convert(source, filename)
            tree = ast.parse(converted.source, filename=filename)
        except py2.Py2Error as e:
            if not why:
                raise _syntax_error(err, lines, label) from None
            line, msg = _first_non_python2_error(lines) or (e.line or err.lineno, e.message.rsplit(": ", 1)[-1])
            raise LoadError("python2", f"{_py2_head(why, err, lines, label)}; the automatic Python 2 -> 3 conversion "
                                       f"failed at {label(line)} ({_text(lines, line)!r}: {msg}): fix that line "
                                       f"(or port the file to Python 3 by hand)", line) from None
        except SyntaxError as err2:
            if not why:
                raise _syntax_error(err, lines, label) from None
            line = converted.original_line(err2.lineno)
            raise LoadError("python2", f"{_py2_head(why, err, lines, label)}; after the automatic Python 2 -> 3 "
                                       f"conversion {label(line)} is still not valid Python 3 ({_text(lines, line)!r}: "
                                       f"{err2.msg}): fix or port that line by hand", line) from None
        py2.remap_lines(tree, converted)
        return tree, [converted.describe()], converted
    markers = py2.python2_markers(tree)
    if markers:
        try:
            converted = py2.convert(source, filename)
            new = ast.parse(converted.source, filename=filename)
        except (py2.Py2Error, SyntaxError):
            return tree, [f"Python 2 names ({', '.join(sorted({m for m, _ in markers}))}) in a file that parses as "
                          f"Python 3; the automatic conversion failed, so it runs as it is"], None
        py2.remap_lines(new, converted)
        first = ", ".join(f"{m} at {label(n)}" for m, n in markers[:3])
        return new, [converted.describe() + f" (Python 2 names: {first})"], converted
    return tree, [], None


def imported_roots(tree: ast.AST) -> list[tuple[str, int]]:
    """Top-level module names of every absolute import anywhere in the file, with lines."""
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out += [(a.name.split(".")[0], n.lineno) for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            out.append((n.module.split(".")[0], n.lineno))
    return out


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def fallback_import_lines(tree: ast.AST) -> set[int]:
    """Lines of imports inside ``try: ... except ImportError:`` (a fallback follows: never stub those)."""
    lines = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = set()
        for h in node.handlers:
            if h.type is None:
                caught.add("BaseException")
            for t in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]) if h.type is not None else []:
                caught.add(t.id if isinstance(t, ast.Name) else getattr(t, "attr", ""))
        if caught & _IMPORT_ERRORS:
            for stmt in node.body:
                lines |= {n.lineno for n in ast.walk(stmt) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return lines


# ---------------------------------------------------------------- one file, prepared to run


@dataclass
class Prepared:
    """A file ready to run: the filtered, rewritten tree and what was done to it."""

    path: Path
    tree: ast.Module
    notes: list[str]
    skipped: list[tuple[int, str]]
    compat: list[numpy_compat.Use]
    converted: py2.Converted | None
    fallbacks: set[int]
    raw_tree: ast.Module  # before filtering (every import the file makes, for the refusal check)


def _register_lines(file: str, source: str) -> None:
    """Tracebacks show the code that ran (a notebook's cells, not its JSON)."""
    lines = source.splitlines(keepends=True)
    linecache.cache[file] = (len(source), None, lines, file)


def prepare(path: Path, *, strict_numpy: bool = False) -> Prepared:
    """Read, parse (converting Python 2), filter and rewrite one file; LoadError when it cannot be."""
    file = str(path)
    notes: list[str] = []
    if path.suffix == ".ipynb":
        try:
            nb = read_notebook(path)
        except NotebookError as e:
            raise LoadError("notebook", str(e)) from None
        _LABELS[file] = nb.where
        _register_lines(file, nb.source)
        source = nb.source
        what = "notebook: only the code cells' definitions and imports run"
        if nb.magic_lines:
            what += "; IPython magics/shell lines skipped: " + ", ".join(nb.where(n) for n in nb.magic_lines[:6]) + (
                " ..." if len(nb.magic_lines) > 6 else "")
        if nb.dropped_cells:
            what += "; cells in another language dropped: " + ", ".join(f"cell {c} ({m})" for c, m in
                                                                         nb.dropped_cells[:6])
        if nb.unparsed_cells:
            what += ("; cells that define nothing and do not parse, skipped: "
                     + ", ".join(f"cell {c} ({why})" for c, why in nb.unparsed_cells[:4])
                     + (" ..." if len(nb.unparsed_cells) > 4 else ""))
        notes.append(what)
    else:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as e:
            raise LoadError("missing", f"cannot read {path.name}: {e.strerror or e}") from None
        source, magics = strip_magics(text)
        if magics:
            notes.append(f"notebook magics/shell lines skipped: line(s) {', '.join(map(str, magics[:8]))}")
    label = _LABELS.get(file) or (lambda n: f"line {n}")
    tree, parse_notes, converted = parse(source, file, label)
    notes += parse_notes
    raw_tree = copy.deepcopy(tree)
    fallbacks = fallback_import_lines(tree)
    tree, skipped = filter_module(tree)
    tree, compat = numpy_compat.scan_and_rewrite(tree, file, strict=strict_numpy)
    if converted is not None and not converted.true_division:
        tree = py2.rewrite_division(tree)
    return Prepared(path, tree, notes, skipped, compat, converted, fallbacks, raw_tree)


def _run_prepared(prep: Prepared, module: types.ModuleType, student_builtins: dict,
                  failed: list[tuple[int, str]]) -> None:
    ns = module.__dict__
    ns["__builtins__"] = student_builtins
    if prep.converted is not None:
        ns[py2.PY2_NAMESPACE] = py2.Py2Runtime(str(prep.path))
    ns[numpy_compat.NAMESPACE] = numpy_compat.NumpyCompat(str(prep.path))
    exec_filtered(prep.tree, str(prep.path), ns, prep.skipped, failed)


def _summarise(items: list[tuple[int, str]], file: str, limit: int = 4) -> str:
    items = sorted(items)
    label = _LABELS.get(file) or (lambda n: f"line {n}")
    # "(needs X from line 18, not run)": a notebook's line is a cell and a line in it
    shown = "; ".join(f"{label(n)}: " + re.sub(r"from line (\d+)", lambda m: f"from {label(int(m[1]))}", d)
                      for n, d in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# ---------------------------------------------------------------- the loader


def student_traceback(exc: BaseException, files: list[str]) -> str:
    """The exception with only the frames from the student's own files (not ours, not numpy's)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if any(f.filename == p for p in files)
              or any(f.filename.startswith(p.rstrip("/") + "/") for p in files)]
    lines = [f"  {where(f.filename, f.lineno)}, in {f.name}: {(f.line or '').strip()}" for f in frames]
    head = f"{type(exc).__name__}: {exc}"
    return "\n".join(lines + [head]) if lines else head


def load_submission(path: str, root: str | None = None, allow: tuple[str, ...] = (),
                    project: str | None = None, *, strict_numpy: bool = False) -> Loaded:
    """Load a submission file; raise LoadError for anything that keeps it from loading.

    Files inside ``project`` (bpcheck's own references and test submissions) may import bpcheck's
    packages; any other file may not (no borrowing the model answers)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise LoadError("missing", f"no such file: {path}")
    prep = prepare(file, strict_numpy=strict_numpy)
    notes = list(prep.notes)
    allow_set = set(allow)

    ctx = import_context(file, prep.raw_tree, Path(root) if root else None)
    roots = imported_roots(prep.raw_tree)
    local = local_roots({n for n, _ in roots if n in BLOCKED}, ctx.dirs)
    refused = [(name, line) for name, line in roots if name in BLOCKED and name not in allow_set | local]
    if refused:
        name, line = refused[0]
        raise LoadError(
            "not_allowed",
            f"not allowed: the submission imports {name!r} ({where(str(file), line)}); autograd libraries cannot "
            f"be used for hand-written backprop (an instructor can permit it with --allow-import {name})",
            line,
        )
    for name in sorted(local):
        notes.append(f"{name} is the learner's own module (found next to the file), not the {name} library: "
                     f"it is loaded as part of the submission")
    if ctx.found and not root:
        notes.append(f"imports resolved from {ctx.root} ({'; '.join(ctx.found)}); pass --root DIR to choose another "
                     f"folder")

    # A synthetic package makes `from .layers import X` resolve next to a file outside any package.
    package = ctx.package or "_bpcheck_submission"
    if not ctx.package:
        pkg = types.ModuleType(package)
        pkg.__path__ = [str(file.parent)]
        sys.modules[package] = pkg
    module_name = package + "." + re.sub(r"\W", "_", file.stem)

    guard = Guard(allow_set, local)
    guard.main_file = str(file)
    if project and Path(project).resolve() in file.parents:
        guard.harness_ok = True
    student_builtins = dict(vars(builtins))
    student_builtins["__import__"] = guard.importer(builtins.__import__)
    # get_ipython() inside a function that does get called still says what it is.
    student_builtins.setdefault("get_ipython", Stub("get_ipython"))
    if prep.converted is not None and "reduce" not in student_builtins:
        import functools

        student_builtins["reduce"] = functools.reduce  # Python 2 builtin (fix_reduce covers most uses)
    helper_notes: list[str] = []
    compat: list[numpy_compat.Use] = list(prep.compat)
    guard.fallbacks = {(str(file), n) for n in prep.fallbacks}

    def run_helper(module: types.ModuleType, helper: Path) -> None:
        try:
            hp = prepare(helper, strict_numpy=strict_numpy)
        except LoadError as e:
            raise ImportError(f"{helper.name}: {e.message}") from None
        guard.fallbacks |= {(str(helper), n) for n in hp.fallbacks}
        compat.extend(hp.compat)
        failed: list[tuple[int, str]] = []
        _run_prepared(hp, module, student_builtins, failed)
        hp_notes = [n for n in hp.notes if not n.startswith("notebook magics")]
        if hp.skipped:
            hp_notes.append(f"skipped {len(hp.skipped)} top-level statement(s)")
        if failed:
            hp_notes.append(f"top-level statement(s) that raised, skipped: {_summarise(failed, str(helper))}")
        helper_notes.extend(f"{helper.name}: {n}" for n in hp_notes)

    sys.meta_path.insert(0, RootFinder(ctx.dirs, run_helper, ctx.package))
    sys.meta_path.insert(0, BlockFinder(guard))
    sys.dont_write_bytecode = True

    module = types.ModuleType(module_name)
    module.__file__ = str(file)
    module.__package__ = package
    # Registered under its dotted name only once it has run: a package __init__ that imports the file
    # (MyTorch's models/__init__.py: from .hw1 import MLP0) must load it whole, as `import mytorch` does in
    # the course, not find this module half-run when the file's own `from mytorch.nn... import` starts it.
    failed: list[tuple[int, str]] = []
    student_files = [str(d) for d in ctx.dirs] + [str(file)]
    try:
        _run_prepared(prep, module, student_builtins, failed)
    except SystemExit as e:
        raise LoadError("exit", f"the submission called sys.exit({e.code!r}) while loading") from None
    except ImportError as e:
        if guard.refused:
            name = guard.refused[0]
            raise LoadError(
                "not_allowed",
                f"not allowed: the submission imports {name!r}; autograd libraries cannot be used for "
                f"hand-written backprop (an instructor can permit it with --allow-import {name})",
            ) from None
        raise LoadError("exception", "loading failed: " + student_traceback(e, student_files)) from None
    except MemoryError:
        raise LoadError("memory", "loading the submission exceeded the memory limit") from None
    except BaseException as e:  # noqa: BLE001 - anything the file does while loading is its fault
        line = _student_line(e, str(file))
        raise LoadError("exception", "loading failed: " + student_traceback(e, student_files), line) from None
    sys.modules[module_name] = module  # (over a copy its package __init__ loaded meanwhile)
    if prep.skipped:
        notes.append(f"top-level code not run ({len(prep.skipped)} statement(s)): "
                     f"{_summarise(prep.skipped, str(file))}")
    if failed:
        notes.append(f"top-level statement(s) that raised while loading, skipped ({len(failed)}): "
                     f"{_summarise(failed, str(file))}")
    if guard.helpers or guard.course_stubs:
        notes.append(_helpers_note(guard.helpers, guard.course_stubs))
    if guard.stubbed:
        notes.append(
            "modules not available here were replaced by stubs (fine unless backprop calls them): "
            + ", ".join(sorted(set(guard.stubbed)))
        )
    if guard.refused_in_helpers:
        by_lib: dict[str, list[str]] = {}
        for lib, helper in guard.refused_in_helpers:
            by_lib.setdefault(lib, []).append(Path(helper).name)
        notes.append("; ".join(f"{lib} is imported by helper module(s) {', '.join(dict.fromkeys(files))}, not by the "
                               f"file checked: replaced there by a stub (autograd libraries are refused in "
                               f"submissions); a check whose code calls it fails" for lib, files in by_lib.items()))
    extensions = sorted(set(guard.extensions) - set(guard.helpers))  # the others have a numpy stand-in
    if extensions:
        notes.append("compiled course extension(s) not built here, replaced by stubs (fine unless backprop calls "
                     "them): " + ", ".join(extensions))
    notes += helper_notes
    # a name the file imported from a stubbed or stood-in helper (`from reg_utils import forward_propagation`)
    # is not the learner's code: never driven as an entry point (its calls still work from the file's globals)
    names = [k for k in module.__dict__ if not k.startswith("__") and not _borrowed(module.__dict__[k])]
    impl = types.SimpleNamespace(**{k: module.__dict__[k] for k in names})
    # "Class.method" entries let style detection tell TwoLayerNet.gradient from TwoLayerNet.loss.
    methods = []
    for k in names:
        v = module.__dict__[k]
        if isinstance(v, type) and getattr(v, "__module__", None) == module_name:
            # __call__ too: MyTorch's layers forward through it (S20-F21 Dropout), Saito's never define it
            methods += [f"{k}.{a}" for a in dir(v) if not a.startswith("__") or a == "__call__"]
    return Loaded(impl, notes, names + methods, [compat_dict(u) for u in dict.fromkeys(compat)])


def _borrowed(value) -> bool:
    """True for a stub, or a function/class of a module bpcheck stubbed or stood in for."""
    if isinstance(value, Stub) or getattr(value, "__bpcheck_stub__", False) is True:
        return True
    if isinstance(value, types.ModuleType):
        return False
    mod = sys.modules.get(getattr(value, "__module__", None) or "")
    return bool(getattr(mod, "__bpcheck_stub__", False))


def _helpers_note(supplied: list[str], stubbed: list[str]) -> str:
    from oracles.course_helpers import LIBRARY_STAND_INS

    libraries = sorted({m for m in supplied if m in LIBRARY_STAND_INS})
    supplied = [m for m in supplied if m not in libraries]
    lib_note = (f"not installed here, bpcheck's stand-ins used: {', '.join(libraries)} (scipy.special: erf, erfc, "
                f"expit, logsumexp, softmax, log_softmax; past.builtins: xrange, ...; anything else is a stub)"
                ) if libraries else ""
    if not supplied and not stubbed:
        return lib_note
    parts = []
    if supplied:
        parts.append("bpcheck's stand-ins used: " + ", ".join(sorted(set(supplied))))
    if stubbed:
        parts.append("stubbed (test cases, data loaders, plotting; fine unless backprop calls them): "
                     + ", ".join(sorted(set(stubbed))))
    return ("course helper module(s) not included with the submission, " + "; ".join(parts)
            + " (give --root DIR to use the course's own files)" + (f"; {lib_note}" if lib_note else ""))


def compat_dict(use: numpy_compat.Use) -> dict:
    """A numpy 1.x use as plain data for the parent: what, where (file and line or cell), fix."""
    return {"what": use.what, "where": where(use.file, use.line), "removed_in": use.removed_in, "fix": use.fix}


def _student_line(exc: BaseException, file: str) -> int | None:
    for f in reversed(traceback.extract_tb(exc.__traceback__)):
        if f.filename == file:
            return f.lineno
    return None
