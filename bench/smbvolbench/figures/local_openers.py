"""Figure 10, the kernel check of this host's leftover handle (a /proc scan for the image's device
and inode) with 500 processes x 100 open files beside it, against the same prepare with none, a
prepare with no handle (no scan at all) under the same load, and fuser answering the same question."""

from ..harness import Command
from ..simulator import LOCAL_LEFTOVER
from ..workspace import ProcessLoad
from .base import Figure, Row, Target

LOAD_PROCESSES = 500
LOAD_FILES_PER_PROCESS = 100
LEFTOVER_QUIET = "leftover_quiet"
PLAIN_QUIET = "plain_quiet"
LEFTOVER_LOADED = "leftover_loaded"
PLAIN_LOADED = "plain_loaded"
FUSER_LOADED = "fuser_loaded"
LOAD = f"{LOAD_PROCESSES} x {LOAD_FILES_PER_PROCESS} open files"


def run(session):
    sim = session.main
    workspace = session.workspace
    mount_point = sim.mount_point()
    local01 = workspace.write_xml("local01", 3, f"{mount_point}/local01/disk0.qcow2", sim.dir)
    web01 = workspace.write_xml("web01", 1, f"{mount_point}/web01/disk0.qcow2", sim.dir)
    env = sim.local_env()
    closed_so_far = [0]

    def leftover(smbvol):
        sim.add_local_leftover()
        sim.reset_requests()
        sample = session.runner.run(smbvol.argv("hook", "local01", "prepare", "begin", "-"), stdin_path=local01, env=env)
        session.check("prepare local01", sample)
        state = sim.state()
        closed = state["closed_locations"].count(LOCAL_LEFTOVER)
        result = {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(state["requests"]), "cpu_ms": sample.cpu_ms,
                  "closed": closed - closed_so_far[0]}
        closed_so_far[0] = closed
        return result

    def plain(smbvol):
        sim.reset_requests()
        sample = session.runner.run(smbvol.argv("hook", "web01", "prepare", "begin", "-"), stdin_path=web01, env=env)
        session.check("prepare web01", sample)
        return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(sim.state()["requests"]), "cpu_ms": sample.cpu_ms}

    def fuser(_):
        # The peer for the same question ("which local process has this file open?"): psmisc's
        # fuser walks /proc the same way. Exit 1 means "nobody", as here.
        sample = session.runner.run(["fuser", f"{mount_point}/local01/disk0.qcow2"])
        return {"ms": sample.ms, "rss_kb": sample.rss_kb, "cpu_ms": sample.cpu_ms}

    quiet = session.group("10. prepare with this host's leftover handle (kernel check), no load", [
        Command(LEFTOVER_QUIET, "prepare, this host's leftover: /proc scan, few processes", leftover),
        Command(PLAIN_QUIET, "prepare, no handle (no scan), few processes", plain)])
    load = ProcessLoad(workspace.work, LOAD_PROCESSES, LOAD_FILES_PER_PROCESS)
    try:
        loaded = session.group(f"10. the same with {LOAD}", [
            Command(LEFTOVER_LOADED, f"prepare, this host's leftover: /proc scan, {LOAD}", leftover),
            Command(PLAIN_LOADED, f"prepare, no handle (no scan), {LOAD}", plain),
            Command(FUSER_LOADED, f"fuser IMAGE (the peer: who has it open), {LOAD}", fuser, peer=True)])
    finally:
        load.stop()
    return {**quiet, **loaded}


def median(result, key):
    return result[key]["ms"]["median"]


def rows(result):
    return [Row(10, LEFTOVER_QUIET),
            Row(10, LEFTOVER_LOADED, f"+{median(result, LEFTOVER_LOADED) - median(result, LEFTOVER_QUIET):.1f} ms"),
            Row(10, PLAIN_QUIET),
            Row(10, PLAIN_LOADED, f"{median(result, PLAIN_LOADED) / median(result, PLAIN_QUIET):.2f}×"),
            Row(10, FUSER_LOADED)]


def scan_within_fuser(result):
    extra = median(result, LEFTOVER_LOADED) - median(result, LEFTOVER_QUIET)
    peer = median(result, FUSER_LOADED)
    return (f"+{extra:.1f} ms ({median(result, LEFTOVER_QUIET):.1f} -> {median(result, LEFTOVER_LOADED):.1f} ms) vs fuser "
            f"{peer:.1f} ms ({peer / extra if extra > 0 else float('inf'):.2f}x); leftover closed per run: "
            f"{result[LEFTOVER_LOADED].get('closed', {}).get('min')} (0: a process whose descriptors cannot be read, e.g. "
            "PID 1 of a sandbox, may hide a holder, so it is reported instead)", extra <= peer)


def plain_flat(result):
    ratio = median(result, PLAIN_LOADED) / median(result, PLAIN_QUIET)
    return f"x{ratio:.2f}", ratio <= 1.2


FIGURE = Figure(
    id="10", key="10_local_openers", title="prepare with this host's leftover handle (kernel check)", run=run, rows=rows,
    targets=(Target(f"kernel check of a leftover under {LOAD}: what it adds to a prepare <= what fuser takes for the same "
                    "question (median, same run)", scan_within_fuser),
             Target("prepare with no handle: no scan, flat under the process load (within 1.2x)", plain_flat)))
