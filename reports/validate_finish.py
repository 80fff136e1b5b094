"""The end of ``bpcheck validate``'s judging: rows to Checks plus the report-wide checks and notes.

``finish`` runs the pending judgements and the own-loss self checks, turns every row into a Check
(validate_rows.RowsMixin.to_check), then adds what belongs to the whole file rather than to one
family: output floods, sandbox refusals, files written, numpy 2 compatibility, conventions, coverage,
and the notes (collapsed). Split from validate_judge.py (the Judge mixes this in) so the judge holds
the per-case work and this module the once-per-report summary.
"""

from __future__ import annotations

from oracles.numpy_compat import compat_findings
from oracles.observation import CHECKS
from reports.validate_report import Check

__all__ = ["FinishMixin"]


class FinishMixin:
    """Judge's closing half (needs its rows, sandbox, report, options and everything judging collected)."""

    def finish(self) -> None:
        self.judge_pending()
        for entry, items in self.self_checks:
            self.self_consistency(entry, items)
        report = self.report
        report.rerun = self.rerun_line()
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
                f"(results only travel over an authenticated pipe; what open() writes stays in memory and is "
                f"dropped, so the files stay empty)", bug_class="files_written"))
        # loader hook: numpy 1.x APIs (fine on the course's numpy) and Python 2 '/' that truncated (notes)
        warn, notes = compat_findings(self.sb.compat, strict=self.o.strict_numpy)
        if warn:
            report.checks.append(Check("numpy 2 compatibility", "warn", warn, bug_class="numpy_1x_api"))
        report.notes += notes
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
        from reports.validate_consistency import drop_contradicted_notes

        drop_contradicted_notes(report)

    def coverage(self) -> None:
        """What the file defines, what the checks reached, and why the rest was not checked."""
        from reports.validate_coverage import build_coverage

        try:
            self.report.coverage = build_coverage(self.report.path, self.called, self.declined)
        except Exception as e:  # noqa: BLE001 - coverage is a summary; the verdicts stand without it
            self.notes.append(f"coverage not computed: {type(e).__name__}: {e}")



def _collapse(notes: list[str]) -> list[str]:
    """Notes that differ only in their numbers (one per layer, per case) shown once, with a count."""
    import re

    groups: dict[str, list[str]] = {}
    for n in notes:
        groups.setdefault(re.sub(r"\d+(\.\d+)?", "#", n), []).append(n)
    return [g[0] if len(g) == 1 else f"{g[0]} (and {len(g) - 1} similar)" for g in groups.values()]
