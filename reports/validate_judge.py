"""The judge of ``bpcheck validate``: cases per entry point, verdicts per check family, rows to Checks.

One _Judge per submission. ``entry`` draws the Cases of an entry point and runs them in the child
(the oracle is computed meanwhile); ``judge_entry`` compares, learns the file's convention, and
folds each case into a row (entry point x check family); ``finish`` runs the own-loss self
checks, then turns rows into Checks: the verdict, the diagnosis, the shrunk case and its snippet.

Mixed in: validate_rows.RowsMixin (a row to a Check), validate_selfcheck.SelfCheckMixin (the own-loss
check) and validate_finish.FinishMixin (``finish``: rows to Checks and the report-wide checks).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

import numpy as np

from oracles.case import Case
from oracles.observation import CHECKS, Observation
from oracles.styles._configs import REG_ON, configured, split_entry, wants_reg
from oracles.styles.own_code import missing_extension, stubbed_module, unjudgeable
from reports.validate_finish import FinishMixin
from reports.validate_losses import loss_convention
from reports.validate_report import _RANK, ValidationOptions, ValidationReport
from reports.validate_rows import _STRESS, RowsMixin, _Row, _short
from reports.validate_selfcheck import SelfCheckMixin

__all__ = ["Judge"]

HIDDEN = "hidden"  # the judge's configuration key for a whole net's hidden activation

# Regimes cycled over the case index: mostly ordinary, then the stress regimes.
_REGIMES = (None, None, None, None, None, None, "tiny", "large_logits", "saturated", "near_kink")
_SELF_CHECK_CASES = 3  # cases per entry point for the own-loss-vs-own-gradient check
# Batches of 1..8: batch-size bugs (a missing 1/m, a bias not summed) show from m = 2, and a per-sample
# style (Nielsen) pays for every sample in the child.
_MAX_BATCH = 8
_OWN_LOSS_CASES = 20  # the child reports its own loss for the first cases only (candidates for the above)
_FAULT_TEXT = {
    "timeout": "time limit",
    "cpu": "CPU time limit",
    "memory": "memory limit",
    "exit": "exited",
    "killed": "child killed",
    "exception": "raised",
    "protocol": "malformed answer",
    "patched": "numpy monkey-patched",
    "not_run": "not run",
    "empty": "nothing to compare",
}
# Faults of bpcheck's own making (the rest are the submission's: a crash, a timeout, a memory bomb).
_OUR_FAULTS = ("protocol",)

# the families a course convention (a factor on the cost, reg for 0.5 reg) can explain
_CONVENTION_FAMILIES = frozenset({"loss", "grad_W", "grad_b", "grad_x", "grad_hidden", "update", "trajectory"})



def _oracle_loading() -> bool:
    """The torch oracle is not importable without waiting: its import (a background thread's, started by
    validate_file or the CLI) has not finished, or has not started."""
    import sys

    module = sys.modules.get("oracles.torch_autograd")
    return module is None or bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


class Judge(RowsMixin, SelfCheckMixin, FinishMixin):
    def __init__(self, sb, report: ValidationReport, o: ValidationOptions) -> None:
        self.sb, self.report, self.o = sb, report, o
        self.style = report.style
        self.rows: dict[tuple[str, str], _Row] = {}
        self.notes: list[str] = []
        self.output_entries: dict[str, int] = {}
        self.patched: set[str] = set()
        self.names: set[str] = set()
        self.oracle_cache: dict = {}
        self.shrunk: dict = {}
        self.denied: set[str] = set()
        self.pending: list = []  # entries run but not judged yet (judged while the child works)
        self.self_checks: list = []  # (entry, cases): need the child, so after every entry has run
        self.conv_cases: Counter = Counter()
        self.entry_cases: Counter = Counter()
        self.called: set[str] = set()  # the file's units that ran while checks ran (coverage)
        self.declined: dict[str, str] = {}  # unit -> why no driver called it
        self.conventions_by_entry: dict = {}
        self.saturation_notes: dict[str, list[str]] = {}
        self.case_calls: dict[tuple[str, str], dict] = {}  # (entry, case id) -> Observation.calls (snippets)
        self.entry_calls: dict[str, dict] = {}  # entry -> purpose -> a bound call seen on any of its Cases

    @property
    def oracle(self):
        # imported on first use, inside the first wait for the child: the child starts on the cases
        # while torch is still loading in the background thread
        from oracles import torch_autograd

        return torch_autograd

    # -- cases

    def draw(self, entry: str, space) -> list[Case]:
        from oracles.strategies import draw_case

        cases = []
        # One seed stream for every entry point: entry points with the same spec space get the same
        # Cases (and the oracle's answers are cached). A single component run among reference parts
        # (fn:<name>, layer:<Class>) needs fewer Cases (a tenth, at least 10): the assembled entry points
        # exercise it fully.
        base = (self.o.seed * 1_000_003) % (2**62)
        n = self.o.cases if ":" not in entry else min(self.o.cases, max(10, self.o.cases // 10))
        if split_entry(entry)[1]:
            # another configuration of the same code (a cost class, an activation, L2 on): a quarter
            n = min(self.o.cases, max(10, self.o.cases // 4))
        reg = wants_reg(entry)
        for i in range(n):
            regime = _REGIMES[i % len(_REGIMES)]
            try:
                case = draw_case(space, base + i, regime=regime, max_batch=_MAX_BATCH)
            except ValueError:
                try:
                    case = draw_case(space, base + i, max_batch=_MAX_BATCH)
                except ValueError as e:
                    self.notes.append(f"{entry}: could not draw a case ({e})")
                    break
            if reg and not case.spec.reg:
                # L2 on in every case of this configuration: log-uniform in [1e-3, 0.1], from the case's seed
                r = float(10 ** np.random.default_rng([case.seed, 0x12E6]).uniform(-3, -1))
                case = case.with_spec(reg=float(f"{r:.3g}"))
            cases.append(case)
        if space.layout == "rows" and (entry == "layers" or ":" in entry):
            # every third Case hands affine layers an (m, p, q) batch: Affine/affine_forward must reshape it
            # (layer-level entry points only: whole nets such as CS231n assignment 1's take 2-d X)
            cases = [replace(c, tags=c.tags + ("nd_input",)) if i % 3 == 2 else c for i, c in enumerate(cases)]
        return cases

    def configurations(self, entry: str, space) -> list[tuple[str, object]]:
        """(entry name, space) to judge, one configuration per line so a bug in one says which (issue 9):
        L2 on is its own line, and so is every hidden activation a whole net offers (MultiLayerNet's
        activation='sigmoid', FullyConnectedNet's activation=...); the plain entry keeps one, relu when offered.
        Both are the judge's configurations: the driver reads them from the Case's Spec."""
        if split_entry(entry)[1]:
            return [(entry, replace(space, allow_reg=False))] if space.allow_reg else [(entry, space)]
        acts = tuple(space.hidden_activations)
        whole_net = ":" not in entry and entry != "layers" and space.max_layers >= 2
        out = []
        default = space
        if whole_net and space.uniform_hidden and len(acts) > 1:
            first = "relu" if "relu" in acts else acts[0]
            default = replace(space, hidden_activations=(first,))
            others = [a for a in acts if a != first]
            self.notes.append(f"{entry}: hidden activation {first}; the other choices ({', '.join(others)}) are "
                              f"judged each on its own line")
            out += [(configured(entry, HIDDEN, a, quote=True), replace(space, hidden_activations=(a,),
                                                                        allow_reg=False)) for a in others]
        if space.allow_reg:
            return [(entry, replace(default, allow_reg=False)), *out, (f"{entry} ({REG_ON})", default)]
        return [(entry, default), *out]

    def child_entry(self, entry: str) -> str:
        """The driver's name for an entry (L2 on and the hidden activation are the judge's configurations)."""
        base, config = split_entry(entry)
        if not config:
            return entry
        kept = [(k, v) for k, v in config.items() if not (k == "reg" and v == "> 0") and k != HIDDEN]
        if not kept:
            return base
        inner = entry[len(base) + 2:-1].split(", ")
        return f"{base} ({', '.join(p for p in inner if p != REG_ON and not p.startswith(HIDDEN + '='))})"

    def row(self, entry: str, family: str) -> _Row:
        key = (entry, family)
        if key not in self.rows:
            self.rows[key] = _Row(name=f"{entry}: {family}", family=family)
        return self.rows[key]

    # -- one entry point

    def entry(self, entry: str, space) -> None:
        cases = self.draw(entry, space)
        if not cases:
            return
        self.entry_cases[entry] = len(cases)
        expected: dict[int, Observation] = {}

        def meanwhile() -> None:
            # the parent's share, while the child works: this entry's oracle, the previous entry's judging;
            # not while torch is still loading (speed): the child runs the next entries meanwhile, and
            # judge_pending fills in their oracle
            if _oracle_loading():
                return
            self.fill_expected(cases, expected)
            self.judge_pending()

        # the own loss is only needed for the few self-consistency cases, taken from the first ones
        results = self.sb.run(self.style, self.child_entry(entry), cases, own_loss=True, own_loss_limit=_OWN_LOSS_CASES,
                              while_waiting=meanwhile, budget=self.o.budget)
        self.pending.append((entry, cases, results, expected))

    def fill_expected(self, cases: list[Case], expected: dict) -> None:
        """The oracle's answer for each case (by index), shared by entries drawing the same Case."""
        for i, c in enumerate(cases):
            key = _case_key(c)
            if c.spec.aux_names():  # a dropout mask: the oracle waits for the one the implementation drew
                continue
            if key not in self.oracle_cache:
                self.oracle_cache[key] = self.oracle.expected(c)
            expected[i] = self.oracle_cache[key]

    def judge_pending(self) -> None:
        while self.pending:
            entry, cases, results, expected = self.pending.pop(0)
            self.fill_expected(cases, expected)  # (cache hits where meanwhile() already ran the oracle)
            self.judge_entry(entry, cases, results, expected)

    def judge_entry(self, entry: str, cases: list[Case], results: list, expected: dict) -> None:
        skipped = sum(r.fault == "budget" for r in results)
        if skipped:
            self.notes.append(f"{entry}: only {len(cases) - skipped} of {len(cases)} cases ran within the "
                              f"{self.o.budget:g} s budget (slow code); the rest were not judged")
            keep = [k for k, r in enumerate(results) if r.fault != "budget"]
            cases, results = [cases[k] for k in keep], [results[k] for k in keep]
            expected = {n: expected[k] for n, k in enumerate(keep) if k in expected}
        faults: list[tuple[Case, object]] = []
        families_seen: set[str] = set()
        self_checks: list[tuple[Case, Observation, float]] = []
        # A convention is a property of the file: learn it from the cases that show it clearly, then
        # judge every case under it (a case where a tensor is ~0 cannot show a factor by itself).
        from oracles.compare import compare_observation

        conventions = Counter()
        self.entry_convention = None
        verdicts: dict[int, list] = {}
        for i, (case, r) in enumerate(zip(cases, results)):
            if not r.fault:
                exp = expected.get(i) or self.oracle.expected(case, given=r.obs.aux)
                expected[i] = exp
                verdicts[i] = compare_observation(case, r.obs, exp)
                if any(not v.passed and v.check in _CONVENTION_FAMILIES for v in verdicts[i]):
                    conv = self.convention_of(case, r.obs, exp)
                    if conv is not None:
                        conventions[conv] += 1
        if conventions:
            self.entry_convention = conventions.most_common(1)[0][0]
            self.conventions_by_entry[entry] = self.entry_convention
        for i, (case, r) in enumerate(zip(cases, results)):
            if r.output_bytes > self.sb.output_cap:
                self.output_entries[entry] = self.output_entries.get(entry, 0) + r.output_bytes
            self.denied.update(r.denied)
            if r.fault == "patched":
                self.patched.update(r.patched)
                faults.append((case, r))
                continue
            if r.fault:
                faults.append((case, r))
                continue
            obs = r.obs
            self.keep_calls(entry, case, obs)
            self.called.update(obs.called)
            for unit, why in obs.not_checked.items():
                self.declined.setdefault(unit, why)
            for n in obs.notes:
                if n.startswith("convention: "):  # detected by the driver (norm layers): the report's list
                    if n[12:] not in self.report.conventions:
                        self.report.conventions.append(n[12:])
                    continue
                text = n if n.startswith(entry) else f"{entry}: {n}"
                if text not in self.notes:
                    self.notes.append(text)
            exp = expected.get(i) or self.oracle.expected(case, given=obs.aux)
            fams = self.judge_case(entry, case, obs, exp, verdicts[i])
            loss_ok = "loss_ok" in fams or "loss" not in fams
            families_seen |= fams - {"loss_ok"}
            # own loss vs own gradient only where the own loss agreed with the oracle's at the point
            # itself: a clipped or 1e-7-shifted cost is a convention, and its slope differs slightly
            if (loss_ok and r.own_loss is not None and math.isfinite(r.own_loss)
                    and case.tags[:1] in (("ordinary",), ())
                    and len(self_checks) < _SELF_CHECK_CASES and any(k[0] in "Wb" for k in obs.grads)):
                self_checks.append((case, obs, r.own_loss))
        for case, r in faults:
            fams = sorted(families_seen) or ["run"]
            if r.fault == "patched":
                fams = ["integrity"]
            # a crash, a timeout, a memory bomb on a valid input: the submission failed; a malformed
            # answer or a case a driver refused is bpcheck's problem
            ours = r.fault in _OUR_FAULTS or "UnsupportedCase" in (r.message or "")
            status = "error" if ours else "fail"
            for fam in fams:
                row = self.row(entry, fam)
                row.n_cases += 1
                row.statuses[status] += 1
                row.outcomes.append((case, not ours))
                row.kinds["ours" if ours else "fault"] += 1
                row.bad_ordinary += 1
                row.ordinary_statuses[status] += 1
                if row.fault is None:
                    row.fault = r.fault
                    row.first = (case, f"{_FAULT_TEXT.get(r.fault, r.fault)}: {r.message}", [], [], None, None,
                                 status)
        if cases and not families_seen and not faults:
            # Every case came back with no output, no gradient and no finding: no verdict, so no row, and
            # the entry would vanish from a report that can then read PASS (a real file's unimplemented conv
            # layers did, before the conv runner said so). Never silent: an ERROR row, bpcheck's to answer for.
            row = self.row(entry, "run")
            for case in cases:
                row.n_cases += 1
                row.statuses["error"] += 1
                row.outcomes.append((case, False))
                row.kinds["ours"] += 1
                row.bad_ordinary += 1
                row.ordinary_statuses["error"] += 1
            row.fault = "empty"
            declined = {u: w for r in results if r.obs is not None for u, w in r.obs.not_checked.items()}
            why = ("not checked: " + "; ".join(dict.fromkeys(declined.values())) if declined else
                   "the driver came back with nothing to compare (no output, no gradient, no finding): this entry "
                   "point was not judged")  # a driver that declined says why (MyTorch's S20 GRU cell)
            row.first = (cases[0], why, [], [], None, None, "error")
        if self_checks:
            self.self_checks.append((entry, self_checks))

    def judge_case(self, entry: str, case: Case, obs: Observation, exp: Observation, verdicts: list) -> set[str]:
        by_family: dict[str, list] = {}
        for v in verdicts:
            by_family.setdefault(v.check if v.check in CHECKS else "loss", []).append(v)
        bad_fams = {f for f, vs in by_family.items() if any(not v.passed for v in vs)}
        conv = None
        conv_fams: set[str] = set()
        if bad_fams & _CONVENTION_FAMILIES:
            conv, verdicts2 = self.under_convention(case, obs, exp)
            if conv is not None:
                fixed = {}
                for v in verdicts2:
                    fixed.setdefault(v.check if v.check in CHECKS else "loss", []).append(v)
                conv_fams = {f for f in bad_fams if f in fixed and all(v.passed for v in fixed[f])}
        if conv_fams:
            self.conv_cases[(entry, conv.name)] += 1
        loss_note = None
        if "loss" in bad_fams and "loss" not in conv_fams and obs.loss is not None:
            loss_note = loss_convention(case, obs.loss, exp.loss, given=obs.aux)
        diagnoses = None
        for fam, vs in by_family.items():
            row = self.row(entry, fam)
            row.n_cases += 1
            row.outcomes.append((case, False))  # set to True below when this family fails here
            if fam not in bad_fams:
                row.statuses["pass"] += 1
                continue
            if fam in conv_fams:
                row.statuses["pass"] += 1
                row.conventions[conv.name] += 1
                continue
            # an exception, a wrong shape, NaN: the submission is wrong on a valid input (FAIL), as
            # for wrong numbers; only bpcheck's own faults are ERROR
            status = "error" if any(unjudgeable(v.detail or "") for v in vs if v.status == "error") else "fail"
            raised = any(v.status == "error" for v in vs)
            if fam == "loss" and loss_note is not None and status == "fail":
                kind, text = loss_note
                if kind == "precision":
                    row.statuses["pass"] += 1
                    continue
                if kind == "convention":
                    row.statuses["pass"] += 1
                    row.conventions[text] += 1
                    self.conv_cases[(entry, text)] += 1
                    continue
                status = "warn"  # saturated outputs: a cost from probabilities cannot be exact there
                row.warn_message = text
                row.saturated += 1
            if fam == "side_effects" and self.hygiene_only(vs):
                status = "warn"
                row.warn_message = ("writes into dout in place, as the course's own Relu does: harmless in a "
                                    "plain chain, wrong wherever dout is used again")
            if diagnoses is None:
                # a loss that passes under the file's convention (Saito's 1e-7 in the log) is no evidence
                # of a wrong forward pass: the hypotheses see it as passed
                loss_fine = "loss" in conv_fams or (loss_note is not None and loss_note[0] in ("precision",
                                                                                             "convention"))
                diagnoses = self.diagnose(case, [v for v in verdicts if not (loss_fine and v.check == "loss")]
                                          if loss_fine else verdicts, obs, exp)
            if status == "error" and diagnoses:
                # not judged (a stubbed module, an unbuilt extension): no hypothesis about the student's code
                diagnoses = []
            if status == "fail" and diagnoses and diagnoses[0].bug_class == "kink_convention":
                status = "warn"
                row.warn_message = "a different subgradient at exact kinks (relu'(0)); torch uses 0"
            row.statuses[status] += 1
            row.outcomes[-1] = (case, status == "fail")
            if status == "fail":
                row.kinds["raised" if raised else "mismatch"] += 1
            ordinary = case.tags[:1] not in _STRESS
            if status in ("fail", "error"):
                row.bad_ordinary += ordinary
                row.bad_finite_loss += not all("is inf" in (v.detail or "") for v in vs if not v.passed)
            if ordinary:
                row.ordinary_statuses[status] += 1
            # the case a student sees first: an ordinary one when there is one, the worst of those
            first_ordinary = row.first is not None and row.first[0].tags[:1] not in _STRESS
            if (row.first is None or (ordinary and not first_ordinary)
                    or (ordinary == first_ordinary and _RANK[status] > _RANK[row.first[6]])):
                msg = "\n".join(_short(v.message if v.status != "error" else f"{v.context} > {v.name}: "
                                        f"{self.fault_text(v.detail)}") for v in vs if not v.passed)
                row.first = (case, msg, diagnoses, verdicts, obs, exp, status)
        return {f for f in by_family} | ({"loss_ok"} if "loss" in by_family and "loss" not in bad_fams else set())

    def fault_text(self, detail: str) -> str:
        """Name the limit behind a driver-reported fault (the driver only saw the exception)."""
        if stubbed_module(detail):  # never the student's fault, and its message says the fix itself
            return detail
        if missing_extension(detail):  # the course's unbuilt Cython extension: never the student's fault
            return f"{missing_extension(detail)}; {detail}"
        if "MemoryError" in detail:
            return f"memory limit ({self.o.memory_mb} MB) exceeded: {detail}"
        if "RecursionError" in detail:
            return f"recursion limit exceeded: {detail}"
        for py2 in ("xrange", "raw_input", "unicode", "basestring", "iteritems", "has_key", "izip"):
            if f"'{py2}'" in detail and ("NameError" in detail or "AttributeError" in detail):
                return f"{detail} (Python 2 code: {py2} does not exist in Python 3)"
        return detail

    def hygiene_only(self, vs) -> bool:
        """In-place writes that the canonical course solution makes too (Saito's Relu into dout)."""
        names = [v.name for v in vs if not v.passed]
        return self.style in ("saito", "cs231n") and bool(names) and all("dout" in n for n in names)

    def diagnose(self, case, verdicts, obs, exp) -> list:
        try:
            from oracles.diagnose import diagnose
        except ImportError:
            return []
        try:
            return diagnose(case, verdicts, obs, exp)
        except Exception as e:  # noqa: BLE001 - a diagnosis failure must not lose the verdict
            self.notes.append(f"diagnosis failed on case {case.case_id}: {type(e).__name__}: {e}")
            return []

    def convention_of(self, case: Case, obs: Observation, exp: Observation):
        try:
            from oracles.diagnose import detect_convention

            return detect_convention(case, obs, exp)
        except Exception:  # noqa: BLE001 - no convention is the safe answer
            return None

    def under_convention(self, case: Case, obs: Observation, exp: Observation):
        """(convention, verdicts under it) when the observation follows the file's convention."""
        from oracles.compare import compare_observation

        conv = getattr(self, "entry_convention", None) or self.convention_of(case, obs, exp)
        if conv is None:
            return None, []
        if conv.spec_changes:
            case2 = case.with_spec(**dict(conv.spec_changes))
            exp2 = self.oracle.expected(case2)
        elif conv.reg_factor != 1.0:
            exp2 = self.oracle.expected(case.with_spec(reg=case.spec.reg * conv.reg_factor))
        else:
            # factor f on the whole cost: loss and gradients scale by f, SGD moves as with lr * f
            g, lf = conv.grad_factor, conv.loss_factor
            stepped = self.oracle.expected(replace(case, lr=case.lr * g))
            exp2 = Observation(
                loss=None if exp.loss is None else exp.loss * lf,
                grads={k: v * g for k, v in exp.grads.items()},
                updated=stepped.updated,
                trajectory=stepped.trajectory,
                notes=list(exp.notes),
                err_est={k: v * (lf if k == "loss" else g) if k in exp.grads or k == "loss" else
                         stepped.err_est.get(k, v) for k, v in exp.err_est.items()},
            )
        return conv, compare_observation(case, obs, exp2)


def _case_key(case: Case) -> tuple:
    return (case.spec, case.seed, case.tags, case.lr, case.steps, case.x.tobytes(), case.y.tobytes(),
            tuple(v.tobytes() for v in case.params.values()))
