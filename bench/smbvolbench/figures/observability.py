"""Figure 7, journal and metrics on vs off: the no-op hook and the one-image prepare with
`journal_socket` pointing at a listener of the bench's own and `metrics_file` set, against the
same binary with both off (`journal_socket = ""`), alternated. Wall and CPU (user + sys)."""

import os

from ..harness import Command
from .base import Figure, Row, Target
from .prepare_vs_qq import prepare

NOOP_OFF = "noop_off"
NOOP_ON = "noop_on"
PREPARE_OFF = "prepare_off"
PREPARE_ON = "prepare_on"
METRICS_WRITTEN = "metrics_written"
PAIRS = (("no-op", NOOP_OFF, NOOP_ON), ("prepare, 1 disk", PREPARE_OFF, PREPARE_ON))


def run(session):
    sim = session.main
    workspace = session.workspace
    web01 = workspace.write_xml("web01", 1, f"{sim.mount_point()}/web01/disk0.qcow2", sim.dir)

    def noop(env):
        def run_once(smbvol):
            sample = session.runner.run(smbvol.argv("hook", "other", "prepare", "begin", "-"), stdin_path=workspace.noop_xml, env=env)
            session.check("hook no-op (observability)", sample)
            return {"ms": sample.ms, "rss_kb": sample.rss_kb, "cpu_ms": sample.cpu_ms}
        return run_once

    result = session.group("7. journal and metrics on vs off", [
        Command(NOOP_OFF, "hook no-op, journal and metrics off", noop(sim.env_off)),
        Command(NOOP_ON, "hook no-op, journal and metrics on", noop(sim.env_obs)),
        Command(PREPARE_OFF, "prepare, 1 disk, journal and metrics off", prepare(session, sim, "web01", web01, env=sim.env_off)),
        Command(PREPARE_ON, "prepare, 1 disk, journal and metrics on", prepare(session, sim, "web01", web01, env=sim.env_obs)),
    ])
    # Whether each binary writes the metrics: one more no-op with them on, from no file.
    for binary in session.binaries:
        if os.path.exists(sim.metrics_file):
            os.unlink(sim.metrics_file)
        noop(sim.env_obs)(binary)
        metrics = open(sim.metrics_file).read() if os.path.exists(sim.metrics_file) else ""
        name = METRICS_WRITTEN if binary.role == "candidate" else "baseline_" + METRICS_WRITTEN
        result[name] = "smbvol_hook_runs_total" in metrics
    return result


def delta(result, off, on, column="ms"):
    return result[on][column]["median"] - result[off][column]["median"]


def rows(result):
    listed = []
    for _, off, on in PAIRS:
        listed += [Row(7, off), Row(7, on, f"{delta(result, off, on):+.2f} ms vs off")]
    return listed


def within_1ms(off, on):
    def check(result):
        d = delta(result, off, on)
        return f"{d:+.2f} ms", d <= 1.0 and result[METRICS_WRITTEN]
    return check


def cpu_within_1ms(off, on):
    def check(result):
        d = delta(result, off, on, "cpu_ms")
        return f"{d:+.2f} ms", d <= 1.0
    return check


FIGURE = Figure(
    id="7", key="7_observability", title="journal and metrics on vs off", run=run, rows=rows,
    targets=tuple(Target(f"hook {what}: journal + metrics on within 1 ms of off (median)", within_1ms(off, on))
                  for what, off, on in PAIRS)
    + tuple(Target(f"hook {what}: journal + metrics on within 1 ms of off (CPU, median)", cpu_within_1ms(off, on), alone_only=True)
            for what, off, on in PAIRS))
