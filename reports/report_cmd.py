"""`bpcheck report` (a fuzz campaign that writes a discrepancy report) and `bpcheck replay FILE`.

Exit codes: 0 every subject passed; 1 a discrepancy was found (replay: the case still fails);
2 usage error (the message says how to fix it); 130 interrupted (the partial report is written).
No torch import at module import time: the campaign imports the oracles when it runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

__all__ = ["register", "cmd_report", "cmd_replay", "DEFAULT_OUT"]

DEFAULT_OUT = "bpcheck-report"
EXIT_OK, EXIT_DISCREPANCY, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_int(what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{what} must be at least 1, got {value}")
        return value

    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--seed must be >= 0, got {value}")
    return value


def register(subparsers) -> None:
    from reports.campaign import DEFAULT_CASES

    p = subparsers.add_parser(
        "report",
        help="fuzz the bundled implementations against torch autograd and finite differences; write a report",
        description=(
            "Run a fuzz campaign (subjects x random cases x oracles torch and fd) and write results.json, "
            "report.md, report.html, junit.xml and the failing cases (cases/*.npz) into --out. "
            f"With no arguments: every bundled reference implementation, {DEFAULT_CASES} cases each, "
            f"float64, seed 0, into ./{DEFAULT_OUT}/ (about 2 minutes on 2 cores). "
            "Exit 0 all pass, 1 discrepancies, 2 usage error, 130 interrupted (partial report written)."
        ),
    )
    p.add_argument("--cases", type=_positive_int("--cases"), default=DEFAULT_CASES, metavar="N",
                   help=f"random cases per subject (default {DEFAULT_CASES})")
    p.add_argument("--seed", type=_seed, default=0, metavar="S",
                   help="campaign seed; case i uses seed*1000003+i (default 0)")
    p.add_argument("--subjects", default=None, metavar="NAME,...",
                   help="comma-separated subjects (default: all bundled references); a style name selects all "
                        "its subjects; mutant:NAME runs a mutant; an unknown name lists the valid ones")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="the dtype the implementations receive (oracles always compute in float64)")
    p.add_argument("--workers", type=_positive_int("--workers"), default=1, metavar="K",
                   help="run cases in K processes (same results as serial for the same seed)")
    p.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="run the cases on an existing Dask cluster (tcp://host:8786, a scheduler file, or local:N "
                        "for a trial on this machine); needs pip install 'bpcheck[cluster]'. Same results as local")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default ./{DEFAULT_OUT})")
    p.add_argument("--no-shrink", dest="shrink", action="store_false",
                   help="report failing cases as drawn, without shrinking them first")
    p.set_defaults(func=cmd_report)

    r = subparsers.add_parser(
        "replay",
        help="re-run one saved case (cases/*.npz from a report) and print the full comparison",
        description="Load a saved Case, run its subject and every oracle on it, print every comparison. "
                    "Exit 0 if it passes now, 1 if it still fails, 2 usage error.",
    )
    r.add_argument("file", metavar="FILE", help="a case file, e.g. bpcheck-report/cases/<subject>-<id>.npz")
    r.add_argument("--subject", default=None, metavar="NAME",
                   help="the subject to run (default: the one recorded in the case file)")
    r.set_defaults(func=cmd_replay)


def _usage(msg: str) -> int:
    print(f"bpcheck: error: {msg}", file=sys.stderr)
    return EXIT_USAGE


def _check_writable(out: Path) -> str | None:
    """None when ``out`` (and out/cases) can be created and written, else why not."""
    if out.exists() and not out.is_dir():
        return f"--out {out} exists and is not a folder; pass a folder path with --out DIR"
    try:
        (out / "cases").mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".bpcheck-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        return f"cannot write to --out {out}: {e.strerror or e}; choose a writable folder with --out DIR"
    return None


def _clear_old_cases(cases: Path) -> None:
    # cases/ is ours: stale files from an earlier run would be mistaken for this run's failures
    for f in cases.glob("*.npz"):
        try:
            f.unlink()
        except OSError:
            pass


def cmd_report(args: argparse.Namespace) -> int:
    from reports import campaign, render

    out = Path(args.out)
    problem = _check_writable(out)
    if problem:
        return _usage(problem)
    try:
        subjects = campaign.parse_subjects(args.subjects)
    except campaign.UnknownSubject as e:
        return _usage(str(e))
    if not subjects:
        return _usage("no subjects to run: none of the bundled implementations was recognised")
    cluster = getattr(args, "cluster", None)
    config = campaign.CampaignConfig(cases=args.cases, seed=args.seed, dtype=args.dtype, workers=args.workers,
                                     shrink=getattr(args, "shrink", True), cluster=cluster)
    _clear_old_cases(out / "cases")
    campaign.preload()
    command = (f"bpcheck report --cases {config.cases} --seed {config.seed} --dtype {config.dtype} "
               f"--workers {config.workers} --out {shlex.quote(str(out))}"
               + (f" --subjects {shlex.quote(args.subjects)}" if args.subjects else "")
               + ("" if config.shrink else " --no-shrink")
               + (f" --cluster {shlex.quote(cluster)}" if cluster else ""))
    where = f"cluster {cluster}" if cluster else f"{config.workers} worker(s)"
    print(f"bpcheck: {len(subjects)} subject(s) x {config.cases} cases x oracles {', '.join(config.oracles)} "
          f"({config.dtype}, seed {config.seed}, {where}) -> {out}/", file=sys.stderr, flush=True)
    notes = list(campaign.SKIPPED) if not args.subjects else []
    for note in notes:
        print(f"bpcheck: warning: {note}", file=sys.stderr)
    from reports.executors import ClusterUnavailable

    try:
        results = campaign.run_campaign(subjects, config, cases_dir=out / "cases", replay_dir=str(out / "cases"),
                                        command=command, notes=notes)
    except ClusterUnavailable as e:
        return _usage(str(e))
    written = render.write_reports(results, out)
    print(render.summary_table(results, tablefmt="simple"))
    print()
    print(render.headline(results))
    for d in results["discrepancies"]:
        small = d["smallest"]
        line = f"  {d['id']} {d['subject']} / {d['check']} / {d['oracle']}: {d['diagnosis']}"
        print(line if len(line) < 160 else line[:157] + "...")
        if small and small.get("replay"):
            print(f"     replay: {small['replay']}")
    print(f"wrote {', '.join(str(p) for p in written.values())} and {out / 'cases'}/")
    if results["meta"]["interrupted"]:
        print("bpcheck: interrupted; the report covers the cases that completed", file=sys.stderr)
        return EXIT_INTERRUPTED
    # a bundled implementation that cannot even be imported is a discrepancy too
    return EXIT_DISCREPANCY if results["discrepancies"] or notes else EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from oracles.case import Case
    from reports import campaign, render

    path = Path(args.file)
    if not path.is_file():
        return _usage(f"no case file at {path}; pass a file from a report's cases/ folder "
                      f"(e.g. {DEFAULT_OUT}/cases/<subject>-<id>.npz)")
    try:
        case = campaign._load_case(path.read_bytes())  # an MLP Case or an optimizer OptimCase
    except Exception as e:  # a corrupt or foreign file: say so, do not trace back
        return _usage(f"{path} is not a bpcheck case file ({type(e).__name__}: {e})")
    name = args.subject or next((t[len("subject:"):] for t in case.tags if t.startswith("subject:")), None)
    if not name:
        return _usage(f"{path} does not record its subject; pass --subject NAME "
                      f"(see `bpcheck report --subjects help` for the valid names)")
    try:
        subjects = campaign.parse_subjects(name)
    except campaign.UnknownSubject as e:
        return _usage(str(e))
    if len(subjects) != 1:
        return _usage(f"--subject {name!r} names {len(subjects)} subjects "
                      f"({', '.join(s.name for s in subjects)}); pass exactly one")
    subject = subjects[0]
    config = campaign.CampaignConfig(dtype=case.spec.dtype if isinstance(case, Case) else case.dtype)
    print(f"case {case.case_id} from {path}")
    print(f"  {case.describe()}")
    print(f"  subject {subject.name}; tags: {', '.join(case.tags) or '-'}")
    per_oracle = campaign.evaluate_case(subject, case, config)
    failed = False
    for oracle, verdicts in per_oracle.items():
        print(f"\noracle {oracle}:")
        rows = [[v["check"], v["tensor"], v["status"], render.fmt_err(v["max_abs"]),
                 v["max_abs_index"] or "-", render.fmt_err(v["max_rel"]), render.fmt_err(v["norm_err"]),
                 render.fmt_err(v["allowed"]), render.fmt_err(v["norm_rel"]),
                 "-" if v["norm_ratio"] is None else f"{v['norm_ratio']:.4g}"] for v in verdicts]
        if rows:
            from tabulate import tabulate

            print(tabulate(rows, headers=["check", "tensor", "status", "greatest abs diff", "at", "greatest rel",
                                          "norm err", "allowed", "norm rel", "norm ratio"],
                           tablefmt="simple", disable_numparse=True))
        bad = [v for v in verdicts if v["status"] in ("fail", "error")]
        for v in bad:
            print(f"  FAIL {v['message']}")
            if v["diagnosis"]:
                print(f"       diagnosis: {v['diagnosis']}")
        failed = failed or bool(bad)
    print("\nstill fails" if failed else "\npasses now")
    return EXIT_DISCREPANCY if failed else EXIT_OK
