"""`bpcheck mutants`: run the property checks on every mutant of the zoo and print the kill matrix.

Exit 0 when every mutant is killed, 1 when one survives, 2 for usage errors. The work is in
reports.mutation_run.kill_run; this module only parses arguments and prints.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "main", "format_matrix"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "mutants",
        help="kill run of the mutation zoo (every mutant must fail a check; the diagnosis should name its bug)",
        description="Run the property checks (torch oracle comparison of loss, gradients, update and side "
                    "effects, and a finite-difference screen) on every mutant in reference/mutants.py.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--cases", type=int, default=12, metavar="N", help="Cases per mutant entry point (default 12)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the drawn Cases (default 0)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="run only this mutant (repeatable)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="dtype the mutants compute in (the oracle stays float64; default float64)")
    p.add_argument("--shrink", type=int, default=40, metavar="STEPS",
                   help="shrink each mutant's first failing Case with at most STEPS checks (0: off; default 40)")
    p.add_argument("--workers", type=int, default=1, metavar="K", help="run the mutants in K local processes")
    p.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="run them on an existing Dask cluster (tcp://host:8786, a scheduler file, or local:N); "
                        "needs bpcheck[cluster]. Same results as local")
    p.set_defaults(func=main)


def format_matrix(results) -> str:
    """The kill matrix (mutant x check: failing Cases) and the diagnosis summary, as text."""
    from tabulate import tabulate

    from reports.mutation_run import COLUMNS

    rows = []
    for r in results:
        d = r.diagnosis
        rows.append([
            r.name,
            *[r.kills.get(c, "") or "." for c in COLUMNS],
            "KILLED" if r.killed else "SURVIVED",
            r.bug_class,
            (d.bug_class if d else "-") + (" ok" if r.named else " !"),
        ])
    headers = ["mutant", *[c.replace("grad_", "d").replace("side_effects", "side").replace("trajectory", "traj")
                           .replace("training_loop", "loop")
                           for c in COLUMNS], "verdict", "planted", "diagnosed"]
    n = len(results)
    killed = sum(r.killed for r in results)
    named = sum(r.named for r in results)
    lines = [tabulate(rows, headers=headers, tablefmt="github"), ""]
    lines.append(f"killed {killed}/{n} mutants; diagnosis names the planted bug class for {named}/{n} "
                 f"({100.0 * named / max(n, 1):.0f}%)")
    for r in results:
        if not r.killed:
            lines.append(f"SURVIVED {r.name} ({r.bug_class}): {r.description}; {r.n_cases} Cases, no check failed")
    alarms: dict[str, int] = {}
    for r in results:
        for c, k in r.false_alarms.items():
            alarms[c] = max(alarms.get(c, 0), k)
    if alarms:
        lines.append("false alarms (the unmutated reference failed these checks on the same Cases; not counted "
                     "as kills): " + ", ".join(f"{c} on up to {k} Cases" for c, k in sorted(alarms.items())))
    shrunk = [r for r in results if r.smallest is not None]
    if shrunk:
        lines.append("")
        lines.append(tabulate([[r.name, r.smallest_entry, r.smallest.describe()] for r in shrunk],
                              headers=["mutant", "entry", "smallest failing Case (shrunk)"], tablefmt="github"))
    for r in results:
        if r.killed and not r.named:
            lines.append(f"misdiagnosed {r.name}: planted {r.bug_class}, said {r.diagnosis}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from reports.executors import ClusterUnavailable
    from reports.mutation_run import kill_run

    if args.cases < 1:
        print(f"bpcheck mutants: --cases {args.cases} must be >= 1 (try --cases 12)", file=sys.stderr)
        return 2
    if getattr(args, "workers", 1) < 1:
        print(f"bpcheck mutants: --workers {args.workers} must be >= 1", file=sys.stderr)
        return 2
    try:
        results = kill_run(args.only, cases=args.cases, seed=args.seed, shrink_steps=max(args.shrink, 0),
                           dtype=args.dtype, workers=args.workers, cluster=args.cluster,
                           progress=None if args.json else (lambda n: print(f"  {n}", file=sys.stderr)))
    except (ValueError, ClusterUnavailable) as exc:
        print(f"bpcheck mutants: {exc}", file=sys.stderr)
        return 2
    if args.json:
        n = len(results)
        named = sum(r.named for r in results)
        print(json.dumps({
            "mutants": [r.to_dict() for r in results],
            "killed": sum(r.killed for r in results),
            "total": n,
            "diagnosis_named_fraction": named / max(n, 1),
        }, indent=2))
    else:
        print(format_matrix(results))
    return 0 if all(r.killed for r in results) else 1
