"""Renderers: markdown, self-contained HTML, JUnit XML, strict JSON; atomic writes."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from test_report_doubles import fake_campaign

from reports import render


@pytest.fixture()
def mixed(monkeypatch, tmp_path) -> dict:
    return fake_campaign(monkeypatch, tmp_path, "good", "broken", "nan", "raises", cases=4)


class _Checker(HTMLParser):
    """Collects tags, checks nesting of non-void elements, and records external references."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.problems, self.imgs, self.external, self.text = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        for key in ("src", "href"):
            if a.get(key, "").startswith(("http:", "https:", "//")):
                self.external.append(a[key])
        if tag == "script":
            self.problems.append("a <script> element made it into the page")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_markdown_has_the_summary_table_and_one_section_per_discrepancy(mixed):
    md = render.render_markdown(mixed)
    assert md.startswith("# bpcheck report")
    header = next(line for line in md.splitlines() if line.startswith("| subject "))
    assert [h.strip() for h in header.strip("|").split("|")] == render.SUMMARY_HEADERS
    table_rows = [line for line in md.splitlines() if line.startswith("| fake:")]
    assert len(table_rows) == len(mixed["checks"])
    for d in mixed["discrepancies"]:
        assert f"### {d['id']}: {d['subject']} / {d['check']} / oracle {d['oracle']}" in md
        assert f"`{d['smallest']['replay']}`" in md
        assert f"batch {d['smallest']['batch']}" in md
    assert "INTERRUPTED" not in md


def test_html_is_self_contained_balanced_and_has_plots(mixed):
    page = render.render_html(mixed)
    p = _Checker()
    p.feed(page)
    p.close()
    assert p.problems == [] and p.stack == [], (p.problems, p.stack)
    assert p.external == []
    pngs = [s for s in p.imgs if s.startswith("data:image/png;base64,")]
    assert len(pngs) == len(p.imgs) >= 2  # the error distribution and at least one heat map
    # the broken subject's weight gradient has a difference heat map
    assert "heat map of actual - expected for grads[&#x27;W1&#x27;]" in page


def test_html_escapes_text_from_messages(mixed):
    evil = json.loads(json.dumps(mixed))
    evil["discrepancies"][0]["diagnosis"] = "<script>alert(1)</script> & <b>"
    evil["checks"][0]["subject"] = "<img src=x onerror=alert(1)>"
    page = render.render_html(evil, plots=False)
    p = _Checker()
    p.feed(page)
    assert p.problems == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert all(src != "x" for src in p.imgs)


def test_junit_is_valid_xml_with_one_testcase_per_subject_and_check(mixed):
    root = ET.fromstring(render.render_junit(mixed))
    assert root.tag == "testsuites"
    cases = root.findall(".//testcase")
    assert len(cases) == len(mixed["checks"])
    failed = [c for c in cases if c.find("failure") is not None]
    assert {(c.get("classname"), c.get("name")) for c in failed} == {
        (f"bpcheck.{c['subject']}", c["check"]) for c in mixed["checks"] if c["status"] == "fail"}
    assert int(root.get("failures")) == len(failed) > 0
    broken = next(c for c in failed if c.get("classname") == "bpcheck.fake:broken")
    assert "norm ratio 2" in broken.find("failure").get("message")
    assert "bpcheck replay" in broken.find("failure").text


def test_interrupted_reports_say_so(monkeypatch, tmp_path):
    calls = []

    def stop(outcome):
        calls.append(outcome)
        if len(calls) == 2:
            raise KeyboardInterrupt

    results = fake_campaign(monkeypatch, tmp_path, "good", cases=10, on_case=stop)
    assert results["meta"]["interrupted"] and results["meta"]["cases_run"] == 2
    assert "INTERRUPTED" in render.render_markdown(results)
    assert "INTERRUPTED" in render.render_html(results, plots=False)
    root = ET.fromstring(render.render_junit(results))
    assert root.find(".//testcase/error[@type='interrupted']") is not None


def test_write_reports_is_atomic_and_json_is_strict(mixed, tmp_path, monkeypatch):
    out = tmp_path / "out"
    written = render.write_reports(mixed, out, plots=False)
    assert sorted(p.name for p in written.values()) == sorted(render.REPORT_FILES)
    assert json.loads((out / "results.json").read_text()) == json.loads(render.render_json(mixed))
    assert not list(out.glob(".*.tmp"))
    mask = os.umask(0)
    os.umask(mask)
    assert all((p.stat().st_mode & 0o777) == (0o666 & ~mask) for p in written.values())  # not mkstemp's 0600
    # a failure while rendering leaves the previous file whole and no temp file behind
    before = (out / "report.md").read_text()

    def boom(results):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(render, "render_markdown", boom)
    with pytest.raises(RuntimeError):
        render.write_reports(mixed, out, plots=False)
    assert (out / "report.md").read_text() == before
    assert not list(out.glob(".*.tmp"))
    with pytest.raises(ValueError):  # NaN never reaches results.json
        render.render_json({"x": float("nan")})


def test_results_json_alone_renders_the_same_reports(mixed, tmp_path):
    """results.json is the single source: re-rendering from the file gives the same reports."""
    first = render.write_reports(mixed, tmp_path / "a", plots=False)
    loaded = json.loads(first["results.json"].read_text())
    again = render.write_reports(loaded, tmp_path / "b", plots=False)
    for name in ("report.md", "junit.xml", "report.html"):
        assert first[name].read_text() == again[name].read_text(), name
