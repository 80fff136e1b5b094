"""The kill run: every mutant of the zoo against the property checks, on Cases drawn to expose it.

For each mutant and each of its entry points, Cases are drawn from the entry's SpecSpace in a
fixed cycle of regimes (ordinary, equal widths so that shape-compatible bugs compute instead
of raising, large logits, exact zeros, saturated, tiny, label targets, regularisation), each
Case is run through the style driver and compared with the torch oracle
(oracles.compare.compare_observation: loss, gradients, update, trajectory, side effects) and
screened with finite differences (oracles.finite_diff.screen). A mutant is killed when any check
fails on any Case; the diagnosis is oracles.diagnose over the failing Cases, then across them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.diagnose import Diagnosis, diagnose, diagnose_campaign
from oracles.observation import CHECKS

__all__ = ["COLUMNS", "PLAN", "MutantResult", "plan_cases", "run_mutant", "kill_run"]

COLUMNS = (*CHECKS, "fd_screen")
# (regime for draw_case, tweak): "square" = all widths 3; "labels" / "reg" turn that on when allowed;
# "relu" / "smooth" restrict hidden layers (kink bugs need ReLU, sigma'(a) bugs need sigmoid/tanh);
# "softmax" restricts the loss to softmax cross-entropy where the entry has it
PLAN = (
    (None, None), (None, "square"), ("large_logits", "softmax"), ("exact_zero", "relu"), (None, "labels"),
    ("saturated", "smooth"), (None, "reg"), ("tiny", None), ("exact_zero", "square"), (None, "smooth"),
    ("near_kink", "relu"), ("large_logits", "labels"),
)


@dataclass
class MutantResult:
    name: str
    bug_class: str
    style: str
    description: str
    killed: bool = False
    kills: dict[str, int] = field(default_factory=dict)  # check -> failing Cases
    n_cases: int = 0
    diagnoses: list[Diagnosis] = field(default_factory=list)
    example: str = ""  # one failing verdict's message
    problems: list[str] = field(default_factory=list)  # harness trouble (not the mutant's)
    # checks the unmutated reference also failed on the same Case: false alarms of the checker,
    # never counted as kills (check -> Cases)
    false_alarms: dict[str, int] = field(default_factory=dict)
    smallest: Case | None = None  # the first failing Case, shrunk (oracles.shrink)
    smallest_entry: str = ""

    @property
    def killed_by(self) -> list[str]:
        # optimizer checks (oracles.optim.observation.OPTIM_CHECKS) that are not MLP columns come last
        return [c for c in COLUMNS if self.kills.get(c)] + [c for c in self.kills if c not in COLUMNS and self.kills[c]]

    @property
    def diagnosis(self) -> Diagnosis | None:
        return self.diagnoses[0] if self.diagnoses else None

    @property
    def named(self) -> bool:
        """Does the primary diagnosis name the planted bug class?"""
        return self.diagnosis is not None and self.diagnosis.bug_class == self.bug_class

    def to_dict(self) -> dict:
        d = self.diagnosis
        return {
            "name": self.name,
            "bug_class": self.bug_class,
            "style": self.style,
            "description": self.description,
            "killed": self.killed,
            "killed_by": self.killed_by,
            "kills": _ordered(self.kills),
            "cases": self.n_cases,
            "diagnosis": None if d is None else d.bug_class,
            "diagnosis_message": None if d is None else d.message,
            "diagnosis_names_bug": self.named,
            "example": self.example,
            "problems": list(self.problems),
            "false_alarms": _ordered(self.false_alarms),
            "smallest_case": None if self.smallest is None else {
                "entry": self.smallest_entry, "case": self.smallest.describe(), "case_id": self.smallest.case_id},
        }


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    """Check -> count in COLUMNS order: the same JSON whatever order a set of checks was counted in
    (string hashes differ between processes)."""
    rank = {c: i for i, c in enumerate(COLUMNS)}
    return {c: counts[c] for c in sorted(counts, key=lambda c: (rank.get(c, len(rank)), c))}


def _with_labels(case: Case) -> Case:
    if case.spec.target == "labels" or case.spec.loss not in ("softmax_cross_entropy", "hinge"):
        return case
    return replace(case, spec=replace(case.spec, target="labels"), y=case.labels.astype(np.int64))


def plan_cases(space: SpecSpace, n: int, seed: int, *, dtype: str = "float64") -> list[Case]:
    """n Cases inside space following PLAN (deterministic in seed); tweaks the space forbids are skipped."""
    from oracles.strategies import draw_case

    out = []
    for i in range(n):
        regime, tweak = PLAN[i % len(PLAN)]
        s = seed * 1_000_003 + i
        bounds = {"min_width": 3, "max_width": 3} if tweak == "square" else {}
        sub = _restricted(space, tweak)
        try:
            case = draw_case(sub, s, regime=regime, dtype=dtype, **bounds)
        except ValueError:
            case = draw_case(space, s, dtype=dtype)
        for cand in _tweaked(case, tweak, space):
            if space.allows(cand.spec) is None:
                case = cand
                break
        out.append(case)
    return out


def _restricted(space: SpecSpace, tweak: str | None) -> SpecSpace:
    """space with hidden layers of the wanted kind (and at least one hidden layer), when it allows them."""
    if tweak == "softmax":  # overflow bugs live in the softmax
        outs = tuple(o for o in space.outputs if o[0] == "softmax_cross_entropy")
        return replace(space, outputs=outs) if outs else space
    want = {"relu": ("relu",), "smooth": ("sigmoid", "tanh")}.get(tweak or "")
    if not want:
        return space
    acts = tuple(a for a in want if a in space.hidden_activations)
    if not acts or space.max_layers < 2:
        return space
    return replace(space, hidden_activations=acts, min_layers=max(2, space.min_layers))


def _tweaked(case: Case, tweak: str | None, space: SpecSpace):
    try:
        if tweak == "labels" and "labels" in space.targets:
            yield _with_labels(case)
        if tweak == "reg" and space.allow_reg and not case.spec.reg:
            yield case.with_spec(reg=0.1)
    except ValueError:
        return


def _check_case(style: str, impl, case: Case, entry: str, exp, context: str):
    """(observation, verdicts, failing checks incl. fd_screen, problems) of one implementation on one Case."""
    import oracles.styles as styles
    from oracles.compare import compare_observation
    from oracles.finite_diff import screen

    problems = []
    obs = styles.run(style, impl, case, entry)
    if case.spec.aux_names():  # a dropout mask: the oracle takes the one this implementation drew
        from oracles.torch_autograd import expected as torch_expected

        exp = torch_expected(case, given=obs.aux)
    verdicts = compare_observation(case, obs, exp, context=context)
    failed = {v.check for v in verdicts if not v.passed}
    fd_grads = {n: g for n, g in obs.grads.items() if n in exp.grads}
    if fd_grads:
        try:
            # layer Specs: the rounding a correct implementation carries, as the campaign gives it (without it a
            # float32 run flagged the correct references' conv and norm layers)
            impl_err = None if case.spec.is_mlp else dict(exp.err_est or {})
            if any(r.status == "fail" for r in screen(case, fd_grads, given=obs.aux or None,
                                                      impl_err=impl_err).values()):
                failed.add("fd_screen")
        except Exception as exc:  # noqa: BLE001 - an FD problem is ours, not the implementation's
            problems.append(f"fd screen raised {type(exc).__name__}: {exc}")
    return obs, verdicts, failed, problems


_CONTROL: dict[tuple[str, str, str], frozenset[str]] = {}


def _control(mutant, entry: str, case: Case, exp) -> frozenset[str]:
    """Checks the unmutated reference fails on this Case (cached: mutants of one source share Cases)."""
    key = (mutant.source, entry, case.case_id)
    if key not in _CONTROL:
        try:
            _, _, failed, _ = _check_case(mutant.style, mutant.reference, case, entry, exp, "reference")
        except ValueError:
            failed = set()
        _CONTROL[key] = frozenset(failed)
    return _CONTROL[key]


def run_mutant(
    mutant,
    *,
    cases: int = 12,
    seed: int = 0,
    entries: list[str] | None = None,
    control: bool = True,
    shrink_steps: int = 0,
    dtype: str = "float64",
) -> MutantResult:
    """Kill run of one mutant over every entry point of its implementation (or only ``entries``).

    A check counts as a kill on a Case only when the unmutated reference passes it on the same
    Case; checks the reference fails too are counted in ``false_alarms`` instead. With
    ``shrink_steps`` > 0 the first failing Case is shrunk (at most that many checks) into
    ``smallest``."""
    if (mutant.entry or "").startswith("optim:"):  # an optimizer mutant: its own Cases and judge (issue 11)
        from reports.optim_run import run_optim_mutant

        return run_optim_mutant(mutant, cases=cases, seed=seed, control=control, dtype=dtype)
    import oracles.styles as styles
    from oracles.shrink import narrow
    from oracles.torch_autograd import expected as torch_expected

    res = MutantResult(mutant.name, mutant.bug_class, mutant.style, mutant.description)
    only = entries
    try:
        entries = styles.entry_points(mutant.style, mutant.impl)
    except Exception as exc:  # noqa: BLE001 - report, do not stop the zoo
        res.problems.append(f"entry_points raised {type(exc).__name__}: {exc}")
        entries = []
    if only is not None:
        missing = [e for e in only if e not in entries]
        if missing:
            raise ValueError(f"{mutant.name}: no entry point(s) {missing}; it has {entries}")
        entries = list(only)
    if mutant.entry and mutant.entry in entries:
        entries = [mutant.entry] + [e for e in entries if e != mutant.entry]
    per_case: list[tuple[Case, bool, list[Diagnosis]]] = []
    first_fail: tuple[Case, str, SpecSpace] | None = None
    for k, entry in enumerate(entries):
        try:
            space = styles.spec_space(mutant.style, mutant.impl, entry)
        except Exception as exc:  # noqa: BLE001
            res.problems.append(f"spec_space({entry}) raised {type(exc).__name__}: {exc}")
            continue
        for case in plan_cases(space, cases, seed * 101 + k, dtype=dtype):
            try:
                styles.run(mutant.style, mutant.impl, case, entry)
            except ValueError as exc:
                # outside what the entry runs in a way SpecSpace cannot say (one output unit): narrow it
                case = narrow(case, case.spec.n_layers, 1) or case
                try:
                    styles.run(mutant.style, mutant.impl, case, entry)
                except ValueError:
                    res.problems.append(f"{entry}: {exc}")
                    continue
            try:
                exp = None if case.spec.aux_names() else torch_expected(case)  # aux: in _check_case
            except Exception as exc:  # noqa: BLE001 - an oracle problem is ours, not the mutant's
                res.problems.append(f"torch oracle raised {type(exc).__name__} on {case.describe()}: {exc}")
                continue
            try:
                obs, verdicts, failed, problems = _check_case(
                    mutant.style, mutant.impl, case, entry, exp, f"{mutant.name} {entry}")
            except ValueError as exc:
                res.problems.append(f"{entry}: {exc}")
                continue
            res.problems.extend(problems)
            alarms = failed & _control(mutant, entry, case, exp) if control else set()
            exp = exp if exp is not None else torch_expected(case, given=obs.aux)
            for c in alarms:
                res.false_alarms[c] = res.false_alarms.get(c, 0) + 1
            failed -= alarms
            res.n_cases += 1
            ds: list[Diagnosis] = []
            if failed:
                if first_fail is None:
                    first_fail = (case, entry, space)
                for c in failed:
                    res.kills[c] = res.kills.get(c, 0) + 1
                counted = [v for v in verdicts if v.passed or v.check in failed]
                ds = diagnose(case, counted, obs, exp)
                if not res.example:
                    bad = next((v for v in counted if not v.passed), None)
                    res.example = bad.message if bad is not None else "finite-difference screen failed"
            per_case.append((case, bool(failed), ds))
    res.killed = bool(res.kills)
    res.diagnoses = diagnose_campaign(per_case)
    if shrink_steps > 0 and first_fail is not None:
        res.smallest, res.smallest_entry = _shrunk(mutant, *first_fail, shrink_steps, control), first_fail[1]
    return res


def _shrunk(mutant, case: Case, entry: str, space: SpecSpace, steps: int, control: bool) -> Case:
    """The smallest Case on which the mutant still fails a check that the reference passes."""
    from oracles.shrink import shrink
    from oracles.torch_autograd import expected as torch_expected

    def fails(c: Case) -> bool:
        exp = None if c.spec.aux_names() else torch_expected(c)
        _, _, failed, _ = _check_case(mutant.style, mutant.impl, c, entry, exp, mutant.name)
        if control and failed:
            failed = failed - _control(mutant, entry, c, exp)
        return bool(failed)

    return shrink(case, fails, max_steps=steps, space=space)


def kill_run(
    names: Iterable[str] | None = None,
    *,
    cases: int = 12,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    shrink_steps: int = 0,
    dtype: str = "float64",
    workers: int = 1,
    cluster: str | None = None,
) -> list[MutantResult]:
    """MutantResults for the named mutants (default: the whole zoo), in registry order.

    One task per mutant on a reports.executors.Runner: serial here (workers=1), ``workers`` local
    processes, or the Dask cluster ``cluster``; the results are the same. A mutant whose worker
    died too often comes back with a ``problems`` entry saying it was not run (and is not killed)."""
    import torch

    torch.set_num_threads(1)
    from reference.mutants import MUTANTS
    from reports.executors import Runner, TaskLost

    chosen = list(MUTANTS) if names is None else list(names)
    unknown = [n for n in chosen if n not in MUTANTS]
    if unknown:
        raise ValueError(f"unknown mutant(s) {unknown}; see reference.mutants.MUTANTS")
    tasks = [(name, cases, seed, shrink_steps, dtype) for name in chosen]
    out: list[MutantResult | None] = [None] * len(chosen)
    with Runner(workers, cluster) as runner:
        for k, res in runner.imap_unordered(_run_named, tasks):
            if isinstance(res, TaskLost):
                m = MUTANTS[chosen[k]]
                res_ = MutantResult(m.name, m.bug_class, m.style, m.description)
                res_.problems.append(f"not run: {res.message}")
                res = res_
            out[k] = res
            if progress:
                progress(f"{chosen[k]}: {'killed' if res.killed else 'SURVIVED'}")
    return out  # type: ignore[return-value]


def _run_named(task: tuple) -> MutantResult:
    """One mutant by name (a top-level function: picklable for worker processes and cluster workers)."""
    from reference.mutants import MUTANTS

    name, cases, seed, shrink_steps, dtype = task
    return run_mutant(MUTANTS[name], cases=cases, seed=seed, shrink_steps=shrink_steps, dtype=dtype)
