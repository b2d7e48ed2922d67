"""Figure 4, the cluster-wide listing of 10 000 and 100 000 handles: `smbvol handles list --json`
against `qq smb_list_file_handles`; then once more per binary with the output kept, checked to be
complete (every handle, client addresses) and the same on each run."""

import json
import subprocess

from ..harness import Command
from .base import Figure, Row, Target

SIZES = (10000, 100000)
TARGET_SIZE = 100000


def smbvol_key(size):
    return f"smbvol_{size}"


def qq_key(size):
    return f"qq_{size}"


OUTPUT = "output"


def run(session):
    result = {}
    sims = [session.cluster(size) for size in SIZES if session.has_cluster(size)]
    for sim in sims:
        def smbvol(binary, sim=sim):
            sim.reset_requests()
            sample = session.runner.run(binary.argv("handles", "list", "--json"), env=sim.env)
            session.check(f"handles list ({sim.elsewhere})", sample)
            return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(sim.state()["requests"]), "cpu_ms": sample.cpu_ms}

        def qq(_, sim=sim):
            sim.reset_requests()
            sample = session.runner.run(sim.qq("smb_list_file_handles"))
            if sample.status != 0:
                session.failures.append(f"qq smb_list_file_handles: {sample.stderr.strip()[:300]}")
            return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(sim.state()["requests"])}

        result.update(session.group("4. cluster-wide listing", [
            Command(smbvol_key(sim.elsewhere), f"smbvol handles list --json ({sim.elsewhere:,} handles)", smbvol),
            Command(qq_key(sim.elsewhere), f"qq smb_list_file_handles ({sim.elsewhere:,} handles)", qq, peer=True)],
            warmup=1))
    # Once more with the output kept: as complete as the cluster (every handle, client addresses
    # where the grants name any), in the cluster's order, the same on each run.
    for sim in sims:
        entry = result[smbvol_key(sim.elsewhere)]
        for binary in session.binaries:
            outputs = [subprocess.run(binary.argv("handles", "list", "--json"), env=sim.env, capture_output=True).stdout
                       for _ in range(2)]
            listed = json.loads(outputs[0])["handles"]
            target = entry if binary.role == "candidate" else entry["baseline"]
            target[OUTPUT] = {"handles": len(listed), "with_client_addresses": sum(1 for h in listed if h["client_addresses"]),
                              "deterministic": outputs[0] == outputs[1]}
            del listed, outputs
            if target[OUTPUT]["handles"] != sim.elsewhere:
                session.failures.append(f"handles list ({binary.role}) listed {target[OUTPUT]['handles']} of {sim.elsewhere} handles")
    return result


def rows(result):
    listed = []
    for size in SIZES:
        if smbvol_key(size) in result:
            ratio = result[qq_key(size)]["ms"]["median"] / result[smbvol_key(size)]["ms"]["median"]
            listed += [Row(4, smbvol_key(size), f"qq/smbvol {ratio:.2f}×"), Row(4, qq_key(size))]
    return listed


def faster_than_qq(result):
    if smbvol_key(TARGET_SIZE) not in result:
        return None
    s, q = result[smbvol_key(TARGET_SIZE)], result[qq_key(TARGET_SIZE)]
    ratio = q["ms"]["median"] / s["ms"]["median"]
    return f"{ratio:.2f}x ({s['ms']['median'] / 1000:.2f} s vs {q['ms']['median'] / 1000:.2f} s)", ratio >= 4


def peak_rss(result):
    if smbvol_key(TARGET_SIZE) not in result:
        return None
    peak = result[smbvol_key(TARGET_SIZE)]["peak_rss_mb"]["max"]
    return f"{peak:.1f} MB", peak <= 40


def complete_output(result):
    if smbvol_key(TARGET_SIZE) not in result:
        return None
    out = result[smbvol_key(TARGET_SIZE)].get(OUTPUT, {})
    return (f"{out.get('handles')} handles, {out.get('with_client_addresses')} with client addresses, "
            f"identical runs: {out.get('deterministic')}",
            out.get("handles") == TARGET_SIZE and out.get("with_client_addresses", 0) > 0 and out.get("deterministic") is True)


FIGURE = Figure(
    id="4", key="4_listing", title="cluster-wide listing", run=run, rows=rows, clusters=SIZES,
    targets=(Target("listing 100 000 handles >= 4x faster than qq smb_list_file_handles (same run, median)", faster_than_qq),
             Target("listing 100 000 handles <= 40 MB peak RSS", peak_rss),
             Target("listing output complete (every handle, client addresses) and deterministic", complete_output)))
