"""Figures 2 and 3: one prepare (`smbvol hook NAME prepare begin -`, share mounted, token cached),
with no handle on the image and with 3 stale handles (re-added before each run, closed by it),
against the same per-image work with qq (get_attr, list, and one close per stale handle)."""

from ..harness import Command
from ..simulator import STALE_LOCATIONS
from .base import Figure, Row, Target

SMBVOL_CLEAN = "smbvol_0"
QQ_CLEAN = "qq_0"
SMBVOL_STALE = "smbvol_3"
QQ_STALE = "qq_3"


class ClosedCounter:
    """How many of the stale handles a run closed (the simulator's closed_locations only grows)."""

    def __init__(self):
        self.before = 0

    def count(self, state):
        closed = sum(1 for location in state["closed_locations"] if location in STALE_LOCATIONS)
        new, self.before = closed - self.before, closed
        return new


def prepare(session, sim, name, xml, stale=None, env=None):
    """One timed prepare of domain `name` (stale: a ClosedCounter, the stale handles re-added first)."""
    def run(smbvol):
        if stale:
            sim.add_stale_handles()
        sim.reset_requests()
        sample = session.runner.run(smbvol.argv("hook", name, "prepare", "begin", "-"), stdin_path=xml, env=env or sim.env)
        session.check(f"prepare {name}", sample)
        state = sim.state()
        result = {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(state["requests"]), "cpu_ms": sample.cpu_ms}
        if stale:
            result["closed"] = stale.count(state)
        return result
    return run


def qq_sequence(session, sim, path, stale=None):
    """The same per-image work with qq: time summed over the calls, peak RSS the largest."""
    def run(_):
        if stale:
            sim.add_stale_handles()
        sim.reset_requests()
        total, peak = 0.0, 0
        steps = [(sim.qq("fs_file_get_attr", "--path", path), None), (sim.qq("smb_list_file_handles", "--path", path), None)]
        if stale:
            steps += [(sim.qq("smb_close_file_handle", "--location", location), b"yes\n") for location in STALE_LOCATIONS]
        for argv, answer in steps:
            sample = session.runner.run(argv, stdin_bytes=answer)
            if sample.status != 0:
                session.failures.append(f"qq {argv[7]}: exit {sample.status}: {sample.stderr.strip()[:300]}")
            total += sample.ms
            peak = max(peak, sample.rss_kb)
        state = sim.state()
        result = {"ms": total, "rss_kb": peak, "requests": len(state["requests"])}
        if stale:
            result["closed"] = stale.count(state)
        return result
    return run


def run(session):
    sim = session.main
    mount_point = sim.mount_point()
    web01 = session.workspace.write_xml("web01", 1, f"{mount_point}/web01/disk0.qcow2", sim.dir)
    stale01 = session.workspace.write_xml("stale01", 2, f"{mount_point}/stale01/disk0.qcow2", sim.dir)
    closed = ClosedCounter()
    return session.group("2+3. prepare one disk, and the qq sequence for the same image", [
        Command(SMBVOL_CLEAN, "smbvol hook prepare, 1 disk, no handles", prepare(session, sim, "web01", web01)),
        Command(QQ_CLEAN, "qq fs_file_get_attr + smb_list_file_handles",
                qq_sequence(session, sim, "/vmstore/web01/disk0.qcow2"), peer=True),
        Command(SMBVOL_STALE, "smbvol hook prepare, 1 disk, 3 stale handles", prepare(session, sim, "stale01", stale01, closed)),
        Command(QQ_STALE, "qq get_attr + list + 3 x smb_close_file_handle",
                qq_sequence(session, sim, "/vmstore/stale01/disk0.qcow2", closed), peer=True),
    ])


def speedup(result, smbvol, qq):
    return result[qq]["ms"]["median"] / result[smbvol]["ms"]["median"]


def rows(result):
    return [Row(2, SMBVOL_CLEAN, f"qq/smbvol {speedup(result, SMBVOL_CLEAN, QQ_CLEAN):.1f}×"),
            Row(3, QQ_CLEAN),
            Row(2, SMBVOL_STALE, f"qq/smbvol {speedup(result, SMBVOL_STALE, QQ_STALE):.1f}×"),
            Row(3, QQ_STALE)]


def clean_median(result):
    median = result[SMBVOL_CLEAN]["ms"]["median"]
    return f"{median:.1f} ms", median <= 50


def clean_requests(result):
    requests = result[SMBVOL_CLEAN]["requests"]["max"]
    return f"{requests}", requests <= 4


def faster_than_qq(smbvol, qq):
    def check(result):
        ratio = speedup(result, smbvol, qq)
        return f"{ratio:.1f}x", ratio >= 20
    return check


FIGURE = Figure(
    id="2", key="2_3_prepare_vs_qq", title="prepare one disk, and the qq sequence for the same image", run=run, rows=rows,
    targets=(Target("prepare, 1 disk, no handles: <= 50 ms median", clean_median),
             Target("prepare, 1 disk, no handles: <= 4 HTTP requests (cached token)", clean_requests),
             Target(">= 20x faster than the qq sequence (3 stale handles)", faster_than_qq(SMBVOL_STALE, QQ_STALE)),
             Target(">= 20x faster than the qq sequence (no handles)", faster_than_qq(SMBVOL_CLEAN, QQ_CLEAN))))
