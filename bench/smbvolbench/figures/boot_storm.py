"""Figure 9, the boot storm (a rack comes back; libvirt starts every VM at once): 200 concurrent
`smbvol hook vmNNN prepare begin -` for 200 domains on 20 shares, none mounted at the start (every
domain is released between rounds), with the stored token valid (0 logins expected) and replaced
by one the cluster no longer knows (1 login expected). Per hook: wall time, fork to wait4."""

import json
import os
import subprocess
import tempfile
import time

from ..harness import Command, summarize
from ..simulator import STORM_DOMAINS, STORM_PER_SHARE, STORM_SHARES
from .base import Figure, Row, Target

VALID = "valid"
EXPIRED = "expired"
HOOK_MS = "hook_ms"
EXPECTED_LOGINS = {VALID: 0, EXPIRED: 1}


def run(session):
    sim = session.main
    workspace = session.workspace
    points = sim.mount_points()
    xmls = []
    for index in range(STORM_DOMAINS):
        share = f"storm{index // STORM_PER_SHARE:02d}"
        xmls.append(workspace.write_xml(f"vm{index:03d}", 1000 + index, f"{points[share]}/vm{index:03d}/disk0.qcow2", sim.dir))

    def storm_locks(smbvol):
        out = subprocess.run(smbvol.argv("lock", "list", "--json"), env=sim.env, capture_output=True, text=True)
        return sum(1 for lock in json.loads(out.stdout)["locks"] if str(lock.get("share", "")).startswith("storm"))

    def release_all(smbvol):
        for index, xml in enumerate(xmls):
            with open(xml, "rb") as stdin:
                subprocess.run(smbvol.argv("hook", f"vm{index:03d}", "release", "end", "-"), stdin=stdin, env=sim.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    hook_ms = {}

    def storm(variant):
        def round_(smbvol):
            release_all(smbvol)
            if variant == EXPIRED:
                # The stored token is one the cluster no longer knows (expired overnight).
                with open(sim.token_store, "w") as handle:
                    handle.write('{"bearer_token": "session-v1:expired-overnight", "version": 1}\n')
                os.chmod(sim.token_store, 0o600)
            before_mounts, before_logins = workspace.mounts_of("//srv/storm"), sim.state()["logins"]
            sim.reset_requests()
            started, errors, children = {}, {}, {}
            wall = time.perf_counter()
            for index, xml in enumerate(xmls):
                stdin = open(xml, "rb")
                err = tempfile.TemporaryFile()
                started_at = time.perf_counter()
                process = subprocess.Popen(smbvol.argv("hook", f"vm{index:03d}", "prepare", "begin", "-"), stdin=stdin,
                                           stdout=subprocess.DEVNULL, stderr=err, env=sim.env)
                stdin.close()
                started[process.pid], errors[process.pid], children[process.pid] = started_at, err, process
            times = []
            while children:
                pid, status, _ = os.wait4(-1, 0)
                if pid not in children:
                    continue
                times.append((time.perf_counter() - started[pid]) * 1000.0)
                code = os.waitstatus_to_exitcode(status)
                children.pop(pid).returncode = code
                errors[pid].seek(0)
                text = errors[pid].read().decode("utf-8", "replace").strip()
                errors[pid].close()
                if code != 0 or text:
                    session.failures.append(f"boot storm prepare ({variant} token): exit {code}: {text[:300]}")
            elapsed = (time.perf_counter() - wall) * 1000.0
            state = sim.state()
            hook_ms.setdefault((variant, smbvol.role), []).extend(times)
            return {"ms": elapsed, "mounts": workspace.mounts_of("//srv/storm") - before_mounts, "locks": storm_locks(smbvol),
                    "logins": state["logins"] - before_logins, "requests": len(state["requests"]),
                    "requests_per_image": len(state["requests"]) / STORM_DOMAINS}
        return round_

    result = session.group(f"9. boot storm: {STORM_DOMAINS} concurrent prepare begin on {STORM_SHARES} shares", [
        Command(VALID, f"{STORM_DOMAINS} concurrent prepares, {STORM_SHARES} shares, stored token valid", storm(VALID)),
        Command(EXPIRED, f"{STORM_DOMAINS} concurrent prepares, {STORM_SHARES} shares, stored token expired", storm(EXPIRED)),
    ], runs=session.args.storm_runs, warmup=0)
    for variant in (VALID, EXPIRED):
        result[variant][HOOK_MS] = summarize(hook_ms[(variant, "candidate")])
        if "baseline" in result[variant]:
            result[variant]["baseline"][HOOK_MS] = summarize(hook_ms[(variant, "baseline")])
    release_all(session.candidate)
    return result


def ms(value):
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def rows(result):
    listed = []
    for variant in (VALID, EXPIRED):
        e = result[variant]
        h = e[HOOK_MS]
        listed.append(Row(9, variant, f"mounts {e['mounts']['max']}, locks {e['locks']['max']}, logins {e['logins']['max']}; "
                                      f"per hook p50 {ms(h['median'])}, p95 {ms(h['p95'])}, max {ms(h['max'])}; "
                                      f"{e['requests_per_image']['max']:.2f} requests per image"))
    return listed


def counts(variant):
    logins = EXPECTED_LOGINS[variant]

    def check(result):
        e = result[variant]
        return (f"mounts {e['mounts']['min']}..{e['mounts']['max']}, locks {e['locks']['min']}..{e['locks']['max']}, "
                f"logins {e['logins']['min']}..{e['logins']['max']}",
                e["mounts"] == {"min": STORM_SHARES, "max": STORM_SHARES}
                and e["locks"] == {"min": STORM_DOMAINS, "max": STORM_DOMAINS}
                and e["logins"] == {"min": logins, "max": logins})
    return check


FIGURE = Figure(
    id="9", key="9_boot_storm", title=f"boot storm: {STORM_DOMAINS} concurrent prepare begin on {STORM_SHARES} shares",
    run=run, rows=rows,
    targets=tuple(Target(f"boot storm ({variant} token): {STORM_SHARES} mounts, {STORM_DOMAINS} locks, "
                         f"{EXPECTED_LOGINS[variant]} login(s)", counts(variant)) for variant in (VALID, EXPIRED)))
