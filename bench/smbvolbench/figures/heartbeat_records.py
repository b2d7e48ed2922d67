"""Figure 8, heartbeat records on the share: prepare of an image held from an address whose host
beats, on shares (served through local_path) with 1, 100 and 1 000 host records: every run is
refused after reading the holder's records only, and the holder's handle is left open."""

import json
import os
import time

from ..harness import Command
from ..simulator import HEARTBEAT_HOLDER, HEARTBEAT_HOSTS
from .base import Figure, Row, Target

HOLDER_ID = "host-0000"


def key(hosts):
    return f"hosts_{hosts}"


def heartbeat_record(host_id, addresses, written_at, images):
    return json.dumps({"format": "smbvol-heartbeat", "version": 1, "host_id": host_id, "hostname": host_id,
                       "addresses": addresses, "interval_seconds": 10, "images": images,
                       "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(written_at))}).encode()


def write_heartbeat(root, host_id, addresses, written_at, images=()):
    data = heartbeat_record(host_id, addresses, written_at, list(images))
    for directory in [f"{root}/.smbvol/hosts"] + [f"{root}/.smbvol/by-address/{a}" for a in addresses]:
        os.makedirs(directory, exist_ok=True)
        with open(f"{directory}/{host_id}.json", "wb") as handle:
            handle.write(data)


def run(session):
    sim = session.main
    now = time.time()
    sim.admin("POST", "/_sim/sessions", [{"originator": HEARTBEAT_HOLDER, "auth_id": "1001", "idle_seconds": 900}])
    commands = []
    for hosts in HEARTBEAT_HOSTS:
        root = f"{session.workspace.work}/hb{hosts}"
        os.makedirs(root, exist_ok=True)
        open(f"{root}/disk0.qcow2", "w").close()
        for index in range(1, hosts):
            write_heartbeat(root, f"host-{index:04d}", [f"10.2.{index // 250}.{index % 250 + 1}"], now)
        sim.add_handles([{"path": f"/hb{hosts}/disk0.qcow2", "location": f"9.1.{hosts}", "owner": "1001",
                          "client_address": HEARTBEAT_HOLDER, "num_byte_range_locks": 1}])
        xml = session.workspace.write_xml(f"hb{hosts}", 500 + hosts, f"{root}/disk0.qcow2", sim.dir)

        def refused(smbvol, root=root, xml=xml, hosts=hosts):
            # The holder's host keeps beating: its record is fresh at every run (not timed).
            write_heartbeat(root, HOLDER_ID, [HEARTBEAT_HOLDER], time.time(),
                            [{"path": "disk0.qcow2", "domain_name": f"hb{hosts}", "domain_uuid": "x"}])
            sim.reset_requests()
            sample = session.runner.run(smbvol.argv("hook", f"hb{hosts}", "prepare", "begin", "-"), stdin_path=xml, env=sim.env)
            if sample.status != 1 or HOLDER_ID not in sample.stderr:
                session.failures.append(f"prepare hb{hosts}: expected a refusal naming {HOLDER_ID}, got exit {sample.status}: "
                                        f"{sample.stderr.strip()[:300]}")
            state = sim.state()
            if state["closed_locations"].count(f"9.1.{hosts}"):
                session.failures.append(f"prepare hb{hosts}: the beating holder's handle was closed")
            return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(state["requests"]), "cpu_ms": sample.cpu_ms}
        commands.append(Command(key(hosts), f"prepare refused by a beating holder, {hosts:,} host record(s) on the share", refused))
    return session.group("8. heartbeat records on the share", commands)


def rows(result):
    first = result[key(HEARTBEAT_HOSTS[0])]["ms"]["median"]
    return [Row(8, key(hosts), f"{result[key(hosts)]['ms']['median'] / first:.2f}× of {HEARTBEAT_HOSTS[0]}")
            for hosts in HEARTBEAT_HOSTS]


def flat(result):
    keys = [key(hosts) for hosts in HEARTBEAT_HOSTS]
    counts = {result[k]["requests"]["max"] for k in keys} | {result[k]["requests"]["min"] for k in keys}
    growth = result[keys[-1]]["ms"]["median"] / result[keys[0]]["ms"]["median"]
    return f"requests {sorted(counts)}; time x{growth:.2f}", len(counts) == 1 and growth <= 1.5


FIGURE = Figure(
    id="8", key="8_heartbeat_records", title="heartbeat records on the share", run=run, rows=rows,
    targets=(Target("prepare cost flat in host records on the share (requests equal; time within 1.5x from 1 to 1 000)", flat),))
