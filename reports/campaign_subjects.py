"""Campaign subjects: which trusted implementations a campaign runs and how a --subjects name finds them.

A subject is one entry point of one bundled reference module, of a mutant from ``reference.mutants`` or
of an importable module the user names (``STYLE:package.module[ENTRY]``). Separate from
reports/campaign.py because naming and loading subjects is its own job (the CLI parses names without
running anything), and it depends on nothing else in the campaign.
"""

from __future__ import annotations

import importlib
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Subject", "UnknownSubject", "default_subjects", "mutant_subjects", "parse_subjects", "subject_slug",
           "SKIPPED"]


class UnknownSubject(ValueError):
    """A --subjects name that names nothing; the message lists the valid names."""


@dataclass(frozen=True)
class Subject:
    """One entry point of one trusted implementation. ``module`` is re-resolved in each worker."""

    name: str
    style: str
    module: str  # "reference.nielsen", "mutant:NAME" or "package.module:ATTRIBUTE"
    entry: str

    @property
    def impl(self):
        return _resolve_impl(self.module)


_IMPL_CACHE: dict[str, object] = {}


def _resolve_impl(ref: str):
    if ref in _IMPL_CACHE:
        return _IMPL_CACHE[ref]
    if ref.startswith("mutant:"):
        impl = _mutant_impl(_mutant_registry()[ref[len("mutant:"):]])
    elif ":" in ref:
        mod, attr = ref.split(":", 1)
        impl = getattr(importlib.import_module(mod), attr)
    else:
        impl = importlib.import_module(ref)
    _IMPL_CACHE[ref] = impl
    return impl


def _mutant_registry() -> dict[str, object]:
    """name -> mutant, from reference.mutants.MUTANTS (a dict or a sequence of objects with .name)."""
    try:
        mutants = importlib.import_module("reference.mutants").MUTANTS
    except ModuleNotFoundError as e:
        if e.name != "reference.mutants":
            raise
        return {}
    if isinstance(mutants, dict):
        return dict(mutants)
    return {m.name: m for m in mutants}


def _mutant_impl(m):
    return getattr(m, "impl", m)


def _mutant_entry(m) -> str | None:
    return getattr(m, "entry", None)


def subject_slug(name: str) -> str:
    """A file-name-safe form of a subject name (for cases/<slug>-<caseid>.npz)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def _reference_modules() -> list[str]:
    import pkgutil

    import reference

    skip = {"functions", "mutants"}
    return sorted(
        f"reference.{m.name}"
        for m in pkgutil.iter_modules(reference.__path__)
        if m.name not in skip and not m.name.startswith("_")
    )


def _public_names(impl) -> list[str]:
    """Top-level names plus "Class.method" entries (what oracles.styles.detect reads)."""
    names = getattr(impl, "__all__", None)
    names = list(names) if names else [n for n in dir(impl) if not n.startswith("_")]
    out = list(names)
    for n in names:
        obj = getattr(impl, n, None)
        if isinstance(obj, type):
            out += [f"{n}.{m}" for m in dir(obj) if not m.startswith("_")]
    return out


SKIPPED: list[str] = []  # bundled modules default_subjects() could not load (reported in meta.notes)


def default_subjects() -> list[Subject]:
    """Every bundled reference implementation x every entry point the drivers find in it."""
    from oracles import styles

    subjects = []
    SKIPPED.clear()
    for mod in _reference_modules():
        try:
            impl = _resolve_impl(mod)
        except Exception as e:  # one broken module must not take the whole campaign down: say so instead
            SKIPPED.append(f"{mod} was skipped: importing it raised {_short_exc(e)}")
            continue
        style, _reason = styles.detect(_public_names(impl))
        if style is None:
            continue
        for entry in styles.entry_points(style, impl):
            subjects.append(Subject(f"{style}:{mod}[{entry}]", style, mod, entry))
    from reports.optim_run import optim_subjects  # optimizer rules (issue 11): their own Cases and judge

    for mod in _reference_modules():
        impl = _IMPL_CACHE.get(mod)
        if impl is not None:
            subjects += [Subject(name, style, mod, entry) for name, style, entry in
                         optim_subjects(mod, impl, _public_names(impl))]
    return subjects


def _is_optim(subject: Subject) -> bool:
    return subject.entry.startswith("optim:")


def mutant_subjects(names: Iterable[str] | None = None) -> list[Subject]:
    """Subjects for the named mutants (all when None); a mutant without an entry runs the style's first."""
    from oracles import styles

    registry = _mutant_registry()
    out = []
    for name in registry if names is None else names:
        m = registry[name]
        impl = _mutant_impl(m)
        style = getattr(m, "style", None) or styles.detect(_public_names(impl))[0]
        entry = _mutant_entry(m) or styles.entry_points(style, impl)[0]
        out.append(Subject(f"mutant:{name}", style, f"mutant:{name}", entry))
    return out


_EXPLICIT = re.compile(r"^(?P<style>[a-z0-9_]+):(?P<module>[A-Za-z_][\w.]*(?::[A-Za-z_]\w*)?)\[(?P<entry>[^\]]+)\]$")


def parse_subjects(text: str | None) -> list[Subject]:
    """--subjects NAME,... -> Subjects (defaults when empty). Raises UnknownSubject listing valid names.

    Accepted: an exact default subject name; a style (all its defaults); ``style:module`` (all
    entries of that module); ``mutant:NAME``; ``mutants`` (all);
    ``STYLE:package.module[ENTRY]`` / ``STYLE:package.module:ATTR[ENTRY]`` for trusted importable code.
    """
    defaults = default_subjects()
    if not text or not text.strip():
        return defaults
    chosen: list[Subject] = []
    unknown: list[str] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        found = _match(token, defaults)
        if found is None:
            unknown.append(token)
        else:
            chosen.extend(s for s in found if s not in chosen)
    if unknown:
        mutant_names = sorted(_mutant_registry())
        lines = [f"unknown subject(s): {', '.join(unknown)}.", "Valid subjects:"]
        lines += [f"  {s.name}" for s in defaults]
        if mutant_names:
            lines.append(f"  mutant:NAME with NAME one of: {', '.join(mutant_names)} (or 'mutants' for all)")
        styles_named = ", ".join(sorted({s.style for s in defaults}))
        lines.append(f"  a style name ({styles_named}) selects all its subjects;")
        lines.append("  STYLE:package.module[ENTRY] runs trusted importable code (student files: bpcheck validate)")
        raise UnknownSubject("\n".join(lines))
    return chosen


def _match(token: str, defaults: list[Subject]) -> list[Subject] | None:
    exact = [s for s in defaults if s.name == token]
    if exact:
        return exact
    by_style = [s for s in defaults if s.style == token]
    if by_style:
        return by_style
    by_module = [s for s in defaults if f"{s.style}:{s.module}" == token or s.module == token]
    if by_module:
        return by_module
    if token == "mutants":
        return mutant_subjects() or None
    if token.startswith("mutant:"):
        name = token[len("mutant:"):]
        return mutant_subjects([name]) if name in _mutant_registry() else None
    m = _EXPLICIT.match(token)
    if m:
        try:
            _resolve_impl(m["module"])
        except (ImportError, AttributeError):
            return None
        return [Subject(token, m["style"], m["module"], m["entry"])]
    return None


# one wording for every fault a campaign reports: the subjects' import errors and the cases' faults
def _short_exc(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(e).__name__}: {e}{where}"
