"""Validate one student file: load it in the sandbox, fuzz every entry point, judge, explain.

    report = validate_file("student.py")            # ValidationReport
    report.verdict                                  # pass | warn | fail | error
    print(report.render())                          # the readable report
    assert_backprop_matches("student.py", style="nielsen")   # for instructors' own pytest files

Pipeline: load (oracles.sandbox) -> detect style (oracles.styles.detect, or forced) -> for each
entry point draw Cases from its SpecSpace (oracles.strategies.draw_case; batch 1 and larger,
one-hot and labels, large logits, saturated units, near kinks) -> run them in the child ->
compare with the torch oracle (oracles.compare) -> a consistent cost convention the submission
follows (oracles.diagnose.detect_convention) is judged as that convention, not as a bug -> the
submission's own loss against its own gradient (finite differences along random directions) ->
diagnosis (oracles.diagnose) -> the first failing Case shrunk (oracles.shrink) and printed as a
snippet the student can paste. The child never sees an expected value; the parent never trusts
what the child sends.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from reports.validate_report import VERDICTS, Check, ValidationOptions, ValidationReport, worst

__all__ = [
    "VERDICTS",
    "Check",
    "ValidationReport",
    "ValidationOptions",
    "validate_file",
    "assert_backprop_matches",
    "snippet_for",
    "worst",
]

# Modules: validate_report (Check, ValidationReport, render), validate_judge (cases, verdicts, rows),
# validate_losses (loss conventions), validate_snippets (the pasteable smallest case).
# Start-up order (speed, issue 12): this module and validate_report import no numpy; validate_file starts the
# sandbox child and sends it the file first, then starts torch's import in a thread, then imports the rest. The
# child's interpreter, its imports and the file's loading overlap with both, and torch's import (which holds
# the GIL for long stretches: loading its shared libraries) cannot delay the child's start.


def snippet_for(*args, **kwargs):
    """reports.validate_snippets.snippet_for, imported on use (it needs numpy and the drivers' helpers)."""
    from reports.validate_snippets import snippet_for

    return snippet_for(*args, **kwargs)


# ---------------------------------------------------------------- the pipeline


def validate_file(path: str | Path, options: ValidationOptions | None = None, **kw) -> ValidationReport:
    """Validate one submission file; never raises for anything the submission does.

    Raises ValueError only for usage errors (unknown style; the message names the choices)."""
    import threading

    from oracles.sandbox import Sandbox

    o = replace(options or ValidationOptions(), **kw)
    if isinstance(o.allow_imports, str):
        o.allow_imports = (o.allow_imports,)
    o.allow_imports = tuple(o.allow_imports)
    t0 = time.monotonic()
    path = str(path)
    report = ValidationReport(path=path, style=None, style_reason="", checks=[], options=o)
    if o.cases < 1:
        raise ValueError(f"cases={o.cases}: give at least 1 case per entry point")
    if o.style != "auto":  # (the drivers' import: only to check a forced style before the child starts)
        styles = _styles()
        if o.style not in styles.STYLES:
            raise ValueError(f"unknown style {o.style!r}; choose one of auto, {', '.join(styles.STYLES)}")
    with Sandbox(path, root=o.root, allow_imports=o.allow_imports, timeout=o.timeout,
                 memory_mb=o.memory_mb, strict_numpy=o.strict_numpy) as sb:
        # the child first (it loads the file meanwhile), then torch's import (~2 s) in the background, then ours
        sb.start()
        threading.Thread(target=_import_oracle, daemon=True).start()
        from reports.validate_judge import Judge

        styles = _styles()
        info = sb.load()
        report.notes += info.notes
        if not info.ok:
            report.style_reason = "not loaded"
            # the file's own syntax or a refused import fails it; a file bpcheck could not load is an ERROR
            verdict = "fail" if info.kind in ("syntax", "not_allowed") else "error"
            report.checks.append(Check("load", verdict, _load_message(info), bug_class=_load_class(info)))
            report.seconds = time.monotonic() - t0
            return report
        from reports.validate_optim import optimizer_style, validate_optimizers

        opt_style, opt_why = optimizer_style(info.names, o.style)  # optimizer files (issue 11)
        if o.style == "auto":
            style, why = styles.detect(info.names)
            report.style, report.style_reason = style, f"auto: {why}"
            if style is None and opt_style is not None:
                report.style, report.style_reason = opt_style, f"auto: {opt_why}"
            elif style is None:
                # forcing a style cannot help a course part bpcheck does not check: no such advice there
                unchecked = styles.not_checked_part(info.names) is not None
                advice = "" if unchecked else f"; pass --style NAME (one of {', '.join(styles.STYLES)})"
                report.checks.append(Check("style", "error", why + advice,
                                           bug_class="not_supported" if unchecked else "style"))
                report.seconds = time.monotonic() - t0
                return report
            elif opt_style is not None:
                report.style_reason += f"; {opt_why}"
        else:
            report.style, report.style_reason = o.style, "forced with --style"
        if opt_style is None and report.style == "mytorch" and sb.optim_entries("mytorch")[0]:
            opt_style = "mytorch"  # a package's optimizers, imported into the file that gathers it
        spaces, why = sb.entries(report.style)
        n_optim, optim_called, optim_declined = 0, set(), {}
        if opt_style is not None:  # first: its checks count as something checked
            n_before = len(report.checks)
            optim_called, optim_declined = validate_optimizers(sb, report, o, opt_style)
            n_optim = len(report.checks) - n_before
        if not spaces and not n_optim:
            # probing hung or crashed in the submission's code: its fault; nothing to call: bpcheck's limit
            theirs = sb.last_fault in ("timeout", "cpu", "memory", "exit", "killed")
            report.checks.append(Check("entry points", "fail" if theirs else "error",
                                       f"no {report.style} entry point could be run: {why or 'none found'}",
                                       bug_class=sb.last_fault or "style"))
        judge = Judge(sb, report, o)
        judge.names = set(info.names)
        judge.called.update(optim_called)  # optimizers that were checked count as checked (coverage)
        judge.declined.update(optim_declined)  # and those our call did not fit are listed with why
        for entry, space in spaces.items():
            if time.monotonic() - t0 > o.total_budget:
                report.checks.append(Check(f"{entry}: run", "error", f"not run: the submission used up its total "
                                           f"time budget of {o.total_budget:g} s (very slow code)",
                                           bug_class="timeout"))
                continue
            for name, sub in judge.configurations(entry, space):
                judge.entry(name, sub)
        judge.finish()
    report.seconds = time.monotonic() - t0
    return report


def _import_oracle() -> None:
    # in the order the main thread needs them: the case generator (hypothesis), then the oracle (torch)
    try:
        import oracles.strategies  # noqa: F401
        import oracles.torch_autograd  # noqa: F401
    except Exception:  # noqa: BLE001 - the main thread's import reports it properly
        pass


def _styles():
    from oracles import styles

    return styles


def _load_message(info) -> str:
    if info.kind in ("syntax", "python2", "not_allowed"):
        return info.message or info.kind
    return info.message or f"the file could not be loaded ({info.kind})"


def _load_class(info) -> str:
    return {"syntax": "syntax_error", "python2": "python2", "not_allowed": "not_allowed"}.get(info.kind or "", "load")



# ---------------------------------------------------------------- for instructors' pytest files


def assert_backprop_matches(path: str | Path, style: str = "auto", **opts) -> ValidationReport:
    """Validate ``path`` and raise AssertionError with the report's text unless it passes (warnings pass).

    Options as for ``bpcheck validate``: root, cases (default 100), seed, timeout, memory_mb,
    allow_imports. Example, in an instructor's test file::

        from bpcheck import assert_backprop_matches

        def test_student_backprop():
            assert_backprop_matches("submissions/alice/network.py", style="nielsen", cases=30)
    """
    report = validate_file(path, style=style, **opts)
    if report.verdict in ("fail", "error"):
        raise AssertionError(report.render())
    return report
