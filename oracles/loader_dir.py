"""Load a submission that is a folder: every course module of a package tree, as one implementation.

CMU 11-785 MyTorch handouts are packages (``mytorch/nn/linear.py``, ``mytorch/optim/sgd.py``,
``models/mlp.py``) that import each other absolutely (``from mytorch.nn.linear import Linear``).
``load_directory(folder)`` loads each module with ``oracles.loader.load_submission`` (the same
filtering, stubs and refusals as a single file), with the folder as the import root, and merges
their names into one namespace (the first module that has a name gives it: packages are loaded
top-down first, as Python imports them, then the leaf modules). Autograders, tests, setup scripts and
notebooks in the folder are not part of the submission and are skipped (listed in a note).

Runs in the sandbox child (the child's ``load`` request with a folder path).
"""

from __future__ import annotations

import types
from pathlib import Path

from oracles.loader import Loaded, LoadError, load_submission

__all__ = ["load_directory", "course_modules", "MAX_MODULES"]

MAX_MODULES = 60
_SKIP_DIRS = ("tests", "test", "autograder", "autograde", "__pycache__", "data", "handin", "docs")
_SKIP_FILES = ("setup.py", "conftest.py", "runner.py")


def _skipped(path: Path, folder: Path) -> bool:
    rel = path.relative_to(folder)
    parts = [p.lower() for p in rel.parts]
    if any(p.startswith((".", "_")) and p != "__init__.py" for p in parts):
        return True
    if any(p in _SKIP_DIRS or "autograder" in p for p in parts[:-1]):
        return True
    name = parts[-1]
    return name in _SKIP_FILES or "autograder" in name or name.startswith("test_") or name.endswith("_test.py")


def _in_package(path: Path, folder: Path) -> bool:
    """Inside a package of the folder (its directory holds an __init__.py), or in a models/ or mytorch/ folder."""
    parent = path.parent
    return parent != folder and ((parent / "__init__.py").exists() or
                                 any(p in ("models", "mytorch") for p in path.relative_to(folder).parts[:-1]))


def course_modules(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """(modules to load, modules skipped): ``__init__.py`` files first (shallow to deep), then the leaves.

    When the folder holds packages, only their modules are the submission (homework part 2 scripts and
    notebooks exported next to them are not); a folder of loose files is taken whole."""
    folder = Path(folder)
    found = sorted(folder.rglob("*.py"))
    keep = [p for p in found if not _skipped(p, folder)]
    if any(_in_package(p, folder) for p in keep):
        keep = [p for p in keep if _in_package(p, folder)]
    skipped = [p for p in found if p not in keep]
    # packages top-down first, as Python imports them (a module that imports its own package, e.g. loss.py
    # doing `from mytorch.nn import Softmax`, only works once the package is initialised), then the leaves
    keep.sort(key=lambda p: (p.name != "__init__.py", len(p.relative_to(folder).parts), str(p)))
    return keep, skipped


def load_directory(path: str, root: str | None = None, allow: tuple[str, ...] = (), project: str | None = None,
                   **kwargs) -> Loaded:
    """Every course module under ``path`` merged into one Loaded; LoadError when none loads."""
    folder = Path(path).resolve()
    modules, skipped = course_modules(folder)
    if not modules:
        raise LoadError("missing", f"no .py modules under {path}: give the folder that holds the package "
                                   f"(e.g. the handout folder with mytorch/ and models/)")
    merged: dict[str, object] = {}
    names: list[str] = []
    notes: list[str] = []
    loaded, failed = [], []
    for file in modules[:MAX_MODULES]:
        try:
            one = load_submission(str(file), root or str(folder), allow, project, **kwargs)
        except LoadError as e:
            if e.kind == "not_allowed":
                raise  # a refused library anywhere in the package refuses the package
            failed.append(f"{file.relative_to(folder)} ({e.kind}: {e.message.splitlines()[0][:120]})")
            continue
        loaded.append(str(file.relative_to(folder)))
        for name, obj in vars(one.impl).items():
            if name not in merged and not isinstance(obj, types.ModuleType):
                merged[name] = obj
        names += [n for n in one.names if n not in names]
        notes += [n for n in one.notes if n not in notes]
    if not loaded:
        raise LoadError("syntax" if any("syntax" in f for f in failed) else "load",
                        "no module of the folder could be loaded: " + "; ".join(failed[:5]))
    notes.insert(0, f"a folder: {len(loaded)} modules loaded as one submission ({', '.join(loaded[:12])}"
                    f"{', ...' if len(loaded) > 12 else ''})")
    if failed:
        notes.append("modules that could not be loaded (their names are missing): " + "; ".join(failed[:8]))
    if skipped:
        notes.append(f"not part of the submission (autograders, tests, setup): "
                     f"{', '.join(str(p.relative_to(folder)) for p in skipped[:8])}"
                     f"{', ...' if len(skipped) > 8 else ''}")
    if len(modules) > MAX_MODULES:
        notes.append(f"only the first {MAX_MODULES} of {len(modules)} modules were loaded")
    names = [n for n in names if n.split(".")[0] in merged]
    return Loaded(types.SimpleNamespace(**merged), notes, names)
