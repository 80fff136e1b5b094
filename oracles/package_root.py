"""Where a submission's imports resolve: its package, its root folder, its helpers next to it.

A file inside a package (``cs231n/classifiers/fc_net.py``) imports its siblings relatively
(``from ..layers import *``) or by the package's name (``from cs231n.layers import *``); a Saito file
(``ch05/two_layer_net.py``) appends ``os.pardir`` to ``sys.path`` and imports ``common.layers``. Without
``--root`` the root is found here:

* the ``__init__.py`` chain above the file gives the package (``cs231n.classifiers``) and the root
  (the folder holding ``cs231n/``); a relative import that climbs higher than the chain (a folder
  without ``__init__.py``, as in the 2023 CS231n assignments) extends the package upwards;
* every absolute import of a name that is not the standard library and not installed adds the
  nearest ancestor folder (up to ``ANCESTORS`` levels) holding a folder or file of that name.

Names that resolve to the learner's own files are the learner's code, even when a refused library
has the same name (a local ``micrograd/`` is not the micrograd package): ``local_roots``.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ANCESTORS", "ImportContext", "import_context", "local_roots"]

ANCESTORS = 3


@dataclass
class ImportContext:
    dirs: list[Path]  # where the submission's own modules are searched, in order
    package: str | None  # the file's package (None: a synthetic one for `from .x import y` next to it)
    root: Path  # the folder the package (or the file) sits in
    found: list[str] = field(default_factory=list)  # how the root was found, for a note


def _ident(name: str) -> bool:
    return name.isidentifier()


def _max_relative_level(tree: ast.AST) -> int:
    return max((n.level for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)), default=0)


def _absolute_roots(tree: ast.AST) -> list[str]:
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            out += [a.name.split(".")[0] for a in n.names]
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            out.append(n.module.split(".")[0])
    return list(dict.fromkeys(out))


def _provides(folder: Path, name: str) -> bool:
    return (folder / name).is_dir() or (folder / f"{name}.py").is_file()


def _installed(name: str) -> bool:
    if name in sys.stdlib_module_names or name in sys.builtin_module_names:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def import_context(file: Path, tree: ast.AST, root: Path | None = None) -> ImportContext:
    """The search folders and the package of ``file`` (``root``: the user's --root, if any)."""
    file = file.resolve()
    if root is not None:
        root = root.resolve()
        package = None
        if file.parent != root and root in file.parents:
            parts = file.parent.relative_to(root).parts
            if all(_ident(p) for p in parts):
                package = ".".join(parts)
        dirs = [root] + ([file.parent] if file.parent != root else [])
        # the folders the file's own package chain and imports point to still count: a root one level
        # above the package (grade's student folder, an instructor's guess) must not stub the learner's
        # cs231n/ that `from cs231n.classifiers.linear_svm import ...` means
        found = import_context(file, tree)
        return ImportContext(list(dict.fromkeys(dirs + found.dirs)), package, root)

    # the __init__.py chain, extended upwards as far as the file's relative imports climb
    parts: list[str] = []
    top = file.parent
    while (top / "__init__.py").is_file() and _ident(top.name) and top.parent != top:
        parts.insert(0, top.name)
        top = top.parent
    found = []
    if parts:
        found.append(f"package {'.'.join(parts)} (its __init__.py files)")
    need = _max_relative_level(tree)
    extended = False
    while len(parts) < need and _ident(top.name) and top.parent != top:
        parts.insert(0, top.name)
        top = top.parent
        extended = True
    if extended:
        found.append(f"package {'.'.join(parts)} (the file's relative imports)")
    dirs = [top] if parts else [file.parent]
    if parts:
        dirs.append(file.parent)
    # absolute imports of the learner's own modules above the file (Saito's sys.path.append(os.pardir))
    for name in _absolute_roots(tree):
        if any(_provides(d, name) for d in dirs) or _installed(name):
            continue
        for anc in list(file.parents)[1:ANCESTORS + 1]:
            if _provides(anc, name):
                dirs.append(anc)
                found.append(f"{name} found in {anc.name}/")
                break
    return ImportContext(list(dict.fromkeys(dirs)), ".".join(parts) or None, top, found)


def local_roots(names, dirs: list[Path]) -> set[str]:
    """Which of these top-level module names the learner's own folders provide."""
    return {n for n in names if any(_provides(d, n) for d in dirs)}
