"""Across Cases: bugs that only show on some inputs (label targets, batch > 1, large inputs)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import Diagnosis
from oracles.diagnose.conv import conv_conditions
from oracles.diagnose.core import primary

# Campaign-level classes, and per-case classes too generic to beat them.
_CONDITIONAL = ("one_hot_only", "batch_only", "large_inputs")
_GENERIC = {"unclassified", "raised", "shape", "forward_pass", "layer_break", "bias_only", "constant_factor",
            "zero_grad"}


# ---- across Cases --------------------------------------------------------------------------


def diagnose_campaign(results: Iterable[tuple[Case, bool, Sequence[Diagnosis]]]) -> list[Diagnosis]:
    """Patterns across Cases: ``results`` holds (case, failed, diagnoses of that case).

    Reports bugs that only show on some inputs (label targets, batch > 1, large inputs) when the
    failing Cases all have the property and some passing Cases lack it; then the per-Case bug
    classes by how many failing Cases they explain. The most specific explanation comes first.
    """
    results = list(results)
    failed = [(c, ds) for c, f, ds in results if f]
    passed = [c for c, f, _ in results if not f]
    if not failed:
        return []
    n_f = len(failed)
    seen = {primary(ds).bug_class for _, ds in failed if ds}

    def cls_of(d: Diagnosis) -> str:
        # an update stepped m times too far explains itself by the missing 1/m other cases show directly
        step = d.evidence.get("step_class") if d.bug_class == "update_only" else None
        return step if step in seen else d.bug_class

    counts = Counter(cls_of(primary(ds)) for _, ds in failed if ds)
    cond: list[Diagnosis] = []

    def only(prop: Callable[[Case], bool], cls: str, msg: str) -> None:
        if all(prop(c) for c, _ in failed) and any(not prop(c) for c in passed):
            n_other = sum(not prop(c) for c in passed)
            cond.append(Diagnosis(cls, f"{msg}: all {n_f} failing Cases have it and the {n_other} Cases without "
                                  f"it pass", (), {"failing": n_f, "passing_without": n_other}))

    only(lambda c: c.spec.target == "labels", "one_hot_only", "fails only with label targets (one-hot pass)")
    only(lambda c: c.m > 1, "batch_only", "fails only with batch size > 1 (single samples pass)")
    only(_is_large, "large_inputs", "fails only on large-magnitude inputs")
    cond[:0] = conv_conditions(failed, passed)  # padding-only conv bugs (issue 10): more specific than the above
    per_case = []
    for cls, n in counts.most_common():
        example = next((primary(ds) for _, ds in failed if ds and primary(ds).bug_class == cls),
                       next(primary(ds) for _, ds in failed if ds and cls_of(primary(ds)) == cls))
        per_case.append(Diagnosis(cls, f"{n}/{n_f} failing Cases: {example.message}", example.tensors,
                                  {"cases": n, **example.evidence}))
    # a specific per-case class (e.g. missing_mean, which also only shows for m > 1) explains more
    # than a condition; a condition more than a generic class; a bare exception least
    def major(d: Diagnosis) -> bool:  # explains at least half the failing Cases
        return 2 * d.evidence["cases"] >= n_f

    specific = [d for d in per_case if d.bug_class not in _GENERIC]
    generic = [d for d in per_case if d.bug_class in _GENERIC and d.bug_class not in ("raised", "unclassified")]
    # ties between generic classes: the one that says more about where the bug is
    say = ("layer_break", "forward_pass", "bias_only", "zero_grad", "constant_factor", "shape")
    generic.sort(key=lambda d: (-d.evidence["cases"], say.index(d.bug_class) if d.bug_class in say else len(say)))
    rest = [d for d in per_case if d.bug_class in ("raised", "unclassified")]
    return ([d for d in specific if major(d)] + cond + [d for d in generic if major(d)]
            + [d for d in specific if not major(d)] + [d for d in generic if not major(d)] + rest)


def _is_large(case: Case) -> bool:
    return "large_logits" in case.tags or "saturated" in case.tags or float(np.abs(case.x).max()) > 50.0
