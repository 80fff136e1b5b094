"""Render a campaign's results dict into report.md, report.html, junit.xml and results.json.

``results.json`` is the single source: every other file is rendered from the same dict (see
reports/results_schema.json), so a report can be re-rendered from a results.json alone.
Files are written atomically (temp file, then rename): an interrupted run never leaves a
half-written report.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from tabulate import tabulate

__all__ = [
    "SUMMARY_HEADERS",
    "summary_rows",
    "summary_table",
    "headline",
    "render_markdown",
    "render_html",
    "render_junit",
    "render_json",
    "write_reports",
    "atomic_write",
    "fmt_err",
]

SUMMARY_HEADERS = ["subject", "check", "cases", "passed", "failed", "nondiff skips", "worst norm rel err (torch)",
                   "worst elem rel err (torch)", "worst norm rel err (fd)", "status"]
REPORT_FILES = ("results.json", "report.md", "report.html", "junit.xml")
MAX_HEATMAPS_PER_CASE = 8


def fmt_err(v) -> str:
    """An error figure for a table: '-' when absent, 'n/a' when not finite (NaN output)."""
    if v is None:
        return "-"
    return f"{v:.1e}"


def _status_word(row: dict) -> str:
    return {"pass": "ok", "fail": "FAIL", "skip": "skipped"}.get(row["status"], row["status"])


def summary_rows(results: dict) -> list[list]:
    """One row per subject x check: counts over every oracle, worst errors per oracle."""
    rows = []
    for c in results["checks"]:
        norm, elem = c.get("worst_norm_rel", {}), c.get("worst_max_rel", {})
        rows.append([c["subject"], c["check"], c["cases"], c["passed"], c["failed"], c["nondiff"],
                     fmt_err(norm.get("torch")), fmt_err(elem.get("torch")), fmt_err(norm.get("fd")),
                     _status_word(c)])
    return rows


def summary_table(results: dict, tablefmt: str = "github") -> str:
    return tabulate(summary_rows(results), headers=SUMMARY_HEADERS, tablefmt=tablefmt, disable_numparse=True)


def headline(results: dict) -> str:
    meta, summ = results["meta"], results["summary"]
    if summ["discrepancies"]:
        text = (f"{summ['discrepancies']} discrepanc{'y' if summ['discrepancies'] == 1 else 'ies'} in "
                f"{summ['failing_subjects']} of {summ['subjects']} subject(s)")
    else:
        text = f"all {summ['subjects']} subject(s) passed every check"
    if meta["interrupted"]:
        text += f" (INTERRUPTED after {meta['cases_run']} of {meta['cases_planned']} cases: results are partial)"
    return text


def _meta_lines(results: dict) -> list[tuple[str, str]]:
    meta = results["meta"]
    v = meta["versions"]
    return [
        ("status", "interrupted" if meta["interrupted"] else "complete"),
        ("cases run", f"{meta['cases_run']} of {meta['cases_planned']} ({meta['cases']} per subject)"),
        ("seed", f"{meta['seed']} ({meta['case_seed_rule']})"),
        ("dtype", meta["dtype"]),
        ("oracles", ", ".join(meta["oracles"])),
        ("workers", str(meta["workers"])),
        ("wall time", f"{meta['wall_time_s']:.1f} s"),
        ("started", meta["started"]),
        ("versions", ", ".join(f"{k} {val}" for k, val in v.items())),
    ]


def _case_line(small: dict | None) -> str:
    if not small:
        return "no case was generated (the failure happened before a case existed)"
    shrunk = (f"shrunk from case {small['case_index']}" if small["shrunk"]
              else f"case {small['case_index']}, not shrinkable further")
    return (f"architecture {small['architecture']} [{', '.join(small['activations'])}], loss {small['loss']}, "
            f"batch {small['batch']}, {small['dtype']} (case id {small['case_id']}, {shrunk})")


def _title(d: dict) -> str:
    return f"{d['id']}: {d['subject']} / {d['check']} / oracle {d['oracle']}"


def render_markdown(results: dict) -> str:
    meta = results["meta"]
    out = ["# bpcheck report", ""]
    if meta["interrupted"]:
        out += ["> **INTERRUPTED**: the campaign was stopped before it finished; everything below covers the "
                f"{meta['cases_run']} cases that completed.", ""]
    out += [f"**{headline(results)}**", ""]
    out += [f"> warning: {n}" for n in results["meta"].get("notes", [])]
    if results["meta"].get("notes"):
        out.append("")
    out += [tabulate(_meta_lines(results), headers=["run", ""], tablefmt="github", disable_numparse=True), ""]
    out += ["## Summary", "", "Errors are relative (norm-wise: ||actual - expected|| / ||expected||; elementwise: "
            "the greatest |actual - expected| / |expected|, reported but not judged).", ""]
    out += [summary_table(results), ""]
    discrepancies = results["discrepancies"]
    if discrepancies:
        out += ["## Discrepancies", ""]
    for d in discrepancies:
        small = d["smallest"]
        out += [f"### {_title(d)}", ""]
        total = next((c["cases"] for c in results["checks"]
                      if c["subject"] == d["subject"] and c["check"] == d["check"]), None)
        out.append(f"- failed in {d['failed_cases']} of {total if total is not None else '?'} cases")
        out.append(f"- diagnosis: {d['diagnosis']}")
        if d.get("pattern"):
            out.append(f"- across cases: {d['pattern']}")
        out.append(f"- smallest failing case: {_case_line(small)}")
        if small and small.get("replay"):
            out.append(f"- replay: `{small['replay']}`")
        messages = [t["message"] for t in d["tensors"]] or [d["message"]]
        out += ["", "```", *messages, "```", ""]
        others = d["occurrences"][:10]
        if len(d["occurrences"]) > 1:
            out += ["Failing cases (first 10):", ""]
            rows = [[o["case_index"], o["architecture"], o["batch"], o["tensor"], fmt_err(o["max_abs"]),
                     o["max_abs_index"] or "-", fmt_err(o["norm_rel"]), "-" if o["norm_ratio"] is None
                     else f"{o['norm_ratio']:.4g}", f"`{o['replay']}`" if o.get("replay") else "-"]
                    for o in others]
            out += [tabulate(rows, headers=["case", "architecture", "batch", "tensor", "greatest abs diff", "at",
                                            "norm rel err", "norm ratio", "replay"], tablefmt="github",
                             disable_numparse=True), ""]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;
padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}
tr.fail td{background:#fde8e8}
tr.skip td{color:#777}
.banner{padding:.8em 1em;border-radius:6px;margin:1em 0;font-weight:600}
.ok{background:#e6f6e6;border:1px solid #8c8}
.bad{background:#fde8e8;border:1px solid #d88}
.interrupted{background:#fff4d6;border:1px solid #e0b040}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;white-space:pre-wrap}
code{background:#f1f1f1;padding:0 .2em}
img{max-width:100%}
.heat{display:inline-block;margin:.3em;vertical-align:top}
"""


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def _html_table(headers: list[str], rows: list[list], row_classes: list[str] | None = None) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in headers) + "</tr>"]
    for k, row in enumerate(rows):
        cls = f' class="{_esc(row_classes[k])}"' if row_classes and row_classes[k] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def render_html(results: dict, *, plots: bool = True) -> str:
    """A self-contained page (inline CSS, plots as base64 PNG): works offline."""
    from reports import render_plots

    meta = results["meta"]
    title = "bpcheck report" + (" (interrupted)" if meta["interrupted"] else "")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{_esc(title)}</h1>"]
    if meta["interrupted"]:
        out.append(f'<div class="banner interrupted">INTERRUPTED: the campaign was stopped early; this report '
                   f'covers the {meta["cases_run"]} of {meta["cases_planned"]} cases that completed.</div>')
    cls = "bad" if results["discrepancies"] else "ok"
    out.append(f'<div class="banner {cls}">{_esc(headline(results))}</div>')
    for n in meta.get("notes", []):
        out.append(f'<div class="banner interrupted">warning: {_esc(n)}</div>')
    out.append(_html_table(["run", ""], [list(r) for r in _meta_lines(results)]))
    out.append("<h2>Summary</h2>")
    out.append("<p>Relative errors: norm-wise ||actual &minus; expected|| / ||expected|| (judged) and elementwise "
               "(reported, not judged).</p>")
    classes = [c["status"] if c["status"] != "pass" else "" for c in results["checks"]]
    out.append(_html_table(SUMMARY_HEADERS, summary_rows(results), classes))
    if plots:
        img = render_plots.error_distribution_png(results)
        if img:
            out.append("<h2>Distribution of errors</h2>")
            out.append("<p>Per case, the worst norm-wise relative error of each check, per subject and oracle "
                       "(log scale). Exact agreement (error 0) is counted in the legend.</p>")
            out.append(f'<img alt="error distribution per subject and oracle" src="data:image/png;base64,{img}">')
    if results["discrepancies"]:
        out.append("<h2>Discrepancies</h2>")
    heat_budget = [60]
    for d in results["discrepancies"]:
        out.append(_html_discrepancy(results, d, plots, heat_budget, render_plots))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_discrepancy(results: dict, d: dict, plots: bool, heat_budget: list[int], render_plots) -> str:
    small = d["smallest"]
    total = next((c["cases"] for c in results["checks"]
                  if c["subject"] == d["subject"] and c["check"] == d["check"]), "?")
    out = [f'<h3 id="{_esc(d["id"])}">{_esc(_title(d))}</h3>', "<ul>",
           f"<li>failed in {_esc(d['failed_cases'])} of {_esc(total)} cases</li>",
           f"<li>diagnosis: {_esc(d['diagnosis'])}</li>",
           *([f"<li>across cases: {_esc(d['pattern'])}</li>"] if d.get("pattern") else []),
           f"<li>smallest failing case: {_esc(_case_line(small))}</li>"]
    if small and small.get("replay"):
        out.append(f"<li>replay: <code>{_esc(small['replay'])}</code></li>")
    out.append("</ul>")
    messages = [t["message"] for t in d["tensors"]] or [d["message"]]
    out.append("<pre>" + _esc("\n".join(messages)) + "</pre>")
    if plots:
        first = d["occurrences"][0] if d["occurrences"] else None
        for label, tensors in (("smallest failing case", d["tensors"]),
                               (f"case {first['case_index']} as drawn, architecture {first['architecture']}, "
                                f"batch {first['batch']}" if first else "", d.get("drawn_tensors") or [])):
            maps = []
            for t in tensors[:MAX_HEATMAPS_PER_CASE]:
                if heat_budget[0] <= 0:
                    continue
                if t.get("difference"):
                    img = render_plots.difference_heatmap_png(t)
                    alt = f"heat map of actual - expected for {t['tensor']}"
                else:
                    img = render_plots.side_by_side_png(t)
                    alt = f"actual and expected {t['tensor']} side by side (their shapes differ)"
                if img:
                    heat_budget[0] -= 1
                    maps.append(f'<div class="heat"><img alt="{_esc(alt)}" src="data:image/png;base64,{img}"></div>')
            if maps:
                out.append(f"<p>actual vs expected, {_esc(label)}:</p>")
                out += maps
    if len(d["occurrences"]) > 1:
        rows = [[o["case_index"], o["architecture"], o["batch"], o["tensor"], fmt_err(o["max_abs"]),
                 o["max_abs_index"] or "-", fmt_err(o["norm_rel"]),
                 "-" if o["norm_ratio"] is None else f"{o['norm_ratio']:.4g}", o.get("replay") or "-"]
                for o in d["occurrences"][:10]]
        out.append("<p>Failing cases (first 10):</p>")
        out.append(_html_table(["case", "architecture", "batch", "tensor", "greatest abs diff", "at",
                                "norm rel err", "norm ratio", "replay"], rows))
    return "\n".join(out)


# ----------------------------------------------------------------------------- JUnit


def render_junit(results: dict) -> str:
    """One <testcase> per subject x check; failures carry the discrepancy messages."""
    meta = results["meta"]
    by_key: dict[tuple[str, str], list[dict]] = {}
    for d in results["discrepancies"]:
        by_key.setdefault((d["subject"], d["check"]), []).append(d)
    checks = results["checks"]
    n_fail = sum(c["status"] == "fail" for c in checks)
    n_skip = sum(c["status"] == "skip" for c in checks)
    root = ET.Element("testsuites", name="bpcheck", tests=str(len(checks) + meta["interrupted"]),
                      failures=str(n_fail), errors=str(int(meta["interrupted"])), skipped=str(n_skip),
                      time=f"{meta['wall_time_s']:.3f}")
    for s in results["subjects"]:
        mine = [c for c in checks if c["subject"] == s["name"]]
        suite = ET.SubElement(root, "testsuite", name=s["name"], tests=str(len(mine)),
                              failures=str(sum(c["status"] == "fail" for c in mine)), errors="0",
                              skipped=str(sum(c["status"] == "skip" for c in mine)), time="0")
        props = ET.SubElement(suite, "properties")
        for k, v in (("seed", meta["seed"]), ("dtype", meta["dtype"]), ("cases_run", s["cases_run"]),
                     ("interrupted", str(meta["interrupted"]).lower())):
            ET.SubElement(props, "property", name=k, value=str(v))
        for c in mine:
            tc = ET.SubElement(suite, "testcase", classname=f"bpcheck.{s['name']}", name=c["check"], time="0")
            if c["status"] == "fail":
                ds = by_key.get((s["name"], c["check"]), [])
                first = ds[0]["message"] if ds else f"{c['failed']} of {c['cases']} cases failed"
                text = []
                for d in ds:
                    text.append(f"[{d['oracle']}] failed in {d['failed_cases']} of {c['cases']} cases; "
                                f"diagnosis: {d['diagnosis']}" + (f"; across cases: {d['pattern']}"
                                                                  if d.get("pattern") else ""))
                    text += [t["message"] for t in d["tensors"]] or [d["message"]]
                    if d["smallest"] and d["smallest"].get("replay"):
                        text.append(f"replay: {d['smallest']['replay']}")
                fail = ET.SubElement(tc, "failure", message=_clean(first), type="discrepancy")
                fail.text = _clean("\n".join(text))
            elif c["status"] == "skip":
                ET.SubElement(tc, "skipped", message=f"not differentiable in all {c['cases']} cases")
    if meta["interrupted"]:
        suite = ET.SubElement(root, "testsuite", name="bpcheck campaign", tests="1", failures="0", errors="1",
                              skipped="0", time=f"{meta['wall_time_s']:.3f}")
        tc = ET.SubElement(suite, "testcase", classname="bpcheck.campaign", name="completed", time="0")
        ET.SubElement(tc, "error", message=f"interrupted after {meta['cases_run']} of {meta['cases_planned']} cases",
                      type="interrupted")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _clean(text: str) -> str:
    """XML 1.0 forbids most control characters, even escaped: drop them from messages."""
    return "".join(ch for ch in str(text) if ch in "\t\n\r" or ord(ch) >= 0x20)


def render_json(results: dict) -> str:
    return json.dumps(results, indent=1, allow_nan=False) + "\n"


# ----------------------------------------------------------------------------- files


def atomic_write(path: Path | str, data: str | bytes) -> Path:
    """Write to a temp file in the same folder, then rename over ``path``: readers never see half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_reports(results: dict, out_dir: Path | str, *, plots: bool = True) -> dict[str, Path]:
    """results.json first (the source), then the renderings; returns name -> path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {"results.json": atomic_write(out_dir / "results.json", render_json(results))}
    written["report.md"] = atomic_write(out_dir / "report.md", render_markdown(results))
    written["junit.xml"] = atomic_write(out_dir / "junit.xml", render_junit(results))
    written["report.html"] = atomic_write(out_dir / "report.html", render_html(results, plots=plots))
    return written
