"""The property suite: every reference implementation, through the same drivers as student files,
against torch float64 autograd, finite differences, each other, and itself.

Subjects are the entry points of the reference modules, named as campaigns name them
(``style:module[entry]``). The properties (a check function each, reused by test_wrong_impl.py):

* loss, every exposed gradient (W, b, x, hidden A), one SGD step and the k-step trajectory equal
  torch's, and nothing is mutated in place: one driver run + one oracle call per example,
  ``test_matches_torch_without_side_effects`` (per subject);
* gradients equal finite differences where differentiable (per subject);
* float32 runs pass with float32 tolerances; batch gradients are the mean (or sum) of the one-sample
  gradients; every other subject that supports a Case agrees with the drawn subject.

A subject is asked only about what it exposes (probed once, ``exposes``), and a check fails when a
family it exposed on the probe goes missing: no vacuous passes. Every comparison goes through
``oracles.compare.assert_matches``. On failure the message ends with a replay line: the (shrunk)
failing Case is saved under .hypothesis/bpcheck-cases/ (or $BPCHECK_FAILED_CASES) and
``bpcheck replay PATH --subject NAME`` re-runs it; hypothesis adds its @reproduce_failure blob.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from oracles import styles
from oracles.case import Case, SpecSpace
from oracles.compare import assert_matches
from oracles.observation import Observation, check_of
from oracles.strategies import REGIMES, cases

# module -> the course style it is written in
REFERENCE_MODULES = {
    "reference.nielsen": "nielsen",
    "reference.matrix": "nielsen",
    "reference.layer_net": "saito",
    "reference.layers": "saito",
    "reference.dlai": "dlai",
    "reference.dlai_two_layer": "dlai",
    "reference.cs231n": "cs231n",
}
GRAD_CHECKS = ("grad_W", "grad_b", "grad_x", "grad_hidden")
REPO = Path(__file__).resolve().parents[1]
FAILED_CASES = Path(os.environ.get("BPCHECK_FAILED_CASES", REPO / ".hypothesis" / "bpcheck-cases"))


@dataclass(frozen=True, eq=False)  # identity hashing: impl may be an unhashable namespace
class Subject:
    name: str
    style: str
    impl: object
    entry: str

    @functools.cached_property
    def space(self) -> SpecSpace:
        return styles.spec_space(self.style, self.impl, self.entry)

    def run(self, case: Case) -> Observation:
        return styles.run(self.style, self.impl, _for(self, case), self.entry)

    def supports(self, case: Case) -> bool:
        return self.space.allows(_for(self, case).spec) is None

    def __repr__(self) -> str:  # hypothesis prints this in falsifying examples
        return self.name


def _for(subject: Subject, case: Case) -> Case:
    """The same numbers in the subject's layout (layout is a convention, not data)."""
    layout = subject.space.layout
    return case if case.spec.layout == layout else case.with_spec(layout=layout)


def reference_subjects() -> list[Subject]:
    out = []
    for module, style in REFERENCE_MODULES.items():
        impl = importlib.import_module(module)
        for entry in styles.entry_points(style, impl):
            if styles.spec_space(style, impl, entry).sequences:
                continue  # one-layer entries (Saito's MulLayer ...): their own tests draw layer Cases for them
            out.append(Subject(f"{style}:{module}[{entry}]", style, impl, entry))
    return out


# -- replay ---------------------------------------------------------------------------------------


def replay_line(subject: Subject, case: Case) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", subject.name).strip("_")
    path = case.save(FAILED_CASES / f"{slug}-{case.case_id}.npz")
    return f"replay: bpcheck replay {path} --subject '{subject.name}'  (case seed {case.seed}, {case.tags[0]})"


def _fail(subject: Subject, case: Case, message: str, *also: Subject) -> None:
    # "from None": the message already holds the comparison; the chained original only repeats it.
    replays = "\n".join(replay_line(s, case) for s in (subject, *also))
    raise AssertionError(f"[{subject.name}] {message}\n{replays}") from None


def _matches(subject: Subject, case: Case, observed: Observation, expected: Observation, *, oracle: str,
             checks: tuple[str, ...]) -> None:
    try:
        assert_matches(case, observed, expected, oracle=oracle, checks=checks)
    except AssertionError as e:
        _fail(subject, case, str(e))  # re-raised from inside: see _fail


# -- what a subject exposes ------------------------------------------------------------------------


def families(obs: Observation) -> set[str]:
    """The check families an observation answers."""
    out = {check_of(k) for k in obs.grads}
    if obs.loss is not None:
        out.add("loss")
    if obs.updated is not None:
        out.add("update")
    if obs.trajectory is not None:
        out.add("trajectory")
    return out


@functools.cache
def exposes(subject: Subject) -> frozenset[str]:
    """What the subject answers on an ordinary case of its space (probed once)."""
    from oracles.strategies import draw_case

    case = draw_case(subject.space, 0, min_batch=3, min_layers=max(2, subject.space.min_layers),
                     max_layers=max(2, subject.space.min_layers))
    obs = subject.run(case)
    return frozenset(families(obs) | set(obs.errors))


def _require(subject: Subject, case: Case, obs: Observation, wanted: set[str]) -> None:
    """No vacuous passes: a subject that exposed a family on the probe must expose it here too."""
    if case.spec.n_layers < 2:
        wanted = wanted - {"grad_hidden"}  # no hidden layer, no hidden gradient
    missing = (wanted & exposes(subject)) - families(obs) - set(obs.errors)
    if missing:
        _fail(subject, case, f"exposes no {sorted(missing)} on this case (it did on the probe case)")


# -- the properties (each raises AssertionError with a readable message and a replay line) ---------


TORCH_CHECKS = ("loss", *GRAD_CHECKS, "update", "trajectory", "side_effects")


def check_matches_torch(subject: Subject, case: Case, checks: tuple[str, ...] = TORCH_CHECKS) -> None:
    """One run, one torch oracle call, every asked family compared (the tolerance follows the dtype)."""
    from oracles.torch_autograd import expected

    obs = subject.run(case)
    _require(subject, case, obs, set(checks) - {"side_effects"})
    _matches(subject, case, obs, expected(case), oracle="torch", checks=checks)


def check_loss_matches_torch(subject: Subject, case: Case) -> None:
    check_matches_torch(subject, case, ("loss",))


def check_grads_match_torch(subject: Subject, case: Case) -> None:
    check_matches_torch(subject, case, GRAD_CHECKS)


def check_grads_match_finite_differences(subject: Subject, case: Case) -> None:
    from oracles import finite_diff

    obs = subject.run(case)
    _require(subject, case, obs, {"grad_W", "grad_b"})
    names = [k for k in obs.grads if k[0] in "Wb" or k == "x"]
    fd = finite_diff.full(case, names=names)
    # Elements where a kink lies within the step are "not differentiable here": both sides are
    # zeroed there (keeping shapes and indices for the message); the rest is judged.
    fd_grads, observed, est = {}, {}, {}
    for k in names:
        actual = np.asarray(obs.grads[k], dtype=np.float64)
        keep = ~np.asarray(fd.nondiff.get(k, np.zeros(fd.grads[k].shape, bool)), dtype=bool)
        if not keep.any():
            continue
        fd_grads[k] = np.where(keep, fd.grads[k], 0.0)
        observed[k] = np.where(keep, actual, 0.0) if actual.shape == keep.shape else actual
        est[k] = fd.norm_err_est(k)
    exp = Observation(grads=fd_grads, err_est=est)
    _matches(subject, case, Observation(grads=observed, errors=obs.errors), exp, oracle="fd",
             checks=("grad_W", "grad_b", "grad_x"))


def check_sgd_step_matches_torch(subject: Subject, case: Case) -> None:
    check_matches_torch(subject, case, ("update",))


def check_trajectory_matches_torch(subject: Subject, case: Case) -> None:
    check_matches_torch(subject, case, ("trajectory",))


def check_batch_is_reduction_of_samples(subject: Subject, case: Case) -> None:
    """Batch gradients = mean (or sum) over samples of the one-sample gradients.

    The L2 term belongs to the batch once, so it is taken out of each one-sample gradient before
    summing and put back once. Rows of dX and dA are per sample: the batch's row i is sample i's
    gradient divided by m for a mean."""
    batch = subject.run(case)
    _require(subject, case, batch, set(GRAD_CHECKS))
    m, reg, mean = case.m, case.spec.reg, case.spec.reduction == "mean"
    singles = [subject.run(dataclasses.replace(case, x=case.x[i : i + 1], y=case.y[i : i + 1])) for i in range(m)]
    for i, s in enumerate(singles):
        if s.errors:
            _fail(subject, case, f"sample {i} alone: {s.errors}")
    agg: dict[str, np.ndarray] = {}
    for k in batch.grads:
        if k[0] in "Wb":
            data = [np.asarray(s.grads[k], dtype=np.float64) for s in singles]
            if k[0] == "W" and reg:
                W = case.typed(case.params[k]).astype(np.float64)
                data = [g - reg * W for g in data]
            total = np.sum(data, axis=0)
            agg[k] = (total / m if mean else total) + (reg * case.typed(case.params[k]).astype(np.float64)
                                                       if k[0] == "W" and reg else 0.0)
        else:  # x, A*: one row per sample
            rows = np.concatenate([np.asarray(s.grads[k], dtype=np.float64) for s in singles], axis=0)
            agg[k] = rows / m if mean else rows
    from oracles.torch_autograd import expected

    # Both sides round: torch's measured conditioning of each tensor is the allowance (see check_agree).
    est = expected(case).err_est
    _matches(subject, case, Observation(grads=dict(batch.grads)), Observation(grads=agg, err_est=est), oracle="impl",
             checks=GRAD_CHECKS)


def check_no_side_effects(subject: Subject, case: Case) -> None:
    obs = subject.run(case)
    if obs.errors:
        _fail(subject, case, f"the run failed: {obs.errors}")
    _matches(subject, case, obs, Observation(), oracle="torch", checks=("side_effects",))


def check_agree(subject: Subject, others: list[Subject], case: Case) -> None:
    """Every other subject that supports the case answers what this one answers."""
    from oracles.torch_autograd import expected

    mine = subject.run(case)
    if mine.errors:
        _fail(subject, case, f"the run failed: {mine.errors}")
    # Two correct implementations differ by their rounding: torch's measured error estimate for this
    # Case (the conditioning of each tensor) is the allowance, as it is against torch itself.
    mine = dataclasses.replace(mine, err_est=expected(case).err_est)
    for other in others:
        theirs = other.run(case)
        try:
            assert_matches(case, theirs, mine, oracle="impl",
                           checks=("loss", *GRAD_CHECKS, "update", "trajectory"))
        except AssertionError as e:
            _fail(subject, case, f"{other.name} disagrees with {subject.name}:\n{e}", other)


# -- the tests ---------------------------------------------------------------------------------------
#
# Cost model (2 cores): one example is one driver run plus one oracle call, ~10-40 ms. The torch and
# finite-difference properties run per subject (every subject gets the profile's max_examples); the
# properties that need several runs per example (agreement, per-sample reduction) and the float32
# property draw the subject as part of the example, so they get max_examples in all.

SUBJECTS = reference_subjects()


def _ids(subjects):
    return [s.name for s in subjects]


def _subject_and_case(data, subjects=None, **bounds) -> tuple[Subject, Case]:
    subject = data.draw(st.sampled_from(subjects or SUBJECTS), label="subject")
    return subject, data.draw(cases(space=subject.space, **bounds), label="case")


def test_every_reference_module_has_subjects():
    modules = {s.name.split(":")[1].split("[")[0] for s in SUBJECTS}
    assert modules == set(REFERENCE_MODULES), f"no entry points found in {set(REFERENCE_MODULES) - modules}"


@pytest.mark.parametrize("subject", SUBJECTS, ids=_ids(SUBJECTS))
@given(data=st.data())
def test_matches_torch_without_side_effects(subject, data):
    """Loss, every exposed gradient (W, b, x, hidden A), one SGD step and the k-step trajectory equal
    torch float64 autograd's (torch.optim.SGD's step), and no argument or stored parameter is mutated."""
    check_matches_torch(subject, data.draw(cases(space=subject.space), label="case"))


@pytest.mark.parametrize("subject", SUBJECTS, ids=_ids(SUBJECTS))
@given(data=st.data())
def test_grads_match_finite_differences(subject, data):
    # Small nets: full finite differences cost four forwards per parameter.
    # large_logits left out: at logits ~1e3 a saturated softmax has gradients ~1e-160 that central
    # differences cannot resolve, and the FD error estimate (floored by the loss value, which is 0
    # there) does not yet say so. Reported to the oracles engineer; torch covers that regime.
    regimes = tuple(r for r in REGIMES if r != "large_logits")
    case = data.draw(cases(space=subject.space, max_width=8, max_batch=8, regimes=regimes, steps=1), label="case")
    check_grads_match_finite_differences(subject, case)


@given(data=st.data())
def test_float32_matches_torch_with_float32_tolerances(data):
    subject, case = _subject_and_case(data, dtypes=("float32",))
    check_matches_torch(subject, case)


@given(data=st.data())
def test_batch_gradient_is_reduction_of_sample_gradients(data):
    subject, case = _subject_and_case(data, min_batch=2, max_batch=6, steps=1)
    check_batch_is_reduction_of_samples(subject, case)


@given(data=st.data())
def test_implementations_agree(data):
    subject, case = _subject_and_case(data, steps=2)
    others = [s for s in SUBJECTS if s is not subject and s.supports(case)]
    assume(others)
    check_agree(subject, others, case)
