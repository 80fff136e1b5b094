"""What a file defines itself, as opposed to what it only imports.

A file is judged on its own code. CS231n's ``fc_net.py`` does ``from cs231n.layers import *`` and
``from cs231n.layer_utils import *``: every layer function and the fast-layer sandwiches then sit in its
namespace, but they belong to ``layers.py`` / ``fast_layers.py`` (judged when that file is validated) or
to the course (``fast_layers.py``, ``layer_utils.py``: handed out, never written). Checking them in the
net's file blamed a correct ``fc_net.py`` for the course's missing Cython extension (NameError
``col2im_6d_cython``) and for ``layers.py``'s bugs. Imported code is still *used*: the net calls it,
and a wrong result shows in the net's own checks.

Numpy only: this runs inside the sandbox child.
"""

from __future__ import annotations

import sys
import types

from oracles.styles._common import get
from oracles.styles._coverage import _home_module

__all__ = ["home_module_name", "is_own", "own_entries", "EXTENSION_NAMES", "missing_extension", "unjudgeable",
           "stubbed_module", "UNWRITTEN"]


def home_module_name(impl) -> str | None:
    """The name of the module impl's names come from (None when it cannot be told, e.g. a mutant namespace
    assembled from several modules: then everything counts as its own, as before)."""
    mod = _home_module(impl)
    name = getattr(mod, "__name__", None)
    # a namespace assembled in memory (our mutants bundle several reference modules into one ModuleType) is
    # no file: only an imported module that defines something itself tells its own code from borrowed code
    if not isinstance(name, str) or sys.modules.get(name) is not mod:
        return None
    if not any(isinstance(v, (types.FunctionType, type)) and getattr(v, "__module__", None) == name
               for v in vars(mod).values()):
        return None
    return name


def is_own(impl, name: str, home: str | None = None) -> bool:
    """True unless impl's ``name`` is a function or class defined in another module."""
    home = home_module_name(impl) if home is None else home
    value = get(impl, name)
    if home is None or not isinstance(value, (types.FunctionType, type)):
        return True
    return getattr(value, "__module__", None) == home


def own_entries(impl, entries: list[str], units_of) -> list[str]:
    """The entries at least one of whose units (``units_of(entry) -> names``) the file defines itself.

    An entry whose units are unknown (empty) is kept."""
    home = home_module_name(impl)
    if home is None:
        return list(entries)
    out = []
    for e in entries:
        units = [u for u in units_of(e) if get(impl, u) is not None]
        if not units or any(is_own(impl, u, home) for u in units):
            out.append(e)
    return out


# The compiled Cython extension of CS231n assignment 2 (cs231n/im2col_cython.pyx, built with
# `python setup.py build_ext --inplace` in the cs231n folder). Course code such as fast_layers.py imports
# these names inside try/except ImportError, so without a build they are simply undefined.
EXTENSION_NAMES = ("col2im_6d_cython", "im2col_cython", "col2im_cython")


def missing_extension(text: str) -> str | None:
    """The reason a check cannot be run when an error text is a NameError for the unbuilt extension."""
    for n in EXTENSION_NAMES:
        if f"NameError: name '{n}' is not defined" in text:
            return (f"not checked: needs the course's compiled extension ({n} is undefined: build it with "
                    f"`python setup.py build_ext --inplace` in the cs231n folder)")
    return None


# what a driver says of a function left as the course's skeleton in a part the course does not grade
UNWRITTEN = "is not written (the notebook's optional, ungraded exercise)"


def unjudgeable(text: str) -> str | None:
    """Why an error text is not the submission's fault, or None: the course's unbuilt extension, or a module the
    file imports that bpcheck replaced with a stub because it was not given with it (StubError, import_guard).
    Such a check cannot be judged here: ERROR, never FAIL. A stub standing for a refused autograd library (torch
    imported by a helper) is the submission's own doing and stays a FAIL."""
    if (why := missing_extension(text)) is not None:
        return why
    if UNWRITTEN in text:  # deeplearning.ai course 5's optional backward left as the notebook hands it
        return "not checked: the optional (ungraded) backward is not written"
    if stubbed_module(text):
        return "not checked: a module the file imports is not available here (see the message for the fix)"
    return None


def stubbed_module(text: str) -> bool:
    """Whether an error text is a call into a module bpcheck stubbed because it was not given with the file (its
    message names the fix). A stub standing for a refused autograd library says otherwise and is not this."""
    return "StubError:" in text and "is not available here" in text
