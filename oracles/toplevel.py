"""Which top-level statements of a submission run: definitions and imports, never its script.

Real submissions are notebook exports and scripts: besides the functions and classes we want, their
top level loads data, trains, plots and calls ``get_ipython()``. Kept:

* imports, function and class definitions, docstrings,
* simple assignments (constants, containers, aliases such as ``relu = np.maximum``, a few pure calls),
* assignments that only call the file's own functions (tables of layers), run guarded,
* ``try``/``if`` blocks made of the above (``if __name__ == "__main__"`` never runs).

Everything else is skipped. A kept statement that reads a name a skipped statement bound is skipped
too (def-use over top-level names: ``X = np.array(X)`` after a skipped data load never runs), and
every kept statement other than an import runs guarded: if it raises or runs over GUARD_SECONDS it
is skipped and noted, so top-level script code never makes loading fail.
"""

from __future__ import annotations

import ast
import signal

__all__ = ["GUARD_SECONDS", "filter_module", "filter_body", "exec_filtered", "describe", "exec_reads", "binds"]

GUARD_SECONDS = 1.0

# Calls allowed in a top-level assignment: pure constructors with no side effects.
_SAFE_CALLS = {
    "vectorize", "float32", "float64", "float16", "int32", "int64", "array", "asarray", "dtype",
    "namedtuple", "partial", "frozenset", "set", "tuple", "list", "dict", "float", "int", "str",
    "TypeVar", "field", "sqrt", "log", "exp", "finfo", "iinfo", "compile", "staticmethod",
}


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


def _keep(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef, ast.Pass, ast.Global, ast.Nonlocal)):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True  # docstrings
    if isinstance(stmt, ast.Assign):
        return all(_simple_target(t) for t in stmt.targets) and _safe_expr(stmt.value)
    if isinstance(stmt, ast.AnnAssign):
        return _simple_target(stmt.target) and (stmt.value is None or _safe_expr(stmt.value))
    return False


def describe(stmt: ast.stmt) -> str:
    try:
        text = ast.unparse(stmt).splitlines()[0]
    except Exception:  # noqa: BLE001 - only for a note
        text = type(stmt).__name__
    return text if len(text) <= 50 else text[:47] + "..."


# ---------------------------------------------------------------- def-use over top-level names


def _loads(node: ast.AST) -> set[str]:
    """Names read when node is evaluated now: lambda bodies wait; comprehension variables are local."""
    out: set[str] = set()
    local: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Lambda):
            stack += n.args.defaults + [d for d in n.args.kw_defaults if d is not None]
            continue
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for g in n.generators:
                local |= {t.id for t in ast.walk(g.target) if isinstance(t, ast.Name)}
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            out.add(n.id)
        elif isinstance(n, (ast.Attribute, ast.Subscript)) and not isinstance(n.ctx, ast.Load):
            # `X[0] = 1`, `net.w = W` read X and net
            out |= {m.id for m in ast.walk(n.value) if isinstance(m, ast.Name)}
        stack.extend(ast.iter_child_nodes(n))
    return out - local


def exec_reads(stmt: ast.stmt, *, lazy_annotations: bool = False) -> set[str]:
    """Top-level names a statement reads while it runs (a function's body runs later, not now)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = stmt.args
        parts: list[ast.AST] = list(stmt.decorator_list) + a.defaults + [d for d in a.kw_defaults if d]
        if not lazy_annotations:
            parts += [x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs if x.annotation]
            parts += [x.annotation for x in (a.vararg, a.kwarg) if x is not None and x.annotation]
            if stmt.returns is not None:
                parts.append(stmt.returns)
        return set().union(*(_loads(p) for p in parts)) if parts else set()
    if isinstance(stmt, ast.ClassDef):
        parts = list(stmt.decorator_list) + stmt.bases + [k.value for k in stmt.keywords]
        reads = set().union(*(_loads(p) for p in parts)) if parts else set()
        bound_here: set[str] = set()
        for s in stmt.body:  # the class body runs now
            reads |= exec_reads(s, lazy_annotations=lazy_annotations) - bound_here
            bound_here |= binds(s)
        return reads
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return set()
    return _loads(stmt)


def binds(stmt: ast.stmt) -> set[str]:
    """Top-level names a statement binds (inside its blocks too; not inside functions or classes)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
    out: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
            continue
        if isinstance(n, (ast.Lambda, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            continue
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out |= binds(n)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        elif isinstance(n, ast.NamedExpr):
            out.add(n.target.id)
        stack.extend(ast.iter_child_nodes(n))
    return out


class _Taint:
    """Names bound by statements that were not run, with the line that bound them."""

    def __init__(self, lazy_annotations: bool) -> None:
        self.names: dict[str, int] = {}
        self.lazy = lazy_annotations

    def skip(self, stmt: ast.stmt) -> None:
        for name in binds(stmt):
            self.names[name] = stmt.lineno

    def blocked_by(self, stmt: ast.stmt, reads: set[str] | None = None) -> str | None:
        reads = exec_reads(stmt, lazy_annotations=self.lazy) if reads is None else reads
        hit = sorted(reads & set(self.names), key=lambda n: self.names[n])
        if not hit:
            return None
        return ", ".join(f"{n} from line {self.names[n]}" for n in hit[:3]) + (" ..." if len(hit) > 3 else "")

    def kept(self, stmt: ast.stmt) -> None:
        for name in binds(stmt):
            self.names.pop(name, None)


def filter_body(body: list[ast.stmt], skipped: list[tuple[int, str]], taint: _Taint | None = None,
                local_defs: set[str] | None = None) -> list[ast.stmt]:
    taint = taint or _Taint(False)
    local_defs = set() if local_defs is None else local_defs
    out: list[ast.stmt] = []

    def skip(stmt, why=None):
        skipped.append((stmt.lineno, describe(stmt) + (f" (needs {why}, not run)" if why else "")))
        taint.skip(stmt)

    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local_defs.add(stmt.name)  # not classes: `net = Network(sizes)` is script code
        if isinstance(stmt, ast.If):
            if _is_main_guard(stmt.test) or not _safe_expr(stmt.test, allow_calls=False):
                skipped.append((stmt.lineno, "if-block"))
                taint.skip(stmt)
                continue
            why = taint.blocked_by(stmt, _loads(stmt.test))
            if why:
                skip(stmt, why)
                continue
            stmt.body = filter_body(stmt.body, skipped, taint, local_defs) or [ast.Pass()]
            stmt.orelse = filter_body(stmt.orelse, skipped, taint, local_defs)
            # `if dataset == "blobs":` where the student deleted the line that set dataset: the test
            # itself may raise, and script code must never make loading fail
            stmt._bpcheck_guarded = True
            out.append(stmt)
        elif isinstance(stmt, ast.Try):
            stmt.body = filter_body(stmt.body, skipped, taint, local_defs) or [ast.Pass()]
            for h in stmt.handlers:
                h.body = filter_body(h.body, skipped, taint, local_defs) or [ast.Pass()]
            stmt.orelse = filter_body(stmt.orelse, skipped, taint, local_defs)
            stmt.finalbody = filter_body(stmt.finalbody, skipped, taint, local_defs)
            out.append(stmt)
        elif _keep(stmt) or _calls_local(stmt, local_defs):
            why = taint.blocked_by(stmt)
            if why:
                skip(stmt, why)
                continue
            if not isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass, ast.Global, ast.Nonlocal, ast.Expr)):
                stmt._bpcheck_guarded = True  # runs, but may not make loading fail
            taint.kept(stmt)
            out.append(stmt)
        else:
            skip(stmt)
    return out


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
    )


def _future_annotations(tree: ast.Module) -> bool:
    return any(isinstance(s, ast.ImportFrom) and s.module == "__future__" and any(a.name == "annotations"
               for a in s.names) for s in tree.body)


def filter_module(tree: ast.Module) -> tuple[ast.Module, list[tuple[int, str]]]:
    """Keep what may run (see the module docstring); return the tree and (line, what) of every skip."""
    skipped: list[tuple[int, str]] = []
    tree.body = filter_body(tree.body, skipped, _Taint(_future_annotations(tree)))
    ast.fix_missing_locations(tree)
    return tree, skipped


def _future_flags(tree: ast.Module) -> int:
    import __future__

    flags = 0
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            for alias in stmt.names:
                flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
    return flags


class _Slow(BaseException):
    pass


def exec_filtered(tree: ast.Module, filename: str, namespace: dict, skipped: list[tuple[int, str]],
                  failed: list[tuple[int, str]] | None = None) -> None:
    """Run the kept statements one at a time; a guarded one that raises or runs over GUARD_SECONDS
    is skipped and recorded in ``failed`` (or ``skipped``) with the exception."""
    failed = skipped if failed is None else failed

    def _alarm(signum, frame):
        raise _Slow

    flags = _future_flags(tree)  # statements are compiled one at a time: carry `from __future__` to each
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
            failed.append((stmt.lineno, describe(stmt) + f" (took over {GUARD_SECONDS:g} s)"))
        except Exception as e:  # noqa: BLE001 - top-level script code that fails is skipped, not fatal
            failed.append((stmt.lineno, describe(stmt) + f" ({type(e).__name__}: {str(e)[:80]})"))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
