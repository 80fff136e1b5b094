"""Student-like submissions for the style drivers' tests (and anyone else's).

    from submissions import fixtures, expectation, load
    for path in fixtures("saito"):
        impl, names = load(path)            # a SimpleNamespace of the file's names, + "Class.method" names
        expectation(path)                   # [("warn", "dout_mutated"), ("convention", "log_epsilon")]

The first line of every fixture is ``# expect: <verdict> [<class>][; <verdict> <class> ...]`` with
verdict pass | warn | convention | fail (see README.md).
"""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

__all__ = ["ROOT", "STYLES", "VERDICTS", "fixtures", "expectation", "load"]

ROOT = Path(__file__).resolve().parent
STYLES = ("nielsen", "dlai", "saito", "cs231n")
VERDICTS = ("pass", "warn", "convention", "fail")


def fixtures(style: str | None = None) -> list[Path]:
    """Every fixture file (of one style folder, or all), sorted."""
    styles = STYLES if style is None else (style,)
    return sorted(p for s in styles for p in (ROOT / s).glob("*.py"))


def expectation(path: str | Path) -> list[tuple[str, str]]:
    """The parsed ``# expect:`` line: a list of (verdict, class); class is '' for pass."""
    first = Path(path).read_text().splitlines()[0]
    prefix = "# expect:"
    if not first.startswith(prefix):
        raise ValueError(f"{path}: the first line must be '# expect: pass|warn X|convention X|fail X', got {first!r}")
    out = []
    for part in first[len(prefix):].split(";"):
        words = part.split()
        if not words or words[0] not in VERDICTS or (words[0] != "pass") != (len(words) == 2):
            raise ValueError(f"{path}: cannot read {part.strip()!r}; use 'pass' or '<verdict> <class>'")
        out.append((words[0], words[1] if len(words) > 1 else ""))
    return out


def load(path: str | Path) -> tuple[types.SimpleNamespace, list[str]]:
    """Import a fixture (they define things only) as the sandbox loader presents a file:
    a namespace of its names, and those names plus "Class.method" entries for style detection."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"_fixture_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = [k for k in vars(module) if not k.startswith("__")]
    impl = types.SimpleNamespace(**{k: vars(module)[k] for k in names})
    methods = [
        f"{k}.{a}"
        for k in names
        if isinstance(vars(module)[k], type) and vars(module)[k].__module__ == module.__name__
        for a in dir(vars(module)[k])
        if not a.startswith("__")
    ]
    return impl, names + methods
