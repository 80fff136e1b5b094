"""The judge of ``bpcheck validate``: cases per entry point, verdicts per check family, rows to Checks.

One _Judge per submission. ``entry`` draws the Cases of an entry point and runs them in the child
(the oracle is computed meanwhile); ``judge_entry`` compares, learns the file's convention, and
folds each case into a row (entry point x check family); ``finish`` runs the own-loss self
checks, then turns rows into Checks: the verdict, the diagnosis, the shrunk case and its snippet.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

from oracles.case import Case
from oracles.observation import CHECKS, Observation
from oracles.styles._configs import REG_ON, split_entry, wants_reg
from reports.validate_losses import fd_value, loss_convention
from reports.validate_report import _RANK, Check, ValidationOptions, ValidationReport
from reports.validate_snippets import snippet_for

__all__ = ["Judge"]

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
}
# Faults of bpcheck's own making (the rest are the submission's: a crash, a timeout, a memory bomb).
_OUR_FAULTS = ("protocol",)



@dataclass
class _Row:
    name: str
    family: str
    n_cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    first: tuple | None = None  # (case, message, diagnoses, verdicts, observed, expected)
    fault: str | None = None
    warn_message: str | None = None
    conventions: Counter = field(default_factory=Counter)
    bad_ordinary: int = 0  # failing cases outside the stress regimes
    ordinary_statuses: Counter = field(default_factory=Counter)
    bad_finite_loss: int = 0  # failing loss cases whose loss is not simply +inf
    kinds: Counter = field(default_factory=Counter)  # failing cases by kind: mismatch, raised, fault, ours
    saturated: int = 0  # loss cases off only because an output probability rounds to 0 or 1


class Judge:
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
        """(entry name, space) to judge: L2 is its own configuration, so a bug only with reg > 0 says so."""
        if not space.allow_reg or split_entry(entry)[1]:
            return [(entry, replace(space, allow_reg=False))] if space.allow_reg else [(entry, space)]
        return [(entry, replace(space, allow_reg=False)), (f"{entry} ({REG_ON})", space)]

    def child_entry(self, entry: str) -> str:
        """The driver's name for an entry (L2 on is the judge's configuration, not the driver's)."""
        base, config = split_entry(entry)
        if config.get("reg"):
            return base if len(config) == 1 else entry.replace(f", {REG_ON}", "")
        return entry

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
            # the parent's share, while the child works: this entry's oracle, the previous entry's judging
            for i, c in enumerate(cases):
                key = _case_key(c)
                if c.spec.aux_names():  # a dropout mask: the oracle waits for the one the implementation drew
                    continue
                if key not in self.oracle_cache:
                    self.oracle_cache[key] = self.oracle.expected(c)
                expected[i] = self.oracle_cache[key]
            self.judge_pending()

        # the own loss is only needed for the few self-consistency cases, taken from the first ones
        results = self.sb.run(self.style, self.child_entry(entry), cases, own_loss=True, own_loss_limit=_OWN_LOSS_CASES,
                              while_waiting=meanwhile, budget=self.o.budget)
        self.pending.append((entry, cases, results, expected))

    def judge_pending(self) -> None:
        while self.pending:
            self.judge_entry(*self.pending.pop(0))

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
                if any(not v.passed for v in verdicts[i]):
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
                row.kinds["ours" if ours else "fault"] += 1
                row.bad_ordinary += 1
                row.ordinary_statuses[status] += 1
                if row.fault is None:
                    row.fault = r.fault
                    row.first = (case, f"{_FAULT_TEXT.get(r.fault, r.fault)}: {r.message}", [], [], None, None,
                                 status)
        if self_checks:
            self.self_checks.append((entry, self_checks))

    def judge_case(self, entry: str, case: Case, obs: Observation, exp: Observation, verdicts: list) -> set[str]:
        by_family: dict[str, list] = {}
        for v in verdicts:
            by_family.setdefault(v.check if v.check in CHECKS else "loss", []).append(v)
        bad_fams = {f for f, vs in by_family.items() if any(not v.passed for v in vs)}
        conv = None
        conv_fams: set[str] = set()
        if bad_fams & {"loss", "grad_W", "grad_b", "grad_x", "grad_hidden", "update", "trajectory"}:
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
            loss_note = loss_convention(case, obs.loss, exp.loss)
        diagnoses = None
        for fam, vs in by_family.items():
            row = self.row(entry, fam)
            row.n_cases += 1
            if fam not in bad_fams:
                row.statuses["pass"] += 1
                continue
            if fam in conv_fams:
                row.statuses["pass"] += 1
                row.conventions[conv.name] += 1
                continue
            # an exception, a wrong shape, NaN: the submission is wrong on a valid input (FAIL), as
            # for wrong numbers; only bpcheck's own faults are ERROR
            status = "fail"
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
                diagnoses = self.diagnose(case, verdicts, obs, exp)
            if status == "fail" and diagnoses and diagnoses[0].bug_class == "kink_convention":
                status = "warn"
                row.warn_message = "a different subgradient at exact kinks (relu'(0)); torch uses 0"
            row.statuses[status] += 1
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

    # -- the submission's own loss against its own gradient

    def self_consistency(self, entry: str, items) -> None:
        try:
            from oracles import finite_diff
        except ImportError:
            self.notes.append("own loss vs own gradient not checked: oracles.finite_diff is not available")
            return
        from oracles.compare import compare_tensor

        row = self.row(entry, "self_consistency")
        for case, obs, _own in items:
            names = [k for k in case.params if k in obs.grads]
            rng = np.random.default_rng([case.seed, 0xD1])
            direction = {k: rng.standard_normal(case.params[k].shape) for k in names}
            norm = math.sqrt(sum(float(np.sum(d * d)) for d in direction.values()))
            direction = {k: d / norm for k, d in direction.items()}
            failed_eval: list[str] = []

            def f(params, case=case, failed=failed_eval):
                full = dict(case.params)
                full.update({k: np.asarray(v, dtype=np.float64) for k, v in params.items()})
                try:
                    c2 = replace(case, params=full)
                except ValueError as e:
                    failed.append(str(e))
                    return float("nan")
                r = self.sb.own_losses(self.style, self.child_entry(entry), [c2])[0]
                if r.fault or r.own_loss is None:
                    failed.append(r.message or "no loss")
                    return float("nan")
                return r.own_loss

            try:
                fd = finite_diff.directional(f, {k: case.params[k] for k in names}, direction)
            except Exception as e:  # noqa: BLE001
                self.notes.append(f"{entry}: own-loss finite differences failed ({type(e).__name__}: {e})")
                return
            value, err = fd_value(fd)
            analytic = sum(float(np.sum(np.asarray(obs.grads[k], dtype=np.float64) * direction[k]))
                           for k in names if np.shape(obs.grads[k]) == direction[k].shape)
            row.n_cases += 1
            if failed_eval or value is None or not math.isfinite(value):
                row.statuses["error"] += 1
                row.ordinary_statuses["error"] += 1
                row.bad_ordinary += 1
                if row.first is None:
                    row.first = (case, f"own loss could not be evaluated: {(failed_eval or ['?'])[0]}", [], [],
                                 obs, None, "error")
                continue
            scale = math.sqrt(sum(float(np.sum(np.asarray(obs.grads[k], dtype=np.float64) ** 2)) for k in names))
            v = compare_tensor("own gradient . d vs d/dt own loss(p + t d)", analytic, value,
                               dtype=case.spec.dtype, oracle="fd", scale=scale, err_est=err, check="loss")
            conv = self.conventions_by_entry.get(entry)
            if not v.passed and conv is not None:
                # the file's convention scales its data gradient (a summed batch gradient beside a mean cost);
                # the L2 part of both is the same
                f = {"sum": case.m, "mean": 1.0 / case.m}.get(dict(conv.spec_changes).get("reduction"),
                                                              conv.grad_factor / conv.loss_factor)
                reg_slope = case.spec.reg * sum(float(np.sum(case.typed(case.params[k]).astype(np.float64)
                                                             * direction[k])) for k in names if k[0] == "W")
                for g in {f, f * conv.loss_factor}:
                    if compare_tensor("own gradient", analytic, g * (value - reg_slope) + reg_slope,
                                      dtype=case.spec.dtype, oracle="fd", scale=scale, err_est=g * (err or 0.0),
                                      check="loss").passed:
                        v.status = "pass"
                        break
            if v.passed:
                row.statuses["pass"] += 1
            else:
                row.statuses["fail"] += 1
                row.ordinary_statuses["fail"] += 1
                row.bad_ordinary += 1
                if row.first is None:
                    row.first = (case, f"the submission's own loss and its own gradient disagree: directional "
                                 f"derivative of its loss {value:.6g}, its gradient gives {analytic:.6g} "
                                 f"({v.message})", [], [], obs, None, "fail")

    # -- rows to checks

    def finish(self) -> None:
        self.judge_pending()
        for entry, items in self.self_checks:
            self.self_consistency(entry, items)
        report = self.report
        order = {f: i for i, f in enumerate(CHECKS + ("self_consistency", "integrity", "run"))}
        for _key, row in sorted(self.rows.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99))):
            report.checks.append(self.to_check(row))
        if not self.output_entries and self.sb.output_so_far > self.sb.output_cap:
            self.output_entries["all checks"] = self.sb.output_so_far
        if self.output_entries:
            total = sum(self.output_entries.values())
            report.checks.append(Check(
                "output", "warn",
                f"the submission printed {total / 1e6:.1f} MB while being checked ({', '.join(self.output_entries)});"
                f" output is cut at {self.sb.output_cap // 1024} KB: remove debug prints from backprop",
                bug_class="output_flood"))
        control = sorted(d for d in self.denied if d.startswith("os."))
        writes = sorted(d[len("write "):] for d in self.denied if d.startswith("write "))
        if control:
            report.checks.append(Check(
                "sandbox", "fail",
                f"the submission tried to control processes or damage files: {', '.join(control)} (refused); "
                f"a gradient never needs these", bug_class="sandbox_violation"))
        if writes:
            report.checks.append(Check(
                "files outside", "warn",
                f"the submission tried to write outside its sandbox: {', '.join(writes[:5])} (refused)",
                bug_class="files_written"))
        files = self.sb.written_files()
        if files:
            report.checks.append(Check(
                "files", "warn",
                f"the submission created files while being checked: {', '.join(files[:8])}; they are ignored "
                f"(results only travel over an authenticated pipe, and file contents cannot be written in the "
                f"sandbox)", bug_class="files_written"))
        if self.patched:
            report.notes.append("monkey-patched (restored after each call): " + ", ".join(sorted(self.patched)))
        if self.sb.events:
            report.notes.append(f"the child interpreter was restarted {self.sb.restarts} time(s) after fatal faults")
        by_name: dict[str, list[str]] = {}
        for (entry, name), n in sorted(self.conv_cases.items()):
            by_name.setdefault(name, []).append(f"{entry} {n}/{self.entry_cases[entry]}")
        for name, where in by_name.items():
            report.conventions.append(f"{name}: judged under it (cases that differ from the canonical convention: "
                                      f"{', '.join(where)}; the others agree either way)")
        for text, where in self.saturation_notes.items():
            n = sum(int(w.rsplit(" ", 1)[1].split("/")[0]) for w in where)
            report.notes.append(f"not judged, {n} case(s) in {len(where)} check(s): {text}")
        self.coverage()
        if not self.rows and not any(c.verdict in ("pass", "warn", "fail", "error") for c in report.checks):
            declined = "; ".join(f"{u}: {why}" for u, why in list(self.declined.items())[:3])
            report.checks.append(Check(
                "checks", "error", "nothing could be checked" + (f" ({declined})" if declined else "") +
                ": bpcheck found no entry point it can call with arguments the file accepts", bug_class="style"))
        report.notes += _collapse(self.notes)

    def to_check(self, row: _Row) -> Check:
        st = row.statuses
        n_bad = st["fail"] + st["error"] + st["warn"]
        if not n_bad:
            conv = ", ".join(row.conventions) if row.conventions else None
            msg = f"all {row.n_cases} cases match"
            if conv:
                msg += f" (under the convention: {conv})"
            if row.family == "self_consistency":
                msg = f"own loss and own gradient agree on {row.n_cases} case(s) (random directional derivative)"
            return Check(row.name, "pass", msg, n_cases=row.n_cases, convention=conv)
        verdict = "error" if st["error"] else ("fail" if st["fail"] else "warn")
        saturation = None
        if verdict == "fail" and row.bad_ordinary == 0 and row.fault is None:
            # Only saturated outputs / huge logits: the course's own formulas behave the same there
            if self.style == "dlai":
                saturation = ("where the output saturates (AL rounds to 0 or 1), the course's own cost and "
                              "dAL = -(Y/AL - (1-Y)/(1-AL)) overflow; dZ = AL - Y avoids it")
            elif self.style == "mytorch":
                saturation = ("for huge logits, the writeup's softmax exp(A) / sum exp(A) overflows; subtract each "
                              "row's max first")
            elif row.family == "loss" and row.bad_finite_loss == 0 and not row.kinds["mismatch"]:
                saturation = ("where a probability underflows to 0 (huge logits), the cost overflows to inf, as "
                              "the course's -log(p) does; a cost computed from the logits stays finite")
        elif verdict == "warn" and row.saturated == n_bad:
            saturation = row.warn_message
        if saturation is not None:
            # a correct course solution passes clean: one note for the file, not a warning per check
            self.saturation_notes.setdefault(saturation, []).append(f"{row.name} {n_bad}/{row.n_cases}")
            return Check(row.name, "pass", f"{row.n_cases - n_bad} of {row.n_cases} cases match; {n_bad} with "
                         f"saturated outputs not judged (see the note)", n_cases=row.n_cases)
        if verdict == "fail" and self.style == "dlai" and row.fault is None:
            # the course's own formula fails at saturation: judge dlai files on the ordinary cases
            ordinary = row.ordinary_statuses
            verdict = "error" if ordinary["error"] else ("fail" if ordinary["fail"] else verdict)
        case, msg, diagnoses, verdicts, obs, exp = row.first[:6]
        diag = ""
        bug = None
        useful = [d for d in diagnoses or [] if d.bug_class != "raised"]
        if useful:
            diag = "; ".join(_short(str(d)) for d in useful[:2])
            bug = useful[0].bug_class
        elif diagnoses:
            bug = diagnoses[0].bug_class
        elif verdict == "error" and row.fault:
            bug = row.fault
        elif verdict in ("fail", "error"):
            diag = "unclassified"
            bug = "unclassified"
        if row.family == "self_consistency" and verdict == "fail":
            bug = "loss_grad_mismatch"
        head = _head(verdict, row, n_bad)
        if verdict == "warn" and row.warn_message:
            head += f" ({row.warn_message})"
        if verdict == "warn":
            return Check(row.name, verdict, f"{head}; first: case {case.case_id} ({case.describe()})\n{msg}",
                         diagnosis="", bug_class=None, n_cases=row.n_cases, n_failed=n_bad, case=case)
        small = case
        if verdict in ("fail", "error") and self.o.shrink and exp is not None and row.family != "self_consistency":
            small = self.shrink(row, case)
        snippet = None
        if small is not None and verdict in ("fail", "error"):
            try:
                entry = self.child_entry(row.name.split(": ")[0])
                snippet = snippet_for(self.style, entry, small, self.report.path, self.oracle, self.names)
            except Exception as e:  # noqa: BLE001 - a snippet is a courtesy
                snippet = f"# (no snippet: {type(e).__name__}: {e})"
        return Check(row.name, verdict, f"{head}; first: case {case.case_id} ({case.describe()})\n{msg}",
                     diagnosis=diag, bug_class=bug, n_cases=row.n_cases, n_failed=n_bad, case=small,
                     snippet=snippet)

    def coverage(self) -> None:
        """What the file defines, what the checks reached, and why the rest was not checked."""
        from reports.validate_coverage import build_coverage

        try:
            self.report.coverage = build_coverage(self.report.path, self.called, self.declined)
        except Exception as e:  # noqa: BLE001 - coverage is a summary; the verdicts stand without it
            self.notes.append(f"coverage not computed: {type(e).__name__}: {e}")

    def shrink(self, row: _Row, case: Case) -> Case:
        try:
            from oracles.shrink import shrink
        except ImportError:
            return case
        from oracles.compare import compare_observation

        entry = row.name.split(": ")[0]

        def fails(c: Case) -> bool:
            r = self.sb.run(self.style, self.child_entry(entry), [c], give_up_after=1)[0]
            if r.fault:
                return False
            vs = compare_observation(c, r.obs, self.oracle.expected(c, estimate=True, given=r.obs.aux))
            return any(not v.passed and v.check == row.family for v in vs)

        # rows of one entry point usually fail on the same first case: reuse its shrunk form when it
        # shows this row's failure too (one snippet, one shrink)
        key = (entry, case.case_id)
        done = self.shrunk.get(key)
        if done is not None and done is not case and fails(done):
            return done
        try:
            small = shrink(case, fails, max_steps=self.o.shrink_steps)
        except Exception as e:  # noqa: BLE001
            self.notes.append(f"shrinking failed: {type(e).__name__}: {e}")
            return case
        self.shrunk.setdefault(key, small)
        return small


_STRESS = (("saturated",), ("large_logits",))


def _head(verdict: str, row: _Row, n_bad: int) -> str:
    """'3 of 20 cases disagree with the oracle', '20 of 20 cases raised in the submission', ..."""
    n = f"{n_bad} of {row.n_cases} cases"
    if verdict == "error":
        return f"{n} could not be checked (a fault of bpcheck's, not the submission's)"
    if verdict == "warn":
        return f"{n} raise a warning"
    k = row.kinds
    parts = [(k["mismatch"], "disagree with the oracle"), (k["raised"], "raised or returned unusable values (an "
             "exception, a wrong shape, NaN)"), (k["fault"], "crashed or exceeded a limit")]
    parts = [(c, text) for c, text in parts if c]
    if len(parts) == 1:
        return f"{n} {parts[0][1]}"
    if not parts:
        return f"{n} fail"
    return f"{n} fail: " + ", ".join(f"{c} {text}" for c, text in parts)


def _collapse(notes: list[str]) -> list[str]:
    """Notes that differ only in their numbers (one per layer, per case) shown once, with a count."""
    import re

    groups: dict[str, list[str]] = {}
    for n in notes:
        groups.setdefault(re.sub(r"\d+(\.\d+)?", "#", n), []).append(n)
    return [g[0] if len(g) == 1 else f"{g[0]} (and {len(g) - 1} similar)" for g in groups.values()]


def _short(text: str, limit: int = 400) -> str:
    """Drivers repeat a fault once per sample; the first occurrences say it all."""
    return text if len(text) <= limit else text[: limit - 30].rstrip() + f" ... ({len(text)} chars)"


def _case_key(case: Case) -> tuple:
    return (case.spec, case.seed, case.tags, case.lr, case.steps, case.x.tobytes(), case.y.tobytes(),
            tuple(v.tobytes() for v in case.params.values()))
