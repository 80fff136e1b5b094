"""The import policy for student code: refuse autograd libraries, stub what is missing, find helpers.

Runs inside the sandbox child. Student modules get their own ``__import__`` (``_Guard.importer``);
``_BlockFinder`` refuses autograd libraries reached by any other route (``importlib.import_module``);
``_RootFinder`` finds the learner's own modules in the submission's folders and runs them through the
same preparation as the submitted file (definitions only, Python 2 converted, numpy 1.x rewritten).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path

from oracles.course_helpers import COURSE_HELPERS, is_course_helper

__all__ = ["BLOCKED", "ALWAYS_STUBBED", "HARNESS", "OWN_DEPENDENCIES", "StubError", "Guard", "BlockFinder",
           "RootFinder", "Stub"]

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
# What bpcheck itself imports while loading: a learner's file of the same name must not replace it.
OWN_DEPENDENCIES = ("numpy", "fissix", "nbformat", "appdirs")


class StubError(RuntimeError):
    pass


# Refused libraries that a helper module (not the file checked) imported: stubbed, calling them fails.
REFUSED_IN_HELPERS: set[str] = set()


class Stub:
    """Stands for anything from a missing module: attribute access works, calling says why it fails."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attr: str) -> Stub:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return Stub(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        root = self._name.split(".")[0]
        if root in REFUSED_IN_HELPERS:
            raise StubError(
                f"{self._name}() was called: {root!r} is an autograd library, refused in submissions (a helper "
                f"module imported it, so bpcheck replaced it with a stub; --allow-import {root} permits it)")
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
        return Stub(f"{self.__name__}.{attr}")


class Guard:
    """The import policy for student code: refuse autograd libraries, stub what is missing here."""

    def __init__(self, allow: set[str], local: set[str] = frozenset()) -> None:
        self.allow = set(allow)
        self.local = set(local)  # names the learner's own folders provide (a local micrograd/)
        self.stubbed: list[str] = []
        self.extensions: list[str] = []  # relative imports of modules with no .py (compiled, not built)
        self.refused: list[str] = []
        self.harness_ok = False
        self.fallbacks: set[tuple[str, int]] = set()  # (file, line) of imports with an except ImportError
        self.helpers: list[str] = []  # course helper modules supplied by bpcheck
        self.main_file: str | None = None  # the file checked: a refused import there refuses the submission
        self.refused_in_helpers: list[tuple[str, str]] = []  # (library, helper file) stubbed instead
        self.course_stubs: list[str] = []  # course helper modules stubbed (test cases, data loaders)

    def refusable(self, root: str) -> bool:
        return root in BLOCKED and root not in self.allow and root not in self.local

    def refuse(self, root: str) -> None:
        self.refused.append(root)
        raise ImportError(f"importing {root!r} is not allowed in a submission (autograd library)")

    def stub(self, name: str, *, replace_real: bool = False, record: bool = True) -> None:
        """Put stub modules for name and its missing parents into sys.modules (course helpers filled in).
        A real parent package (the learner's cs231n/) stays; only its missing child is stubbed."""
        parts = name.split(".")
        parent = None
        for i in range(1, len(parts) + 1):
            full = ".".join(parts[:i])
            mod = sys.modules.get(full)
            if mod is None or (replace_real and not getattr(mod, "__bpcheck_stub__", False)):
                mod = _StubModule(full, COURSE_HELPERS.get(full))
                sys.modules[full] = mod
                if full in COURSE_HELPERS:
                    self.helpers.append(full)
                elif record and i == len(parts) and is_course_helper(full):
                    self.course_stubs.append(full)
                elif record and i == len(parts) and parts[0] not in self.stubbed:
                    self.stubbed.append(parts[0])
            if parent is not None and (getattr(parent, "__bpcheck_stub__", False) or not hasattr(parent, parts[i - 1])):
                setattr(parent, parts[i - 1], mod)
            parent = mod
        if parts[0] == "scipy" and "scipy.special" not in sys.modules and name != "scipy.special":
            self.stub("scipy.special", record=False)  # `import scipy` then scipy.special.erf(...)

    def importer(self, real_import: Callable) -> Callable:
        """__import__ for student code (the submission and its helpers)."""

        def __import__(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A001
            if level == 0:
                root = name.split(".")[0]
                if root in HARNESS and not self.harness_ok:
                    raise ImportError(f"a submission may not import bpcheck's own package {root!r}")
                if self.refusable(root):
                    importer = (globals or {}).get("__file__")
                    if not (self.main_file and importer and importer != self.main_file):
                        self.refuse(root)
                    # fast_layers.py with a torch conv for speed, beside hand-written layers: the library is
                    # stubbed in that helper only; a check whose code path calls it fails, naming it
                    self.refused_in_helpers.append((root, importer))
                    REFUSED_IN_HELPERS.add(root)
                    self.stub(name, replace_real=True, record=False)
                if root in ALWAYS_STUBBED and root not in self.allow:
                    self.stub(name, replace_real=True)
            try:
                return real_import(name, globals, locals, fromlist, level)
            except ModuleNotFoundError as e:
                missing = e.name or ""
                caller = sys._getframe(1)
                if (caller.f_code.co_filename, caller.f_lineno) in self.fallbacks:
                    raise  # `try: import cPickle except ImportError: import pickle` keeps working
                if level != 0:
                    # `from .im2col_cython import *`: a compiled course extension that was never built here
                    package = (globals or {}).get("__package__") or ""
                    try:
                        wanted = importlib.util.resolve_name("." * level + name, package) if name else package
                    except (ImportError, ValueError):
                        raise e from None
                    if not missing or not (wanted == missing or wanted.startswith(missing + ".")):
                        raise
                    self.stub(missing, record=False)
                    self.extensions.append(missing)
                    return real_import(name, globals, locals, fromlist, level)
                # Stub only the module the student asked for, never a dependency that is missing
                # inside an installed library (that is a real error worth seeing).
                if not missing or not (name == missing or name.startswith(missing + ".")):
                    raise
                self.stub(name)
                return real_import(name, globals, locals, fromlist, level)

        return __import__


class BlockFinder(importlib.abc.MetaPathFinder):
    """First on sys.meta_path: importlib.import_module('torch') is refused too."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def find_spec(self, fullname, path, target=None):
        root = fullname.split(".")[0]
        if self.guard.refusable(root):
            self.guard.refuse(root)
        return None



class _PreparedLoader(importlib.machinery.SourceFileLoader):
    """The learner's own helper modules run prepared like the submission: definitions only."""

    def __init__(self, fullname: str, path: str, run_module: Callable) -> None:
        super().__init__(fullname, path)
        self._run = run_module

    def exec_module(self, module) -> None:
        self._run(module, Path(self.path))


class RootFinder(importlib.abc.MetaPathFinder):
    """Finds the learner's modules in the submission's folders; ``run_module(module, path)`` runs one."""

    def __init__(self, dirs: list[Path], run_module: Callable, package: str | None = None) -> None:
        self.dirs = [str(d) for d in dirs]
        self.run_module = run_module
        self.package = package  # the submission's own package (reference.mytorch for our MyTorch model answer)

    def find_spec(self, fullname, path, target=None):
        top = fullname.split(".")[0]
        if top in sys.stdlib_module_names or top in OWN_DEPENDENCIES:
            return None  # a student's copy.py or numpy.py must not replace what bpcheck runs on
        if top in HARNESS and not self._own(fullname):
            # bpcheck's own packages are never the learner's, even when the root found is bpcheck's
            # checkout (reference/mytorch/__init__.py): the child imports oracles.optim.drivers after
            # loading, and running it "prepared" (definitions only) would break bpcheck itself.
            return None
        search = list(path) if path else self.dirs
        search = [p for p in search if any(p == d or p.startswith(d + "/") for d in self.dirs)]
        if not search:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None or not (spec.origin or "").endswith(".py"):
            return spec
        loader = _PreparedLoader(fullname, spec.origin, self.run_module)
        return importlib.util.spec_from_file_location(
            fullname, spec.origin, loader=loader, submodule_search_locations=spec.submodule_search_locations
        )

    def _own(self, fullname: str) -> bool:
        p = self.package
        return bool(p) and (fullname == p or fullname.startswith(p + "."))
