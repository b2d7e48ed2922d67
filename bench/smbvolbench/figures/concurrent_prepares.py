"""Figure 5, 20 prepares on one share (not mounted at the start: every domain is released between
runs): 20 concurrent `prepare begin` (total wall time; mount calls in the stand-in's mount.log must
be 1; locks from `smbvol lock list --json` must be 20), against the same 20 one after another."""

import json
import subprocess
import time

from ..harness import Command
from ..simulator import POOL_DOMAINS
from .base import Figure, Row, Target

CONCURRENT = "concurrent"
SEQUENTIAL = "sequential"


def run(session):
    sim = session.main
    workspace = session.workspace
    pool = sim.mount_point("pool")
    xmls = [workspace.write_xml(f"dom{index:02d}", 100 + index, f"{pool}/dom{index:02d}/disk0.qcow2", sim.dir)
            for index in range(POOL_DOMAINS)]

    def release_all(smbvol):
        for index, xml in enumerate(xmls):
            with open(xml, "rb") as stdin:
                subprocess.run(smbvol.argv("hook", f"dom{index:02d}", "release", "end", "-"), stdin=stdin, env=sim.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pool_locks(smbvol):
        out = subprocess.run(smbvol.argv("lock", "list", "--json"), env=sim.env, capture_output=True, text=True)
        return sum(1 for lock in json.loads(out.stdout)["locks"] if lock.get("share") == "pool")

    def concurrent(smbvol):
        release_all(smbvol)
        before = workspace.mounts_of("//srv/pool ")
        sim.reset_requests()
        handles = []
        start = time.perf_counter()
        for index, xml in enumerate(xmls):
            stdin = open(xml, "rb")
            handles.append((subprocess.Popen(smbvol.argv("hook", f"dom{index:02d}", "prepare", "begin", "-"), stdin=stdin,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=sim.env), stdin))
        for process, stdin in handles:
            _, err = process.communicate()
            stdin.close()
            if process.returncode != 0 or err.strip():
                session.failures.append(f"concurrent prepare: exit {process.returncode}: {err.decode()[:300]}")
        elapsed = (time.perf_counter() - start) * 1000.0
        return {"ms": elapsed, "mounts": workspace.mounts_of("//srv/pool ") - before, "locks": pool_locks(smbvol),
                "requests": len(sim.state()["requests"])}

    def sequential(smbvol):
        release_all(smbvol)
        before = workspace.mounts_of("//srv/pool ")
        sim.reset_requests()
        start = time.perf_counter()
        for index, xml in enumerate(xmls):
            sample = session.runner.run(smbvol.argv("hook", f"dom{index:02d}", "prepare", "begin", "-"), stdin_path=xml, env=sim.env)
            session.check("sequential prepare", sample)
        elapsed = (time.perf_counter() - start) * 1000.0
        return {"ms": elapsed, "mounts": workspace.mounts_of("//srv/pool ") - before, "locks": pool_locks(smbvol),
                "requests": len(sim.state()["requests"])}

    result = session.group(f"5. {POOL_DOMAINS} prepares on one share", [
        Command(CONCURRENT, f"{POOL_DOMAINS} concurrent prepare begin, one share", concurrent),
        Command(SEQUENTIAL, f"{POOL_DOMAINS} sequential prepare begin, one share", sequential),
    ], warmup=1)
    release_all(session.candidate)
    return result


def rows(result):
    c = result[CONCURRENT]
    return [Row(5, CONCURRENT, f"mounts {c['mounts']['max']}, locks {c['locks']['max']}; "
                               f"sequential/concurrent {result[SEQUENTIAL]['ms']['median'] / c['ms']['median']:.2f}×"),
            Row(5, SEQUENTIAL)]


def one_mount(result):
    c = result[CONCURRENT]
    return (f"mounts {c['mounts']['min']}..{c['mounts']['max']}, locks {c['locks']['min']}..{c['locks']['max']}",
            c["mounts"] == {"min": 1, "max": 1} and c["locks"] == {"min": POOL_DOMAINS, "max": POOL_DOMAINS})


FIGURE = Figure(
    id="5", key="5_concurrent", title=f"{POOL_DOMAINS} prepares on one share", run=run, rows=rows,
    targets=(Target(f"{POOL_DOMAINS} concurrent prepares: 1 mount, {POOL_DOMAINS} locks", one_mount),))
