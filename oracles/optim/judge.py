"""Judge one OptimObservation: compare with the oracle, recognise the course's convention, name the bug.

    j = judge(style, case, observed)              # Judgement
    j.verdicts                                    # TensorVerdicts (oracles.compare), check = OPTIM_CHECKS
    j.convention, j.diagnoses                     # the course formula the file follows; what is wrong

What is compared (every tensor through ``oracles.compare.compare_tensor``):

* ``step`` / ``trajectory``: the *displacement* ``p_t - p_0`` after each step, so the tolerance is
  relative to the update, not to the parameter it is added to; the rounding of the parameter
  itself is in the error estimate. Oracle: torch.optim in float64 where the convention is a torch
  rule (directly or by a change of variables, oracles.optim.torch_twin), else the course's own
  formula (oracles.optim.formula; the verdict's oracle says ``formula``).
* ``state``: the state the course exposes (CS231n's config, deeplearning.ai's v and s) against the
  course formula's state; ``init``: the initializers return zeros shaped like the parameters.
* ``in_place`` (Saito: a rebound parameter never reaches the layers), ``side_effects`` (gradients
  or the caller's w changed), ``mini_batches`` (a permutation in the course's order of batches).

Error estimate per tensor: the larger of the rounding measured by running the same formula in
float32 (scaled by eps(dtype) / eps(float32)) and an a priori bound: after s steps, eps(dtype)
times (s |p| + a few operations times the magnitude of every term of the steps so far), the
magnitudes from oracles.optim.formula.magnitudes. A float32 parameter of size 1 cannot carry a
displacement more precisely than its own rounding; the bound says so and no more.

Conventions: a file is judged under the first of its style's documented conventions that
explains every step (oracles.optim.rules.STYLE_RULES).
Diagnosis: the known bugs (rules.BUG_VARIANTS, and every fuzzed hyper-parameter replaced by the
course default) are replayed with the formula oracle; those that reproduce the observation, within
the tolerance of an independent implementation, name the bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oracles.compare import TensorVerdict, compare_tensor
from oracles.diagnose import Diagnosis
from oracles.optim.case import MINI_BATCHES, OptimCase
from oracles.optim.formula import magnitudes, simulate, state_magnitudes
from oracles.optim.observation import OptimObservation
from oracles.optim.rules import BUG_VARIANTS, RULES, Binding, Convention, Variant, binding

__all__ = ["OPTIM_BUG_CLASSES", "Judgement", "judge", "expected_trajectory", "diagnose", "judge_batches"]

OPTIM_BUG_CLASSES: dict[str, str] = {name: text for name, _k, _r, text in BUG_VARIANTS}
OPTIM_BUG_CLASSES.update({
    "hyper_ignored": "a hyper-parameter from the config or constructor is ignored (a hard-coded default is used)",
    "state_not_carried": "the first step is right, later ones are not: the state is not carried over correctly",
    "not_in_place": "parameters rebound to new arrays instead of updated in place (the layers keep the old ones)",
    "init_wrong": "the state initializer does not return zeros shaped like the parameters",
    "state_wrong": "the stored state differs from the course's formula",
    "mutation": "an input (gradient, the caller's w) was modified in place",
    "last_batch_dropped": "the last, partial mini-batch is dropped",
    "extra_batch": "an extra (empty or repeated) mini-batch",
    "samples_lost": "samples lost or duplicated across the mini-batches",
    "x_y_unpaired": "X and Y shuffled with different permutations: samples lose their labels",
    "not_shuffled": "the mini-batches are not shuffled",
    "batch_shape": "a mini-batch has the wrong shape",
    "raised": "the implementation raised an exception",
    "unclassified": "a mismatch no hypothesis explains",
})

# Operations per step whose rounding the a priori bound counts (the addition to p, the step's product and
# quotient, the averages): generous on purpose, the measured float32 rounding usually decides.
_OPS = 8


@dataclass
class Judgement:
    verdicts: list[TensorVerdict] = field(default_factory=list)
    convention: Convention | None = None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    oracle: str = "torch"
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    def failing_checks(self) -> set[str]:
        return {v.check for v in self.verdicts if not v.passed}


# ---------------------------------------------------------------- oracles


def expected_trajectory(case: OptimCase, variant: Variant) -> tuple[list[dict[str, np.ndarray]], str]:
    """(parameters after each step, oracle name): torch.optim where it can run the Variant, else the formula."""
    if variant.torch_expressible(case.rule):
        from oracles.optim import torch_twin

        return torch_twin.trajectory(case, variant), "torch"
    sim = simulate(case.rule, case.typed_params(), case.typed_grads(), case.hyper, variant)
    return sim.trajectory, "formula"


def _p0(case: OptimCase) -> dict[str, np.ndarray]:
    return {k: case.typed(v).astype(np.float64) for k, v in case.params.items()}


def _estimates(case: OptimCase, variant: Variant, exp64: list[dict], hyper: dict | None = None) -> list[
        dict[str, float]]:
    """Per step and parameter: the error a correct implementation in case.dtype may make on the displacement."""
    p0 = _p0(case)
    hyper = case.hyper if hyper is None else hyper
    u = float(np.finfo(case.dtype).eps)
    ratio = u / float(np.finfo(np.float32).eps)
    sim32 = simulate(case.rule, case.typed_params(), case.typed_grads(), hyper, variant, dtype="float32")
    mags = magnitudes(case.rule, p0, case.typed_grads(), hyper, variant)
    out = []
    for s, (e, m) in enumerate(zip(exp64, mags), start=1):
        est = {}
        for k in e:
            measured = 0.0
            if sim32 is not None:
                with np.errstate(all="ignore"):  # a replayed bug may give inf - inf
                    d = sim32.trajectory[s - 1][k].astype(np.float64) - e[k]
                measured = float(np.linalg.norm(d)) * ratio if np.all(np.isfinite(d)) else 0.0
            # each step rounds p_s once (<= u |p_s|, and |p_s| <= |p0| + the steps so far) and its own step's
            # few operations (<= _OPS u |terms|); the terms so far are m - |p0|
            terms = m[k] - np.abs(p0[k])
            apriori = u * float(np.linalg.norm(s * m[k] + _OPS * terms))
            est[k] = max(measured, apriori) if np.isfinite(apriori) else measured
        out.append(est)
    return out


def _state_estimates(case: OptimCase, variant: Variant, sim64) -> list[dict[str, float]]:
    """Per step, "<state>.<param>" -> the error a correct implementation may make on that state (as _estimates)."""
    u = float(np.finfo(case.dtype).eps)
    ratio = u / float(np.finfo(np.float32).eps)
    sim32 = simulate(case.rule, case.typed_params(), case.typed_grads(), case.hyper, variant, dtype="float32")
    mags = state_magnitudes(case.rule, _p0(case), case.typed_grads(), case.hyper, variant)
    out = []
    for s, (st64, mag) in enumerate(zip(sim64.states, mags), start=1):
        est = {}
        for k, states in st64.items():
            for name, a in states.items():
                if not isinstance(a, np.ndarray):
                    continue
                measured = 0.0
                if sim32 is not None:
                    with np.errstate(all="ignore"):
                        d = np.asarray(sim32.states[s - 1][k][name], dtype=np.float64) - a
                    measured = float(np.linalg.norm(d)) * ratio if np.all(np.isfinite(d)) else 0.0
                m = mag[k].get(name) if k in mag else None
                apriori = u * (s + _OPS) * float(np.linalg.norm(m)) if isinstance(m, np.ndarray) else 0.0
                est[f"{name}.{k}"] = max(measured, apriori if np.isfinite(apriori) else 0.0)
        out.append(est)
    return out


# ---------------------------------------------------------------- comparison


def _compare_steps(case: OptimCase, obs_traj, exp_traj, est, *, oracle: str, context: str) -> list[TensorVerdict]:
    p0 = _p0(case)
    out = []
    for s, exp in enumerate(exp_traj, start=1):
        if obs_traj is None or s > len(obs_traj):
            break
        got = obs_traj[s - 1]
        scale = max((float(np.abs(exp[k] - p0[k]).max()) for k in exp if exp[k].size), default=0.0)
        step = []
        for k, e in exp.items():
            a = got.get(k)
            actual = None if a is None else np.asarray(a, dtype=np.float64) - p0[k]
            v = compare_tensor(f"step {s} {k} (p - p0)", actual, e - p0[k], dtype=case.dtype, oracle=oracle,
                               scale=scale, err_est=est[s - 1].get(k), check="step" if s == 1 else "trajectory",
                               context=context)
            step.append(v)
        out.extend(step)
        if any(not v.passed for v in step):
            break  # later steps only repeat the first divergence
    return out


def _matches(case: OptimCase, obs_traj, sim_traj, est: list[dict[str, float]] | None = None) -> bool:
    """Does a replayed Variant reproduce the observation (NaN where it has NaN, the numbers elsewhere)?

    ``est``: per step and parameter, the rounding a correct implementation of that Variant may make (the
    parameter's own rounding dominates when the step is small against it)."""
    if obs_traj is None or sim_traj is None or not obs_traj:
        return False
    p0 = _p0(case)
    for s, (got, sim) in enumerate(zip(obs_traj, sim_traj)):
        scale = max((float(np.nan_to_num(np.abs(sim[k] - p0[k])).max()) for k in sim if sim[k].size), default=0.0)
        for k, e in sim.items():
            a = got.get(k)
            if a is None or np.shape(a) != e.shape:
                return False
            a = np.asarray(a, dtype=np.float64)
            bad_a, bad_e = ~np.isfinite(a), ~np.isfinite(e)
            if not np.array_equal(bad_a, bad_e):
                return False
            keep = ~bad_a
            err = (est[s].get(k) if est is not None and s < len(est) else None)
            if keep.any() and not compare_tensor("x", a[keep] - p0[k][keep], e[keep] - p0[k][keep], dtype=case.dtype,
                                                 oracle="impl", scale=scale, err_est=err).passed:
                return False
    return True


def _error_verdicts(obs: OptimObservation, context: str) -> list[TensorVerdict]:
    return [TensorVerdict(name=fam, check=fam, status="error", context=context, detail=cause)
            for fam, cause in obs.errors.items()]


def _fail(name: str, check: str, detail: str, context: str, oracle: str = "torch") -> TensorVerdict:
    return TensorVerdict(name=name, check=check, status="fail", oracle=oracle, context=context, detail=detail)


def _pass(name: str, check: str, context: str) -> TensorVerdict:
    return TensorVerdict(name=name, check=check, status="pass", context=context)


def judge(style: str, case: OptimCase, obs: OptimObservation, *, convention: Convention | None = None,
          context: str | None = None) -> Judgement:
    """Every check of one observation; the convention the file follows; the diagnosis of what fails.

    ``convention`` forces one (a validate run learns the file's convention from its clearest cases)."""
    ctx = f"case {case.case_id}" if context is None else context
    if case.rule == MINI_BATCHES:
        return judge_batches(case, obs, context=ctx)
    b = binding(style, case.rule)
    j = Judgement()
    j.verdicts.extend(_error_verdicts(obs, ctx))
    candidates = [convention] if convention is not None else list(b.conventions)
    chosen, verdicts, oracle = None, [], "torch"
    for conv in candidates:
        traj, orc = expected_trajectory(case, conv.variant)
        est = _estimates(case, conv.variant, traj)
        vs = _compare_steps(case, obs.trajectory, traj, est, oracle=orc, context=ctx)
        if chosen is None or (all(v.passed for v in vs) and not all(v.passed for v in verdicts)):
            chosen, verdicts, oracle = conv, vs, orc
        if vs and all(v.passed for v in vs):
            break
    j.convention, j.oracle = chosen, oracle
    j.verdicts.extend(verdicts)
    if obs.trajectory and verdicts and all(v.passed for v in verdicts) and b.hypers:
        j.verdicts.append(_pass("hyper-parameters " + ", ".join(b.hypers.values()), "hyperparams", ctx))
    j.verdicts.extend(_state_verdicts(case, obs, b, chosen, ctx))
    j.verdicts.extend(_init_verdicts(case, obs, b, ctx))
    for k in obs.not_in_place:
        j.verdicts.append(_fail(f"params[{k!r}]", "in_place",
                                f"params[{k!r}] was rebound to a new array instead of updated in place: the network's "
                                f"layers keep the old array and never learn (write params[key] -= ..., not "
                                f"params[key] = params[key] - ...)", ctx))
    for what in obs.mutated:
        if what in obs.hygiene:
            continue
        j.verdicts.append(_fail(what, "side_effects", f"{what} was modified in place (the caller's array changed)",
                                ctx))
    if not j.passed:
        j.diagnoses = diagnose(style, case, obs, j, b)
        text = "; ".join(f"{d.bug_class}: {d.message}" for d in j.diagnoses[:2])
        for v in j.verdicts:
            if not v.passed and not v.diagnosis:
                v.diagnosis = text
        if any(d.bug_class == "hyper_ignored" for d in j.diagnoses):
            j.verdicts.append(_fail("hyper-parameters", "hyperparams", j.diagnoses[0].message, ctx))
    return j


def _state_verdicts(case: OptimCase, obs: OptimObservation, b: Binding, conv: Convention | None,
                    ctx: str) -> list[TensorVerdict]:
    if not b.state or obs.state is None or conv is None:
        return []
    sim = simulate(case.rule, case.typed_params(), case.typed_grads(), case.hyper, conv.variant)
    est = _state_estimates(case, conv.variant, sim)
    out = []
    for s, (got, exp) in enumerate(zip(obs.state, sim.states), start=1):
        step = []
        for canon in b.state:
            for k in case.params:
                key = f"{canon}.{k}"
                want = exp[k].get(canon)
                if want is None:
                    continue
                if canon == "t":
                    if key in got and np.ndim(got[key]) == 0 and float(got[key]) != float(want) + max(
                            conv.variant.t_offset, 0):
                        step.append(_fail(f"state {key} after step {s}", "state",
                                          f"t is {float(got[key]):g} after step {s}; the course's formula has "
                                          f"{float(want) + max(conv.variant.t_offset, 0):g}", ctx, "formula"))
                    continue
                if key not in got:
                    continue  # the driver reported the missing entry as an error
                step.append(compare_tensor(f"state {b.state[canon]}[{k}] after step {s}", got[key], want,
                                           dtype=case.dtype, oracle="formula", check="state", context=ctx,
                                           err_est=est[s - 1].get(key)))
        out.extend(step)
        if any(not v.passed for v in step):
            break
    return out


def _init_verdicts(case: OptimCase, obs: OptimObservation, b: Binding, ctx: str) -> list[TensorVerdict]:
    if obs.init is None:
        return []
    out = []
    for key, a in obs.init.items():
        canon, k = key.split(".", 1)
        if np.shape(a) != case.params[k].shape or np.any(a != 0):
            out.append(_fail(f"{b.init} {key}", "init", f"{b.init} returned {key} = "
                             f"{'nonzero values' if np.shape(a) == case.params[k].shape else f'shape {np.shape(a)}'}; "
                             f"expected zeros shaped like {k} {case.params[k].shape}", ctx))
    return out or [_pass(b.init or "init", "init", ctx)]


# ---------------------------------------------------------------- diagnosis


def _hypotheses(case: OptimCase, b: Binding, conv: Convention):
    """(bug class, message, Variant, hyper) for every known deviation from the file's convention (and, after
    those, from the course's other documented formulas: a bug on top of another year's convention)."""
    accepted = {c.variant for c in b.conventions}
    seen: set = set()
    for base in [conv.variant] + [c.variant for c in b.conventions if c is not conv]:
        for name, knobs, rules, text in BUG_VARIANTS:
            if rules is not None and case.rule not in rules:
                continue
            if not RULES[case.rule].stateful and name in ("state_not_stored", "state_shared"):
                continue
            v = base.with_(**knobs)
            if v == base or v in accepted or v in seen:
                continue
            if name == "eps_outside" and not base.eps_inside:
                continue
            seen.add(v)
            yield name, text, v, case.hyper
    base = conv.variant
    for canon, style_name in b.hypers.items():
        default = b.defaults.get(canon)
        # the default, and for eps the constants files write in its place (a real CS231n optim.py: 1e-7)
        for value in dict.fromkeys((default,) + (_EPS_CONSTANTS if canon == "eps" else ())):  # (each once)
            if value is None or abs(case.hyper[canon] - value) <= 1e-12 * abs(value):
                continue
            what = "(the default)" if value == default else "written into the code"
            yield ("hyper_ignored", f"{style_name} = {case.hyper[canon]:.4g} was passed but the file uses "
                   f"{value:g} {what}: a hard-coded value, not the argument", base, {**case.hyper, canon: value})


_EPS_CONSTANTS = (1e-7, 1e-8, 1e-6, 1e-5, 1e-10)


def _simulate_in_layout(style: str, case: OptimCase, hyper: dict, v: Variant):
    """A state shared between parameters mixes them in the layout the file holds them (Saito's W is (n_in, n_out))."""
    from oracles.optim.drivers import style_shape

    params = {k: style_shape(style, k, a) for k, a in case.typed_params().items()}
    grads = [{k: style_shape(style, k, a) for k, a in g.items()} for g in case.typed_grads()]
    sim = simulate(case.rule, params, grads, hyper, v)
    if sim is None:
        return None
    back = [{k: (a.T if k.startswith("W") and style in ("cs231n", "saito") else a).reshape(case.params[k].shape)
             for k, a in step.items()} for step in sim.trajectory]
    return type(sim)(back, sim.states)


def diagnose(style: str, case: OptimCase, obs: OptimObservation, j: Judgement, b: Binding | None = None) -> list[
        Diagnosis]:
    """The bugs that reproduce the observation; structural findings when none does."""
    b = b or binding(style, case.rule)
    conv = j.convention or b.convention
    out: list[Diagnosis] = []
    bad = j.failing_checks()
    if obs.not_in_place:
        out.append(Diagnosis("not_in_place", OPTIM_BUG_CLASSES["not_in_place"], tuple(obs.not_in_place)))
    if "init" in bad:
        out.append(Diagnosis("init_wrong", OPTIM_BUG_CLASSES["init_wrong"]))
    traj_bad = bool(bad & {"step", "trajectory"})
    if traj_bad and obs.trajectory:
        for name, text, v, hyper in _hypotheses(case, b, conv):
            sim = _simulate_in_layout(style, case, hyper, v) if v.shared_state else simulate(
                case.rule, case.typed_params(), case.typed_grads(), hyper, v)
            if sim is not None and _matches(case, obs.trajectory, sim.trajectory,
                                            _estimates(case, v, sim.trajectory, hyper)):
                out.append(Diagnosis(name, text, evidence={"steps": len(obs.trajectory)}))
        if not any(d.bug_class not in ("not_in_place", "init_wrong") for d in out):
            first_ok = "step" not in bad
            if first_ok:
                out.append(Diagnosis("state_not_carried", OPTIM_BUG_CLASSES["state_not_carried"]))
            else:
                out.append(Diagnosis("unclassified", "the update differs from the course's formula from the first "
                                                     "step on; no known bug reproduces it"))
    elif "state" in bad:
        out.append(Diagnosis("state_wrong", OPTIM_BUG_CLASSES["state_wrong"]))
    errs = [f for f in obs.errors if f in ("step", "trajectory")]
    if errs and not out:
        out.append(Diagnosis("raised", obs.errors[errs[0]]))
    if "side_effects" in bad and not out:
        out.append(Diagnosis("mutation", f"{', '.join(obs.mutated)} modified in place", tuple(obs.mutated)))
    return out


# ---------------------------------------------------------------- random_mini_batches


def _course_permutation(m: int, seed: int) -> np.ndarray:
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        return np.random.permutation(m)
    finally:
        np.random.set_state(state)


def judge_batches(case: OptimCase, obs: OptimObservation, *, context: str = "") -> Judgement:
    """random_mini_batches: every sample once, X and Y together, batches of the size asked, the last kept."""
    j = Judgement(oracle="formula")
    j.verdicts.extend(_error_verdicts(obs, context))
    if obs.batches is None:
        return j
    X, Y = _p0(case)["X"], _p0(case)["Y"]
    size, m = int(case.hyper["mini_batch_size"]), X.shape[1]
    want_sizes = [size] * (m // size) + ([m % size] if m % size else [])
    got_sizes = []
    ctx = context

    def fail(cls: str, detail: str) -> Judgement:
        j.verdicts.append(_fail("mini-batches", "mini_batches", detail, ctx, "formula"))
        j.diagnoses.append(Diagnosis(cls, f"{OPTIM_BUG_CLASSES[cls]} ({detail})"))
        j.verdicts[-1].diagnosis = j.diagnoses[-1].message
        return j

    for i, (xb, yb) in enumerate(obs.batches):
        if xb.ndim != 2 or xb.shape[0] != X.shape[0] or yb.ndim != 2 or yb.shape[0] != Y.shape[0] or \
                xb.shape[1] != yb.shape[1]:
            return fail("batch_shape", f"mini-batch {i}: X {xb.shape}, Y {yb.shape}; expected ({X.shape[0]}, k) and "
                                       f"({Y.shape[0]}, k)")
        got_sizes.append(xb.shape[1])
    if got_sizes != want_sizes:
        if got_sizes == want_sizes[:-1] and m % size:
            return fail("last_batch_dropped", f"m = {m}, mini_batch_size = {size}: {len(got_sizes)} batches, the last "
                                              f"{m % size} samples are missing")
        if len(got_sizes) > len(want_sizes):
            return fail("extra_batch", f"m = {m}, mini_batch_size = {size}: sizes {got_sizes}, expected {want_sizes}")
        return fail("samples_lost", f"m = {m}, mini_batch_size = {size}: sizes {got_sizes}, expected {want_sizes}")
    Xs = np.concatenate([b[0] for b in obs.batches], axis=1) if obs.batches else np.zeros((X.shape[0], 0))
    Ys = np.concatenate([b[1] for b in obs.batches], axis=1) if obs.batches else np.zeros((Y.shape[0], 0))
    index = {X[:, i].tobytes(): i for i in range(m)}
    perm = [index.get(Xs[:, i].astype(case.dtype).astype(np.float64).tobytes(), -1) for i in range(Xs.shape[1])]
    if -1 in perm or len(set(perm)) != m:
        return fail("samples_lost", f"the batches hold {len(set(p for p in perm if p >= 0))} of the {m} samples "
                                    f"(some lost, duplicated or changed)")
    if not np.array_equal(Ys, Y[:, perm]):
        return fail("x_y_unpaired", "the Y columns do not follow their X columns")
    course = _course_permutation(m, int(case.hyper["seed"]))
    if m >= 8 and perm == list(range(m)) and not np.array_equal(course, np.arange(m)):
        return fail("not_shuffled", f"the {m} samples come in their original order")
    if not np.array_equal(np.asarray(perm), course):
        j.notes.append("a different permutation than the course's np.random.seed(seed); np.random.permutation(m) "
                       "(fine for training; the notebook's expected output differs)")
    j.verdicts.append(_pass("mini-batches", "mini_batches", ctx))
    for what in obs.mutated:
        j.verdicts.append(_fail(what, "side_effects", f"{what} was modified in place", ctx))
    return j
