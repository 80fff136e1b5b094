"""The real-submissions corpus: materialize it from fetched mirrors, score bpcheck on it.

    python scripts/corpus.py materialize --mirror /work/.mirror --out corpus/
    python scripts/corpus.py score --corpus corpus/ [--manifest docs/real-world/mlp.tsv ...] [--jobs 2]
    python scripts/corpus.py expected --out corpus-expected.tsv     # then: bpcheck grade corpus --expected it
    python scripts/corpus.py score --blind --save DIR ...   # rows not judged yet: verdicts only, reports kept
    python scripts/corpus.py score --replay DIR ...         # score reports saved earlier (no bpcheck run)

The manifests (docs/real-world/*.tsv) are data: one row per third-party file, byte-exact at a full
commit, with the truth established by hand (see docs/real-world.md). The files themselves are never
committed: `materialize` writes each row's file and its support files (`git show COMMIT:PATH` from
the mirror of the repository) into corpus/<id>/<path>; `score` runs `bpcheck validate --json` on each
row with --root corpus/<id> and compares the verdict with the row's expected one.

Verdict mapping: pass and warn count as "pass", fail as "fail", error as wrong (bpcheck could not
judge). A buggy file counts as named when bpcheck's verdict is right and the diagnosis text (the
name, message, diagnosis and bug class of every check that did not pass) matches the row's
`named` regex.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ("id", "repo", "path", "commit", "style", "form", "support", "truth", "expected", "bug", "named",
           "patterns", "evidence")
FORMS = ("py", "py2", "ipynb", "py-export", "package")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFESTS = "docs/real-world/*.tsv"


@dataclass
class Row:
    id: str
    repo: str
    path: str
    commit: str
    style: str
    form: str
    support: list[str]
    truth: str
    expected: str
    bug: str
    named: str
    patterns: list[str]
    evidence: str
    manifest: str = ""
    line: int = 0


@dataclass
class Outcome:
    row: Row
    got: str  # pass | warn | fail | error | crash (bpcheck itself died / no JSON) | timeout | missing
    seconds: float = 0.0
    text: str = ""  # the diagnosis text the named regex is matched against
    detail: str = ""  # a short reason when got is crash/timeout/missing

    @property
    def got_class(self) -> str:
        return {"pass": "pass", "warn": "pass", "fail": "fail"}.get(self.got, "wrong")

    @property
    def right(self) -> bool:
        return self.got_class == self.row.expected

    @property
    def named(self) -> bool | None:
        """None for correct files (nothing to name)."""
        if self.row.truth != "buggy":
            return None
        if not self.right or not self.row.named:
            return False
        try:
            return re.search(self.row.named, self.text, re.IGNORECASE | re.DOTALL) is not None
        except re.error:
            return False


# ---------------------------------------------------------------- manifest


class ManifestError(ValueError):
    pass


def parse_manifest(text: str, name: str = "<manifest>", *, judged: bool = True) -> tuple[list[Row], list[str]]:
    """Rows and per-row problems (a bad row is reported and skipped, never fatal).

    judged=False also accepts rows whose truth is not established yet (enough to materialize them)."""
    rows: list[Row] = []
    problems: list[str] = []
    lines = text.splitlines()
    header: list[str] | None = None
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            header = [c.strip() for c in cells]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise ManifestError(f"{name}:{n}: header lacks column(s) {', '.join(missing)}; "
                                    f"expected: {' '.join(COLUMNS)}")
            continue
        if len(cells) < len(header):
            cells += [""] * (len(header) - len(cells))
        d = {h: c.strip() for h, c in zip(header, cells)}
        why = _row_problem(d, judged)
        if why:
            problems.append(f"{name}:{n}: {d.get('id') or '?'}: {why}")
            continue
        rows.append(Row(id=d["id"], repo=d["repo"], path=d["path"], commit=d["commit"], style=d["style"],
                        form=d["form"], support=[s for s in d["support"].split(";") if s.strip()],
                        truth=d["truth"], expected=d["expected"], bug=d["bug"], named=d["named"],
                        patterns=[p for p in d["patterns"].split(";") if p.strip()], evidence=d["evidence"],
                        manifest=name, line=n))
    if header is None:
        raise ManifestError(f"{name}: empty manifest (no header line)")
    seen: dict[str, int] = {}
    for r in rows:
        if r.id in seen:
            problems.append(f"{name}:{r.line}: duplicate id {r.id} (first on line {seen[r.id]})")
        seen.setdefault(r.id, r.line)
    return rows, problems


def _row_problem(d: dict, judged: bool = True) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", d.get("id", "")):
        return "id must be letters, digits, '.', '_', '-'"
    if not re.fullmatch(r"[^/\s]+/[^/\s]+", d.get("repo", "")):
        return f"repo {d.get('repo')!r} is not owner/name"
    if not re.fullmatch(r"[0-9a-f]{40}", d.get("commit", "")):
        return f"commit {d.get('commit')!r} is not a full 40-hex commit"
    if not d.get("path") or d["path"].startswith("/") or ".." in Path(d["path"]).parts:
        return f"path {d.get('path')!r} must be repo-relative"
    if not judged and not d.get("truth") and not d.get("expected"):
        return None
    if d.get("truth") not in ("correct", "buggy"):
        return f"truth {d.get('truth')!r} must be correct or buggy"
    if d.get("expected") not in ("pass", "fail"):
        return f"expected {d.get('expected')!r} must be pass or fail"
    if d["truth"] == "buggy" and d["expected"] != "fail":
        return "a buggy file must be expected to fail"
    if d.get("named"):
        try:
            re.compile(d["named"])
        except re.error as e:
            return f"named is not a valid regex: {e}"
    return None


def load_manifests(patterns: list[str], *, judged: bool = True) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    problems: list[str] = []
    files: list[str] = []
    for p in patterns:
        hits = sorted(glob.glob(p)) or sorted(glob.glob(str(REPO_ROOT / p)))
        if not hits:
            problems.append(f"no manifest matches {p}")
        files += hits
    for f in files:
        try:
            r, pr = parse_manifest(Path(f).read_text(encoding="utf-8"), name=os.path.relpath(f), judged=judged)
        except (OSError, ManifestError) as e:
            problems.append(str(e))
            continue
        rows += r
        problems += pr
    return rows, problems


# ---------------------------------------------------------------- materialize


def _git_dir(mirror: Path, repo: str) -> Path | None:
    base = mirror / repo.replace("/", "+", 1) / "repo"
    for d in (base / ".git", base):
        if (d / "HEAD").exists() or (d / "objects").is_dir():
            return d
    return None


def materialize(rows: list[Row], mirror: Path, out: Path) -> tuple[int, list[str]]:
    """Write every row's file and support files; returns (files written, problems)."""
    written = 0
    problems: list[str] = []
    for r in rows:
        g = _git_dir(mirror, r.repo)
        if g is None:
            problems.append(f"{r.id}: no mirror of {r.repo} under {mirror} (fetch it first)")
            continue
        for p in [r.path] + r.support:
            dst = out / r.id / p
            try:
                data = subprocess.run(["git", "--git-dir", str(g), "show", f"{r.commit}:{p}"], check=True,
                                      capture_output=True, timeout=60).stdout
            except subprocess.CalledProcessError as e:
                problems.append(f"{r.id}: git show {r.commit[:10]}:{p} failed: "
                                f"{e.stderr.decode(errors='replace').strip()[:200]}")
                continue
            except subprocess.TimeoutExpired:
                problems.append(f"{r.id}: git show {r.commit[:10]}:{p} timed out")
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
            written += 1
    return written, problems


# ---------------------------------------------------------------- score


def diagnosis_text(report: dict) -> str:
    """What a named regex is matched against: every check that did not pass (name, the plain first line the
    reader sees, message, diagnosis, class)."""
    parts = []
    for c in report.get("checks", []):
        if c.get("verdict") == "pass":
            continue
        parts += [str(c.get(k) or "") for k in ("name", "plain", "message", "diagnosis", "bug_class")]
    parts += [str(b) for b in report.get("bug_classes", [])]
    return "\n".join(p for p in parts if p)


def outcome_from_json(row: Row, stdout: str, seconds: float, returncode: int, stderr: str = "") -> Outcome:
    try:
        report = json.loads(stdout)
        verdict = report["verdict"]
        if verdict not in ("pass", "warn", "fail", "error"):
            raise ValueError(verdict)
    except (ValueError, KeyError, TypeError):
        tail = (stderr or stdout).strip().splitlines()[-1:] or [""]
        return Outcome(row, "crash", seconds, "", f"exit {returncode}, no JSON verdict: {tail[0][:200]}")
    return Outcome(row, verdict, seconds, diagnosis_text(report))


def bpcheck_command() -> list[str]:
    exe = Path(sys.executable).with_name("bpcheck")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "reports.cli"]


def run_row(row: Row, corpus: Path, timeout: float, extra: list[str], save: Path | None = None) -> Outcome:
    root = corpus / row.id
    target = root / row.path
    if not target.exists():
        return Outcome(row, "missing", 0.0, "", f"{target} not found (run materialize)")
    cmd = bpcheck_command() + ["validate", "--json", "--root", str(root), str(target)] + extra
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(REPO_ROOT))
    except subprocess.TimeoutExpired:
        return Outcome(row, "timeout", time.monotonic() - t0, "", f"bpcheck took over {timeout:g} s")
    except OSError as e:
        return Outcome(row, "crash", time.monotonic() - t0, "", f"could not run bpcheck: {e}")
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"{row.id}.json").write_text(p.stdout or "", encoding="utf-8")
    return outcome_from_json(row, p.stdout, time.monotonic() - t0, p.returncode, p.stderr)


@dataclass
class Score:
    n: int = 0
    right: int = 0
    buggy: int = 0
    named: int = 0
    by_pattern: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))  # n, right, buggy, named

    def add(self, o: Outcome) -> None:
        self.n += 1
        self.right += o.right
        if o.row.truth == "buggy":
            self.buggy += 1
            self.named += bool(o.named)
        for p in o.row.patterns or ["(none)"]:
            s = self.by_pattern[p]
            s[0] += 1
            s[1] += o.right
            if o.row.truth == "buggy":
                s[2] += 1
                s[3] += bool(o.named)


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f}%" if b else "-"


def score_outcomes(outcomes: list[Outcome]) -> Score:
    s = Score()
    for o in outcomes:
        s.add(o)
    return s


def format_line(o: Outcome) -> str:
    named = {None: "-", True: "named", False: "NOT named"}[o.named]
    mark = "right" if o.right else "WRONG"
    extra = f"  ({o.detail})" if o.detail else ""
    return f"{o.row.id:40} expected {o.row.expected:4}  got {o.got:7} {mark:5}  {named:9} {o.seconds:6.1f}s{extra}"


def format_summary(s: Score) -> str:
    lines = [f"N files: {s.n}", f"right verdicts: {s.right}/{s.n} ({pct(s.right, s.n)})",
             f"buggy files named by the diagnosis: {s.named}/{s.buggy} ({pct(s.named, s.buggy)})", "",
             "per pattern: files, right, buggy, named"]
    for p, (n, r, b, nm) in sorted(s.by_pattern.items()):
        lines.append(f"  {p:28} {n:3}  right {r:3} ({pct(r, n):>6})  buggy {b:3}  named {nm:3} ({pct(nm, b):>6})")
    return "\n".join(lines)


# ---------------------------------------------------------------- CLI


def _select(rows: list[Row], only: str | None) -> list[Row]:
    if not only:
        return rows
    want = [w for w in only.split(",") if w]
    return [r for r in rows if any(re.fullmatch(w.replace("*", ".*"), r.id) for w in want)]


def cmd_materialize(args) -> int:
    rows, problems = load_manifests(args.manifest or [DEFAULT_MANIFESTS], judged=False)
    rows = _select(rows, args.only)
    n, more = materialize(rows, Path(args.mirror), Path(args.out))
    for p in problems + more:
        print(f"corpus: {p}", file=sys.stderr)
    print(f"materialized {n} files for {len(rows)} rows into {args.out}")
    return 1 if more else 0


def replay_row(row: Row, saved: Path) -> Outcome:
    """The outcome of a report kept by an earlier `score --save` run: a measurement taken before the truth
    was written (or before bpcheck changed) is scored later without running bpcheck again."""
    f = saved / f"{row.id}.json"
    if not f.exists():
        return Outcome(row, "missing", 0.0, "", f"{f} not found (score with --save first)")
    return outcome_from_json(row, f.read_text(encoding="utf-8"), 0.0, 0)


def format_blind(o: Outcome) -> str:
    """A blind line: the verdict only, never the diagnosis (the truth is established without reading it)."""
    extra = f"  ({o.detail})" if o.detail else ""
    return f"{o.row.id:40} got {o.got:7} {o.seconds:6.1f}s{extra}"


def cmd_score(args) -> int:
    # --blind: rows whose truth is not written yet are run too; there is nothing to score them against
    rows, problems = load_manifests(args.manifest or [DEFAULT_MANIFESTS], judged=not args.blind)
    for p in problems:
        print(f"corpus: {p}", file=sys.stderr)
    rows = _select(rows, args.only)
    if not rows:
        print("corpus: no rows to score", file=sys.stderr)
        return 2
    extra = list(args.bpcheck_arg or [])
    corpus = Path(args.corpus)
    save = Path(args.save) if args.save else None
    outcomes: list[Outcome] = []
    if args.replay:
        outcomes = [replay_row(r, Path(args.replay)) for r in rows]
        for o in outcomes:
            print(format_blind(o) if args.blind else format_line(o), flush=True)
    else:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(_safe_run, r, corpus, args.timeout, extra, save) for r in rows]
            for f in futures:
                o = f.result()
                outcomes.append(o)
                print(format_blind(o) if args.blind else format_line(o), flush=True)
    if args.blind:
        counts = defaultdict(int)
        for o in outcomes:
            counts[o.got] += 1
        print(f"\nN files: {len(outcomes)} (blind: not scored); verdicts: "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        return 0
    s = score_outcomes(outcomes)
    print()
    print(format_summary(s))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "n": s.n, "right": s.right, "buggy": s.buggy, "named": s.named,
            "rows": [{"id": o.row.id, "manifest": o.row.manifest, "expected": o.row.expected, "got": o.got,
                      "right": o.right, "named": o.named, "seconds": round(o.seconds, 1), "detail": o.detail,
                      "patterns": o.row.patterns} for o in outcomes]}, indent=1), encoding="utf-8")
    return 0


def cmd_expected(args) -> int:
    """The manifests as an instructor's hand-grade table for `bpcheck grade DIR --expected FILE`:
    one sub-folder of the corpus per submission (its id), the expected verdict (pass or fail)."""
    rows, problems = load_manifests(args.manifest or [DEFAULT_MANIFESTS])
    for p in problems:
        print(f"corpus: {p}", file=sys.stderr)
    rows = _select(rows, args.only)
    lines = ["file\texpected"] + [f"{r.id}\t{r.expected}" for r in rows]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} expected verdicts to {args.out}; run: bpcheck grade corpus --expected {args.out}")
    return 0


def _safe_run(row: Row, corpus: Path, timeout: float, extra: list[str], save: Path | None) -> Outcome:
    try:
        return run_row(row, corpus, timeout, extra, save)
    except Exception as e:  # noqa: BLE001 -- one bad row never stops the score
        return Outcome(row, "crash", 0.0, "", f"scoring failed: {type(e).__name__}: {e}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="corpus.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("materialize", help="write every manifest row's file (and support files) from the mirrors")
    m.add_argument("--mirror", default="/work/.mirror", help="folder of fetched mirrors, owner+name/repo")
    m.add_argument("--out", default="corpus", help="output folder (git-ignored corpus/ by default)")
    s = sub.add_parser("score", help="run bpcheck validate on every row and print right verdicts, bugs named")
    s.add_argument("--corpus", default="corpus", help="the materialized corpus folder")
    s.add_argument("--jobs", type=int, default=2, help="files validated at once (default 2)")
    s.add_argument("--timeout", type=float, default=900.0, help="seconds per file before it counts as timeout")
    s.add_argument("--json", help="also write the per-row outcomes to this JSON file")
    s.add_argument("--save", help="folder to keep each file's bpcheck JSON report in")
    s.add_argument("--blind", action="store_true",
                   help="also run rows whose truth is not written yet; print verdicts only (keep reports with --save)")
    s.add_argument("--replay", metavar="DIR",
                   help="score the reports a --save run kept in DIR instead of running bpcheck")
    s.add_argument("--bpcheck-arg", action="append", metavar="ARG",
                   help="extra argument for bpcheck validate (repeat), e.g. --bpcheck-arg=--cases=20")
    e = sub.add_parser("expected", help="write the hand-grade TSV for `bpcheck grade corpus --expected FILE`")
    e.add_argument("--out", default="corpus-expected.tsv", help="where to write it")
    for p in (m, s, e):
        p.add_argument("--manifest", action="append", help=f"manifest TSV(s) or globs (default {DEFAULT_MANIFESTS})")
        p.add_argument("--only", help="comma-separated ids (* wildcards) to restrict to")
    args = ap.parse_args(argv)
    return {"materialize": cmd_materialize, "score": cmd_score, "expected": cmd_expected}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
