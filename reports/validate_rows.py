"""Rows to Checks for ``bpcheck validate``: the verdict of a row (entry point x check family), its plain
line, its diagnosis, its smallest failing case and snippet. Split from validate_judge.py (the Judge
mixes this in) to keep modules small."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from oracles.case import Case
from oracles.styles.own_code import stubbed_module, unjudgeable
from reports.validate_report import Check
from reports.validate_snippets import NoSnippet, snippet_for

__all__ = ["RowsMixin"]

_STRESS = (("saturated",), ("large_logits",))

# loss findings that locate the difference in the L2 term: the forward pass itself is right
_L2_ONLY = frozenset({"reg_on_bias", "l2_per_sample", "reg_cost_scale"})
# valid inputs a file fails on alone (the rest pass): named before any generic finding
_INPUT_CONDITIONS = ("class_absent", "single_sample_only", "one_hot_only")
# gradient findings where each wrong tensor carries a term of its own parameter: nothing flows down the chain
_PER_PARAM = frozenset({"reg_on_bias", "reg_scale", "scalar_added"})


def _local(diagnoses) -> bool:
    first = next((d for d in diagnoses or [] if d.bug_class not in ("raised", "mutation")), None)
    return first is not None and first.bug_class in _PER_PARAM


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
    outcomes: list = field(default_factory=list)  # (case, failed): inputs a bug needs (oracles.diagnose.conditions)


class RowsMixin:
    """Judge's half that turns rows into Checks (needs its style, options, oracle, sandbox, notes)."""

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
        if row.family.startswith("grad_") and any(tuple(d.tensors) == ("out",) for d in useful):
            # a forward finding (the output alone) beside a gradient's own: a gradient row names the gradient's first
            useful.sort(key=lambda d: tuple(d.tensors) == ("out",))
        if useful:
            diag = "\n".join(_short(str(d)) for d in useful[:2])
            bug = useful[0].bug_class
        elif diagnoses:
            bug = diagnoses[0].bug_class
        elif verdict == "error" and row.fault:
            bug = row.fault
        elif verdict == "error" and stubbed_module(msg or ""):
            bug = "missing_module"  # not judged: no hypothesis about the code, and no "unclassified" bug
        elif verdict in ("fail", "error"):
            diag = "unclassified"
            bug = "unclassified"
        if row.family == "self_consistency" and verdict == "fail":
            bug = "loss_grad_mismatch"
        cond = self.condition(row) if verdict == "fail" else None
        if cond is not None and bug in _GENERIC_BUGS:
            # the inputs the failure needs say more than "raised" or "the forward pass is wrong"
            diag = f"{cond.bug_class}: {cond.message}" + ("\n" + diag if diag else "")
            bug = cond.bug_class
        if verdicts and not any(d.bug_class == "raised" for d in diagnoses or []):
            from oracles.diagnose.chain import chain_line

            chain = chain_line(case, verdicts, loss_wrong=self.loss_wrong(row, verdicts, diagnoses),
                               local=_local(diagnoses))
            if chain and row.family.startswith("grad_"):
                diag = chain + ("\n" + diag if diag else "")
        plain = _plain(row.family, bug, diagnoses or [], verdicts or [], case, msg,
                       self.loss_wrong(row, verdicts, diagnoses))
        if row.family == "loss" and verdict == "fail" and bug not in _INPUT_CONDITIONS:
            bug, plain = self.cost_function(row, bug, plain, obs)
        head = _head(verdict, row, n_bad)
        if verdict == "warn" and row.warn_message:
            head += f" ({row.warn_message})"
        if verdict == "warn":
            return Check(row.name, verdict, f"{head}; first: case {case.case_id} ({case.describe()})\n{msg}",
                         diagnosis="", bug_class=None, n_cases=row.n_cases, n_failed=n_bad, case=case)
        small = case
        if verdict in ("fail", "error") and self.o.shrink and exp is not None and row.family != "self_consistency":
            small = self.shrink(row, case)
        snippet = no_snippet = None
        if small is not None and verdict in ("fail", "error"):
            entry = row.name.split(": ")[0]
            try:
                snippet = snippet_for(self.style, self.child_entry(entry), small, self.report.path, self.oracle,
                                      self.names, row.family, self.calls_for(entry, small))
            except NoSnippet as e:
                no_snippet = str(e)
            except Exception as e:  # noqa: BLE001 - a snippet is a courtesy; never a broken one
                no_snippet = f"bpcheck could not write one ({type(e).__name__}: {e})"
        return Check(row.name, verdict, f"{head}; first: case {case.case_id} ({case.describe()})\n{msg}",
                     diagnosis=diag, bug_class=bug, n_cases=row.n_cases, n_failed=n_bad, case=small,
                     snippet=snippet, no_snippet=no_snippet, plain=plain)

    def calls_for(self, entry: str, case: Case) -> dict:
        """The bound calls the driver recorded for this Case (``Observation.calls``); a purpose it did not reach
        there (a crash, a time limit) from another Case of the same entry: a binding follows from the file's
        signatures, the same for every Case of an entry (the values come from the Case itself)."""
        return {**self.entry_calls.get(entry, {}), **self.case_calls.get((entry, case.case_id), {})}

    def keep_calls(self, entry: str, case: Case, obs) -> None:
        calls = getattr(obs, "calls", None)
        if calls:
            self.case_calls[(entry, case.case_id)] = calls
            for purpose, call in calls.items():
                self.entry_calls.setdefault(entry, {}).setdefault(purpose, call)

    def rerun_line(self) -> str:
        """The command that re-runs this validation (the same seed draws the same cases)."""
        import shlex

        o = self.o
        parts = ["bpcheck validate", shlex.quote(str(self.report.path)), f"--seed {o.seed}", f"--cases {o.cases}"]
        if o.style != "auto":
            parts.append(f"--style {o.style}")
        if o.root:
            parts.append(f"--root {shlex.quote(str(o.root))}")
        return "re-run: " + " ".join(parts)

    def condition(self, row: _Row):
        """A condition every failing ordinary case of the row meets and some case that passed everywhere in
        the same entry does not: a batch without the highest class, a batch of one, label targets where the
        course accepts them (issue 9: valid inputs real code crashes on). Stress cases (saturated, huge
        logits) fail for reasons of their own."""
        from oracles.diagnose import conditions

        entry = row.name.split(": ")[0]
        failed_anywhere = {id(c) for (e, _f), r in self.rows.items() if e == entry for c, bad in r.outcomes if bad}
        passed = {id(c): c for (e, _f), r in self.rows.items() if e == entry for c, _ in r.outcomes
                  if id(c) not in failed_anywhere}
        ok = [(c, False) for c in passed.values()]
        for stress_too in (True, False):  # every failing case first, then the ordinary ones alone
            failing = [(c, True) for c, bad in row.outcomes if bad and (stress_too or c.tags[:1] not in _STRESS)]
            found = [d for d in conditions(failing + ok)
                     if d.bug_class in _INPUT_CONDITIONS]
            if found:
                return found[0]
        return None

    def cost_function(self, row: _Row, bug, plain: str, obs) -> tuple:
        """A failing loss row names the file's cost function (total_cost, compute_cost: outside the gradient
        path, so only this check sees it), and blames its L2 term when the same entry's loss is right
        with reg = 0 (issue 9: a cost that disagrees with the loss the gradients imply, named)."""
        from oracles.styles._configs import REG_ON, wants_reg

        called = sorted(getattr(obs, "called", []) or [])
        src = next((u for u in called if "cost" in u.lower().rsplit(".", 1)[-1]), None)
        entry = row.name.split(": ")[0]
        if bug == "l2_per_sample":
            return bug, f"{src or 'the cost'}: the L2 term is added once per sample (m times), not once"
        if wants_reg(entry):
            base = entry.replace(f", {REG_ON}", "").replace(f" ({REG_ON})", "")
            # verdicts as reported (saturated cases not judged): the base entry's rows are made first
            judged = {c.name: c.verdict for c in self.report.checks}
            grads_ok = all(self.rows[(entry, f)].bad_ordinary == 0 for f in ("grad_W", "grad_b")
                           if (entry, f) in self.rows)
            if judged.get(f"{base}: loss") == "pass" and grads_ok:
                return "reg_cost_scale", (f"{src or 'the cost'}: its L2 term is wrong (the loss is right with "
                                          f"reg = 0, wrong with reg > 0, and the gradients are right)")
        if src is not None:
            return bug, f"{src} disagrees with the loss the gradients imply: {plain}"
        return bug, plain

    def loss_wrong(self, row: _Row, verdicts, diagnoses=None) -> bool:
        """The entry's loss failed as judged (conventions applied) and this case's own loss verdict failed,
        for a reason that makes the forward pass wrong (a loss whose L2 term alone is wrong is not)."""
        loss_row = self.rows.get((row.name.split(": ")[0], "loss"))
        if loss_row is None or not loss_row.statuses["fail"]:
            return False
        if any("loss" in d.tensors and d.bug_class in _L2_ONLY for d in diagnoses or []):
            return False
        return any(v.check == "loss" and not v.passed and v.status != "error" for v in verdicts or [])

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
            self.keep_calls(entry, c, r.obs)
            vs = compare_observation(c, r.obs, self.oracle.expected(c, estimate=True, given=r.obs.aux or None))
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
        from reports.validate_present import presentable

        small = presentable(small, fails)  # no all-zero weights, no -0.0, and the failure still shows
        self.shrunk.setdefault(key, small)
        return small


def _head(verdict: str, row: _Row, n_bad: int) -> str:
    """'3 of 20 cases disagree with the oracle', '20 of 20 cases raised in the submission', ..."""
    n = f"{n_bad} of {row.n_cases} cases"
    if verdict == "error":
        # bpcheck's own limit, a helper module not given, an optional part left unwritten: not judged either way
        return f"{n} could not be checked (not judged: no finding against the submission)"
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


def _short(text: str, limit: int = 400) -> str:
    """Drivers repeat a fault once per sample; the first occurrences say it all."""
    return text if len(text) <= limit else text[: limit - 30].rstrip() + f" ... ({len(text)} chars)"


_GENERIC_BUGS = (None, "raised", "unclassified", "forward_pass", "shape", "layer_break", "constant_factor",
                 "zero_grad", "large_inputs")


def _plain(family: str, bug: str | None, diagnoses: list, verdicts: list, case: Case, msg: str,
           loss_wrong: bool = False) -> str:
    """One line a student reads first: what is wrong, in words, before the evidence."""
    from oracles.diagnose import BUG_CLASSES

    if msg and unjudgeable(msg):  # not judged: what stopped it and the fix, not a guess at a bug
        return _short(_unprefixed(msg.splitlines()[0], family), 300)
    first = next((d for d in diagnoses if d.bug_class not in ("unclassified",)), None)
    likely = BUG_CLASSES.get(bug or "", "") if bug not in (None, "unclassified", "raised") else ""
    if bug in _INPUT_CONDITIONS:
        where = next((ln.split(" (at ", 1)[1].rstrip(")") for ln in msg.splitlines() if " (at " in ln), "")
        return likely + (f" (raised at {where})" if where else "")
    if first is not None and first.bug_class == "raised":
        return _short(_unprefixed(msg.splitlines()[0] if msg else first.message, family), 240)
    if family.startswith("grad_"):
        from oracles.diagnose.chain import chain_line

        chain = chain_line(case, verdicts, loss_wrong=loss_wrong, local=_local(diagnoses))
        if chain:
            return _short(chain + (f" (likely: {likely})" if likely else ""), 300)
    if family == "self_consistency":
        return "your own loss and your own gradient disagree: the gradient is not the derivative of your cost"
    if likely:
        return likely
    line = msg.splitlines()[0] if msg else family
    return _short(_unprefixed(line, family), 240)


def _unprefixed(line: str, family: str) -> str:
    """'case 1f > loss: X raised ...' -> 'X raised ...': the same fault reads the same in every row."""
    line = line.split(" > ", 1)[-1]
    for fam in (family, "loss", "grad_W", "grad_b", "update", "trajectory", "grad_x", "grad_hidden"):
        if line.startswith(fam + ": "):
            return line[len(fam) + 2:]
    return line
