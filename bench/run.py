#!/usr/bin/env python3
"""smbvol benchmarks: smbvol against its peers, side by side, in one run.

Starts qumulo-sim itself (HTTPS on loopback, its own CA), runs inside a private mount namespace
(re-executes itself under `unshare --mount --propagation private`, like scripts/demo) with the
stand-in mount program tools/fake-mount.cifs, and measures each figure as a group of commands
run round-robin (A B A B ...), warm-up runs first, so every ratio is between runs made at the same
moment on the same (possibly noisy) machine. With --baseline-bin-dir, every smbvol command of
every selected figure also runs with the baseline binary, right after itself.

Python 3 standard library only; the code is in bench/smbvolbench/. Usually run through
scripts/bench, which builds the release binaries first; directly:

    bench/run.py --bin-dir .build-release/release [--runs 30] [--warmup 3] [--out bench/results]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from smbvolbench import report  # noqa: E402
from smbvolbench.figures import BY_ID, FIGURES  # noqa: E402
from smbvolbench.harness import log  # noqa: E402
from smbvolbench.session import Session  # noqa: E402

OBSERVABILITY = "7"


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, ".build-release/release"),
                        help="the smbvol (and, by default, qumulo-sim) to measure")
    parser.add_argument("--baseline-bin-dir",
                        help="also run every smbvol command with the smbvol binary in this directory, alternated, "
                             "and show both columns and their ratio")
    parser.add_argument("--qumulo-sim", help="the simulator binary (default: BIN_DIR/qumulo-sim)")
    parser.add_argument("--qq", default=os.path.join(ROOT, ".venv-qq/bin/qq"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench/results"))
    parser.add_argument("--name", help="result file names: OUT/NAME.md and NAME.json (default: latest, "
                                       "or latest-observability with --only-observability)")
    parser.add_argument("--quick", action="store_true", help="skip the 10 000 and 100 000 handle clusters")
    parser.add_argument("--only-observability", action="store_true",
                        help="figure 7 only (journal and metrics on vs off), with its CPU targets")
    parser.add_argument("--only", default="", help=f"comma-separated figure ids to run ({','.join(BY_ID)}); default all")
    parser.add_argument("--storm-runs", type=int, default=3, help="rounds of the boot storm figure (each starts 200 hooks)")
    parser.add_argument("--command", default="scripts/bench", help="the command quoted in the report")
    return parser.parse_args()


def selected(args):
    """The figures to run, in the order they are declared."""
    if args.only_observability:
        return [BY_ID[OBSERVABILITY]]
    if not args.only:
        return list(FIGURES)
    ids = {part.strip() for part in args.only.split(",") if part.strip()}
    unknown = ids - set(BY_ID)
    if unknown:
        raise SystemExit(f"bench: no figure {', '.join(sorted(unknown))} (figures: {', '.join(BY_ID)})")
    return [figure for figure in FIGURES if figure.id in ids]


def main():
    args = arguments()
    figures = selected(args)
    if os.environ.get("SMBVOL_BENCH_IN_NAMESPACE") != "1":
        if os.geteuid() != 0:
            raise SystemExit("bench: needs root (a private mount namespace for the stand-in mounts)")
        env = dict(os.environ, SMBVOL_BENCH_IN_NAMESPACE="1")
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable, *sys.argv], env)

    session = Session(args, ROOT)
    try:
        results, skipped, started, finished = session.run(figures)
        built = report.build(session, figures, results, skipped, started, finished, args.command)
    finally:
        session.close()
    name = args.name or ("latest-observability" if args.only_observability else "latest")
    text = report.markdown(built, figures)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, name + ".json"), "w") as handle:
        json.dump(built, handle, indent=1)
        handle.write("\n")
    with open(os.path.join(args.out, name + ".md"), "w") as handle:
        handle.write(text)
    print(text)
    if session.failures:
        log(f"{len(session.failures)} runs failed; see {name}.md")
        sys.exit(1)


if __name__ == "__main__":
    main()
