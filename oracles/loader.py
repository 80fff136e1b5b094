"""Load a student file the way a grader should: definitions only, never its top-level script.

Runs inside the sandbox child (oracles/child.py). Real submissions are notebook exports and
scripts: besides the functions and classes we want, their top level loads data, trains, plots
and calls ``get_ipython()``. We parse the file with ``ast`` and execute only

* imports (missing modules become stubs and a note; autograd libraries are refused),
* function and class definitions,
* simple assignments (constants, containers, aliases such as ``relu = np.maximum``),
* ``try``/``if`` blocks made of the above (``if __name__ == "__main__"`` never runs).

Everything else is skipped and listed in the notes. Python 2 files are recognised and reported
as such, with the line. Numpy only: nothing here may import the oracle.
"""

from __future__ import annotations

import ast
import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import traceback
import types
from pathlib import Path

__all__ = [
    "BLOCKED",
    "ALWAYS_STUBBED",
    "LoadError",
    "Loaded",
    "load_submission",
    "student_traceback",
    "filter_module",
]

# Autograd libraries: a submission that imports them did not write backprop by hand.
BLOCKED = ("torch", "jax", "jaxlib", "autograd", "tensorflow", "keras", "functorch", "torchvision",
           "mxnet", "paddle", "tinygrad", "micrograd", "mygrad", "theano", "chainer")
# Plotting / notebook / data modules: irrelevant to a gradient and slow or side-effectful to import,
# so they are stubbed even where installed.
ALWAYS_STUBBED = ("matplotlib", "pylab", "seaborn", "IPython", "ipywidgets", "tqdm", "h5py", "PIL",
                  "cv2", "sklearn", "pandas", "wandb", "tensorboard", "google", "kaggle")
# Process and machine access a gradient never needs: stubbed for student code (calling them fails
# with a clear message); the child also replaces the os-level functions behind them (oracles/child.py).
ALWAYS_STUBBED += ("ctypes", "cffi", "subprocess", "multiprocessing", "pty", "socket", "requests", "urllib3")
# Our own harness: a submission must not borrow the model answers or the drivers.
HARNESS = ("reference", "oracles", "reports", "bpcheck")

# Calls allowed in a top-level assignment: pure constructors with no side effects.
_SAFE_CALLS = {
    "vectorize", "float32", "float64", "float16", "int32", "int64", "array", "asarray", "dtype",
    "namedtuple", "partial", "frozenset", "set", "tuple", "list", "dict", "float", "int", "str",
    "TypeVar", "field", "sqrt", "log", "exp", "finfo", "iinfo", "compile", "staticmethod",
}


class LoadError(Exception):
    """The file could not be loaded. kind: syntax, python2, not_allowed, exception, exit."""

    def __init__(self, kind: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


class Loaded:
    """A loaded submission: ``impl`` (a SimpleNamespace of its names) and readable notes."""

    def __init__(self, impl: types.SimpleNamespace, notes: list[str], names: list[str]) -> None:
        self.impl = impl
        self.notes = notes
        self.names = names


# ---------------------------------------------------------------- Python 2 and notebook lines

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


def _strip_notebook_magics(source: str) -> tuple[str, list[int]]:
    """Comment out IPython ``%magic`` and ``!shell`` lines (raw notebook exports); return their lines."""
    out, hit = [], []
    for i, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) and not stripped.startswith("!="):
            hit.append(i)
            indent = line[: len(line) - len(stripped)]
            out.append(indent + "pass  # " + stripped)
        else:
            out.append(line)
    return "".join(out), hit


def read_source(file: Path) -> str:
    """The file's Python source; for a Jupyter notebook (.ipynb) its code cells, one after another."""
    text = file.read_text(encoding="utf-8", errors="replace")
    if file.suffix != ".ipynb":
        return text
    import json

    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError) as e:
        raise LoadError("syntax", f"{file.name} is not a readable notebook ({e}); export it as a .py file") from None
    parts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            parts.append("".join(src) if isinstance(src, list) else str(src))
    return "\n\n".join(parts) + "\n"


def parse(source: str, filename: str) -> tuple[ast.Module, list[str]]:
    """Parse, turning a SyntaxError into LoadError('syntax' or 'python2') with the line."""
    notes = []
    source, magics = _strip_notebook_magics(source)
    if magics:
        notes.append(f"notebook magics/shell lines skipped: line(s) {', '.join(map(str, magics[:8]))}")
    try:
        return ast.parse(source, filename=filename), notes
    except SyntaxError as err:
        lines = source.splitlines()
        line = err.lineno
        text = (lines[line - 1].strip() if line and 0 < line <= len(lines) else "") or (err.text or "").strip()
        why = _python2_reason(err, lines)
        if why:
            raise LoadError(
                "python2",
                f"Python 2 syntax at line {line}: {why} ({text!r}); this checker runs Python 3: "
                f"port the file (e.g. print(...), 'except E as e:', range instead of xrange)",
                line,
            ) from None
        hint = " (tabs and spaces mixed in the indentation: use spaces only)" if isinstance(err, TabError) else ""
        raise LoadError("syntax", f"syntax error at line {line}: {err.msg} ({text!r}){hint}", line) from None


# ---------------------------------------------------------------- which statements run


def _is_main_guard(test: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(test))


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _safe_expr(node: ast.expr, *, allow_calls: bool = True) -> bool:
    """Constants, names, attribute chains, containers, operators, lambdas, and a few pure calls."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            if not allow_calls or _call_name(n.func) not in _SAFE_CALLS:
                return False
        elif isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.ListComp,
                            ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
    return True


def _simple_target(t: ast.expr) -> bool:
    if isinstance(t, ast.Name):
        return True
    if isinstance(t, (ast.Tuple, ast.List)):
        return all(_simple_target(e) for e in t.elts)
    return False


def _keep(stmt: ast.stmt) -> bool | list[ast.stmt]:
    """True (run as is), False (skip), or a filtered replacement body for compound statements."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef, ast.Pass, ast.Global, ast.Nonlocal)):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True  # docstrings
    if isinstance(stmt, ast.Assign):
        return all(_simple_target(t) for t in stmt.targets) and _safe_expr(stmt.value)
    if isinstance(stmt, ast.AnnAssign):
        return _simple_target(stmt.target) and (stmt.value is None or _safe_expr(stmt.value))
    if isinstance(stmt, ast.AugAssign):
        return False
    return False


def filter_body(body: list[ast.stmt], skipped: list[tuple[int, str]]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If):
            if _is_main_guard(stmt.test) or not _safe_expr(stmt.test, allow_calls=False):
                skipped.append((stmt.lineno, "if-block"))
                continue
            stmt.body = filter_body(stmt.body, skipped) or [ast.Pass()]
            stmt.orelse = filter_body(stmt.orelse, skipped)
            out.append(stmt)
        elif isinstance(stmt, ast.Try):
            stmt.body = filter_body(stmt.body, skipped) or [ast.Pass()]
            for h in stmt.handlers:
                h.body = filter_body(h.body, skipped) or [ast.Pass()]
            stmt.orelse = filter_body(stmt.orelse, skipped)
            stmt.finalbody = filter_body(stmt.finalbody, skipped)
            out.append(stmt)
        elif _keep(stmt):
            out.append(stmt)
        else:
            skipped.append((stmt.lineno, _describe(stmt)))
    return out


def _describe(stmt: ast.stmt) -> str:
    try:
        text = ast.unparse(stmt).splitlines()[0]
    except Exception:  # noqa: BLE001 - only for a note
        text = type(stmt).__name__
    return text if len(text) <= 50 else text[:47] + "..."


def _calls_local(stmt: ast.stmt, local_defs: set[str]) -> bool:
    """A top-level assignment whose calls all go to functions the file itself defined above
    (tables such as ``_BACKWARD = {"relu": make_backward("relu")}``): worth trying, guarded."""
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign)) or stmt.value is None:
        return False
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if not all(_simple_target(t) for t in targets):
        return False
    calls = [n for n in ast.walk(stmt.value) if isinstance(n, ast.Call)]
    return bool(calls) and all(
        (isinstance(c.func, ast.Name) and c.func.id in local_defs) or _call_name(c.func) in _SAFE_CALLS
        for c in calls
    ) and _safe_expr(stmt.value, allow_calls=False) is False


def filter_module(tree: ast.Module) -> tuple[ast.Module, list[tuple[int, str]]]:
    """Keep what may run; top-level assignments calling the file's own functions are kept with
    ``_bpcheck_guarded = True`` (run under a short time limit, skipped if they fail)."""
    skipped: list[tuple[int, str]] = []
    local_defs: set[str] = set()
    body: list[ast.stmt] = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local_defs.add(stmt.name)
        if _calls_local(stmt, local_defs) and not _keep(stmt):
            stmt._bpcheck_guarded = True
            body.append(stmt)
        else:
            body += filter_body([stmt], skipped)
    tree.body = body
    ast.fix_missing_locations(tree)
    return tree, skipped


GUARD_SECONDS = 1.0


def exec_filtered(tree: ast.Module, filename: str, namespace: dict, skipped: list[tuple[int, str]]) -> None:
    """Run the kept statements; a guarded one that raises or runs over GUARD_SECONDS is skipped."""
    import signal

    class _Slow(BaseException):
        pass

    def _alarm(signum, frame):
        raise _Slow

    import __future__

    # statements are compiled one at a time: carry the file's `from __future__ import ...` to each
    flags = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    for stmt in tree.body:
        code = compile(ast.Module(body=[stmt], type_ignores=[]), filename, "exec", flags=flags, dont_inherit=True)
        if not getattr(stmt, "_bpcheck_guarded", False):
            exec(code, namespace)
            continue
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, GUARD_SECONDS)
        try:
            exec(code, namespace)
        except _Slow:
            skipped.append((stmt.lineno, _describe(stmt) + f" (took over {GUARD_SECONDS:g} s)"))
        except Exception as e:  # noqa: BLE001 - top-level script code that fails is skipped, not fatal
            skipped.append((stmt.lineno, _describe(stmt) + f" ({type(e).__name__})"))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


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


def imported_roots(tree: ast.AST) -> list[tuple[str, int]]:
    """Top-level module names of every absolute import anywhere in the file, with lines."""
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out += [(a.name.split(".")[0], n.lineno) for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            out.append((n.module.split(".")[0], n.lineno))
    return out


# ---------------------------------------------------------------- course helpers

# Helper modules the courses hand out with the assignment (students import them, never write them).
# When a submission arrives without them, these stand-ins (the published math, written here) are
# used instead of a stub, and the report says so. Everything else in those modules (data loaders,
# plotting, test cases) stays a stub.
_DLAI_UTILS = """
import numpy as np

def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z

def relu(Z):
    return np.maximum(0, Z), Z

def sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)

def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ
"""
_PLANAR_UTILS = """
import numpy as np

def sigmoid(x):
    return 1 / (1 + np.exp(-x))
"""
_SAITO_FUNCTIONS = """
import numpy as np

def identity_function(x):
    return x

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)

def relu(x):
    return np.maximum(0, x)

def relu_grad(x):
    return (x > 0).astype(float)

def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)

def mean_squared_error(y, t):
    return 0.5 * np.sum((y - t) ** 2)

def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size

def softmax_loss(X, t):
    return cross_entropy_error(softmax(X), t)
"""
COURSE_HELPERS = {
    **{m: _DLAI_UTILS for m in ("dnn_utils", "dnn_utils_v2", "dnn_app_utils", "dnn_app_utils_v2",
                                "dnn_app_utils_v3")},
    "planar_utils": _PLANAR_UTILS,
    "common.functions": _SAITO_FUNCTIONS,
}


# ---------------------------------------------------------------- stubs and the import guard


class StubError(RuntimeError):
    pass


class _Stub:
    """Stands for anything from a missing module: attribute access works, calling says why it fails."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> _Stub:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        root = self._name.split(".")[0]
        raise StubError(
            f"{self._name}() was called, but module {root!r} is not available here (bpcheck replaced it "
            f"with a stub); put the helper file next to the submission or pass --root DIR"
        )

    def __repr__(self) -> str:
        return f"<stub {self._name}>"

    def __mro_entries__(self, bases):  # `class Net(stub.Base)` still defines a class
        return (object,)


class _StubModule(types.ModuleType):
    def __init__(self, name: str, helper: str | None = None) -> None:
        super().__init__(name)
        self.__path__ = []  # a package, so `import a.b.c` works
        self.__bpcheck_stub__ = True
        if helper is not None:  # a course helper: the published functions, the rest stubbed
            exec(compile(helper, f"<bpcheck stand-in for {name}>", "exec"), self.__dict__)
        self.__all__ = [k for k in vars(self) if not k.startswith("_") and k != "np"]

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self.__name__}.{attr}")


class _Guard:
    """The import policy for student code: refuse autograd libraries, stub what is missing here."""

    def __init__(self, allow: set[str]) -> None:
        self.allow = allow
        self.stubbed: list[str] = []
        self.refused: list[str] = []
        self.harness_ok = False
        self.fallbacks: set[tuple[str, int]] = set()  # (file, line) of imports with an except ImportError
        self.helpers: list[str] = []  # course helper modules supplied by bpcheck

    def refuse(self, root: str) -> None:
        self.refused.append(root)
        raise ImportError(f"importing {root!r} is not allowed in a submission (autograd library)")

    def stub(self, name: str) -> None:
        """Put stub modules for name and its parents into sys.modules (course helpers filled in)."""
        parts = name.split(".")
        parent = None
        for i in range(1, len(parts) + 1):
            full = ".".join(parts[:i])
            mod = sys.modules.get(full)
            if mod is None or not getattr(mod, "__bpcheck_stub__", False):
                mod = _StubModule(full, COURSE_HELPERS.get(full))
                sys.modules[full] = mod
                if full in COURSE_HELPERS:
                    self.helpers.append(full)
                elif i == len(parts) and parts[0] not in self.stubbed:
                    self.stubbed.append(parts[0])
            if parent is not None:
                setattr(parent, parts[i - 1], mod)
            parent = mod

    def importer(self, real_import):
        """__import__ for student code (the submission and its helpers)."""

        def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A001
            if level == 0:
                root = name.split(".")[0]
                if root in HARNESS and not self.harness_ok:
                    raise ImportError(f"a submission may not import bpcheck's own package {root!r}")
                if root in BLOCKED and root not in self.allow:
                    self.refuse(root)
                if root in ALWAYS_STUBBED and root not in self.allow:
                    self.stub(name)
            try:
                return real_import(name, globals, locals, fromlist, level)
            except ModuleNotFoundError as e:
                # Stub only the module the student asked for, never a dependency that is missing
                # inside an installed library (that is a real error worth seeing).
                missing = e.name or ""
                if level != 0 or not missing or not (name == missing or name.startswith(missing + ".")):
                    raise
                caller = sys._getframe(1)
                if (caller.f_code.co_filename, caller.f_lineno) in self.fallbacks:
                    raise  # `try: import cPickle except ImportError: import pickle` keeps working
                self.stub(name)
                return real_import(name, globals, locals, fromlist, level)

        return __import__


class _BlockFinder(importlib.abc.MetaPathFinder):
    """First on sys.meta_path: importlib.import_module('torch') is refused too."""

    def __init__(self, guard: _Guard) -> None:
        self.guard = guard

    def find_spec(self, fullname, path, target=None):
        root = fullname.split(".")[0]
        if root in BLOCKED and root not in self.guard.allow:
            self.guard.refuse(root)
        return None


# ---------------------------------------------------------------- helpers next to the file


class _FilteredLoader(importlib.machinery.SourceFileLoader):
    """Helper modules of the submission (under --root) run with the same filter: definitions only."""

    def __init__(self, fullname, path, builtins_dict, skipped_log, guard):
        super().__init__(fullname, path)
        self._builtins = builtins_dict
        self._log = skipped_log
        self._guard = guard

    def exec_module(self, module):
        source = read_source(Path(self.path))
        tree, _ = parse(source, self.path)
        self._guard.fallbacks |= {(self.path, n) for n in fallback_import_lines(tree)}
        tree, skipped = filter_module(tree)
        module.__dict__["__builtins__"] = self._builtins
        exec_filtered(tree, self.path, module.__dict__, skipped)
        if skipped:
            self._log.append(f"{Path(self.path).name}: skipped {len(skipped)} top-level statement(s)")


class _RootFinder(importlib.abc.MetaPathFinder):
    def __init__(self, dirs: list[Path], builtins_dict, log, guard) -> None:
        self.dirs = [str(d) for d in dirs]
        self.builtins = builtins_dict
        self.log = log
        self.guard = guard

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in sys.stdlib_module_names:
            return None  # a student's copy.py or random.py must not replace the standard library
        search = list(path) if path else self.dirs
        search = [p for p in search if any(p == d or p.startswith(d + "/") for d in self.dirs)]
        if not search:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None or not (spec.origin or "").endswith(".py"):
            return spec
        loader = _FilteredLoader(fullname, spec.origin, self.builtins, self.log, self.guard)
        return importlib.util.spec_from_file_location(
            fullname, spec.origin, loader=loader, submodule_search_locations=spec.submodule_search_locations
        )


# ---------------------------------------------------------------- the loader


def student_traceback(exc: BaseException, files: list[str]) -> str:
    """The exception with only the frames from the student's own files (not ours, not numpy's)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if any(f.filename == p for p in files)
              or any(f.filename.startswith(p.rstrip("/") + "/") for p in files)]
    lines = [f"  {Path(f.filename).name}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames]
    head = f"{type(exc).__name__}: {exc}"
    return "\n".join(lines + [head]) if lines else head


def load_submission(path: str, root: str | None = None, allow: tuple[str, ...] = (),
                    project: str | None = None) -> Loaded:
    """Load a submission file; raise LoadError for anything that keeps it from loading.

    Files inside ``project`` (bpcheck's own references and test submissions) may import bpcheck's
    packages; any other file may not (no borrowing the model answers)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise LoadError("missing", f"no such file: {path}")
    source = read_source(file)
    tree, notes = parse(source, str(file))
    allow_set = set(allow)

    refused = [(name, line) for name, line in imported_roots(tree) if name in BLOCKED and name not in allow_set]
    if refused:
        name, line = refused[0]
        raise LoadError(
            "not_allowed",
            f"not allowed: the submission imports {name!r} (line {line}); autograd libraries cannot be used "
            f"for hand-written backprop (an instructor can permit it with --allow-import {name})",
            line,
        )

    tree, skipped = filter_module(tree)

    # Import context: the file's folder (and --root) hold its helpers; a synthetic package makes
    # `from .layers import X` resolve next to the file.
    root_dir = Path(root).resolve() if root else file.parent
    dirs = [root_dir] + ([file.parent] if file.parent != root_dir else [])
    rel = None
    if file.parent != root_dir and root_dir in file.parents:
        rel = ".".join(file.parent.relative_to(root_dir).parts)
    package = rel or "_bpcheck_submission"
    if not rel:
        pkg = types.ModuleType(package)
        pkg.__path__ = [str(file.parent)]
        sys.modules[package] = pkg
    module_name = f"{package}.{file.stem.replace('-', '_').replace(' ', '_')}"

    guard = _Guard(allow_set)
    if project and Path(project).resolve() in file.parents:
        guard.harness_ok = True
    student_builtins = dict(vars(builtins))
    student_builtins["__import__"] = guard.importer(builtins.__import__)
    # get_ipython() inside a function that does get called still says what it is.
    student_builtins.setdefault("get_ipython", _Stub("get_ipython"))
    helper_log: list[str] = []
    guard.fallbacks = {(str(file), n) for n in fallback_import_lines(tree)}
    sys.meta_path.insert(0, _RootFinder(dirs, student_builtins, helper_log, guard))
    sys.meta_path.insert(0, _BlockFinder(guard))
    sys.dont_write_bytecode = True

    module = types.ModuleType(module_name)
    module.__file__ = str(file)
    module.__package__ = package
    module.__dict__["__builtins__"] = student_builtins
    sys.modules[module_name] = module
    try:
        exec_filtered(tree, str(file), module.__dict__, skipped)
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
        raise LoadError("exception", "loading failed: " + student_traceback(e, [str(root_dir), str(file)])) from None
    except MemoryError:
        raise LoadError("memory", "loading the submission exceeded the memory limit") from None
    except BaseException as e:  # noqa: BLE001 - anything the file does while loading is its fault
        line = _student_line(e, str(file))
        raise LoadError(
            "exception", "loading failed: " + student_traceback(e, [str(root_dir), str(file)]), line
        ) from None
    if skipped:
        skipped.sort()
        shown = "; ".join(f"line {n}: {d}" for n, d in skipped[:4])
        more = f" and {len(skipped) - 4} more" if len(skipped) > 4 else ""
        notes.append(f"top-level code not run ({len(skipped)} statement(s)): {shown}{more}")
    if guard.helpers:
        notes.append("course helper module(s) not included with the submission, bpcheck's stand-ins used: "
                     + ", ".join(sorted(set(guard.helpers))) + " (give --root DIR to use the course's own files)")
    if guard.stubbed:
        notes.append(
            "modules not available here were replaced by stubs (fine unless backprop calls them): "
            + ", ".join(sorted(set(guard.stubbed)))
        )
    notes += helper_log
    names = [k for k in module.__dict__ if not k.startswith("__")]
    impl = types.SimpleNamespace(**{k: module.__dict__[k] for k in names})
    # "Class.method" entries let style detection tell TwoLayerNet.gradient from TwoLayerNet.loss.
    methods = []
    for k in names:
        v = module.__dict__[k]
        if isinstance(v, type) and getattr(v, "__module__", None) == module_name:
            methods += [f"{k}.{a}" for a in dir(v) if not a.startswith("__")]
    return Loaded(impl, notes, names + methods)


def _student_line(exc: BaseException, file: str) -> int | None:
    for f in reversed(traceback.extract_tb(exc.__traceback__)):
        if f.filename == file:
            return f.lineno
    return None
