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
_CONDITIONAL = ("one_hot_only", "batch_only", "large_inputs", "class_absent", "single_sample_only")
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

    cond += conditions([(c, True) for c, _ in failed] + [(c, False) for c in passed])
    cond[:0] = conv_conditions(failed, passed)  # padding-only conv bugs (issue 10): more specific than the above
    per_case = []
    for cls, n in counts.most_common():
        example = next((primary(ds) for _, ds in failed if ds and primary(ds).bug_class == cls),
                       next(primary(ds) for _, ds in failed if ds and cls_of(primary(ds)) == cls))
        per_case.append(Diagnosis(cls, f"{n}/{n_f} failing Cases: {example.message}", example.tensors,
                                  {"cases": n, **example.evidence}))
    # a specific per-case class (e.g. missing_mean, which also only shows for m > 1) explains more
    # than a condition; a condition more than a generic class; a bare exception least
    # Cases of another kind of layer sequence (a file's other entry points, a net built on the faulty layer)
    # fail as a consequence, or not at all: a class that explains every failing Case of its own kind of
    # sequence is as good as one that explains half of them all (a batchnorm layer's missing mean path,
    # while the net around it only shows wrong gradients)
    by_kind: dict[str, set[str]] = {}
    for c, ds in failed:
        by_kind.setdefault(template(c), set()).add(cls_of(primary(ds)) if ds else "")
    whole = {next(iter(v)) for v in by_kind.values() if len(v) == 1}

    def major(d: Diagnosis) -> bool:  # explains at least half the failing Cases, or all of one kind
        return 2 * d.evidence["cases"] >= n_f or (d.bug_class not in _GENERIC and d.bug_class in whole)

    specific = [d for d in per_case if d.bug_class not in _GENERIC]
    generic = [d for d in per_case if d.bug_class in _GENERIC and d.bug_class not in ("raised", "unclassified")]
    # ties between generic classes: the one that says more about where the bug is
    say = ("layer_break", "forward_pass", "bias_only", "zero_grad", "constant_factor", "shape")
    generic.sort(key=lambda d: (-d.evidence["cases"], say.index(d.bug_class) if d.bug_class in say else len(say)))
    rest = [d for d in per_case if d.bug_class in ("raised", "unclassified")]
    return ([d for d in specific if major(d)] + cond + [d for d in generic if major(d)]
            + [d for d in specific if not major(d)] + [d for d in generic if not major(d)] + rest)


_CONDITIONS: tuple[tuple[str, str], ...] = (
    ("class_absent", "fails only on batches that miss the highest class (targets sized from the labels seen, "
                     "e.g. np.eye(y.max() + 1) or np.bincount(y) without minlength, not from the number of classes)"),
    ("single_sample_only", "fails only with batch size 1 (an axis squeezed away, or a 1-d array where a "
                           "(1, n) row was meant)"),
    ("one_hot_only", "fails only with label targets (one-hot pass)"),
    ("batch_only", "fails only with batch size > 1 (single samples pass)"),
    ("large_inputs", "fails only on large-magnitude inputs"),
)


def _class_absent(case: Case) -> bool:
    if case.spec.target != "labels" or not getattr(case.spec, "is_mlp", False):
        return False
    return int(np.max(case.y)) < case.spec.sizes[-1] - 1


_PROPS: dict[str, Callable[[Case], bool]] = {
    "class_absent": _class_absent,
    "single_sample_only": lambda c: c.m == 1,
    "one_hot_only": lambda c: c.spec.target == "labels",
    "batch_only": lambda c: c.m > 1,
    "large_inputs": lambda c: _is_large(c),
}


def template(case: Case) -> str:
    """The kind of network a Case runs: 'mlp', or its layer sequence ('batchnorm', 'affine>batchnorm>relu>...')."""
    spec = case.spec
    # reports/campaign_results.py hands in stand-ins with only target/m/tags/x: one kind, as before
    if getattr(spec, "is_mlp", True) or not callable(getattr(spec, "kinds", None)):
        return "mlp"
    return spec.kinds()


def conditions(outcomes: Sequence[tuple[Case, bool]]) -> list[Diagnosis]:
    """Inputs a bug needs: every failing Case has the property and some passing Cases lack it (the
    valid inputs real code crashes on: a batch without the highest class, a batch of one, label targets).

    Only passing Cases of the kinds of sequence that fail count as evidence: a batch of one that passes
    in a file's affine layer says nothing about its batchnorm layer, which never runs on a batch of one."""
    failed = [c for c, f in outcomes if f]
    kinds = {template(c) for c in failed}
    passed = [c for c, f in outcomes if not f and template(c) in kinds]
    out = []
    if not failed:
        return out
    for cls, msg in _CONDITIONS:
        prop = _PROPS[cls]
        if all(prop(c) for c in failed) and any(not prop(c) for c in passed):
            n_other = sum(not prop(c) for c in passed)
            n_with = sum(prop(c) for c in passed)  # counter-evidence: cases with the property that pass
            if cls == "class_absent" and n_with:
                # targets sized from the labels seen break EVERY batch that misses the highest class: one that
                # passes refutes it (a held-out real softmax_loss without the max shift failed on one large-logit
                # Case that happened to miss a class, and was named class_absent instead of the overflow)
                continue
            out.append(Diagnosis(cls, f"{msg}: all {len(failed)} failing Cases have it and the {n_other} Cases "
                                 f"without it pass", (), {"failing": len(failed), "passing_without": n_other,
                                                          "passing_with": n_with}))
    # the property that fails most often when present first (a batch of one also misses classes)
    out.sort(key=lambda d: -d.evidence["failing"] / (d.evidence["failing"] + d.evidence["passing_with"]))
    return out


def _is_large(case: Case) -> bool:
    return "large_logits" in case.tags or "saturated" in case.tags or float(np.abs(case.x).max()) > 50.0
