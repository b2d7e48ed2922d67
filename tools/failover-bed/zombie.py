"""The zombie window of the failover test bed (README "Zombie window"): for every HA restart, did
the old holder's VM write after the new epoch started, did smbvol's takeover defence stop its
domain, and how long could it write before that.

Sources, all on the bed's own clock (every namespace shares the kernel's):
- the images (checker.read_epochs): the old epoch's records written after the new epoch's first;
- the old host's libvirt lifecycle log (the keeper's `virsh event --loop --all --timestamp`): the
  domain's Suspended event, and its state just before the bed stopped it (`virsh domstate`);
- the hosts' audit records (their syslog_socket, which the bed listens on): `takeover-recorded`
  from the new holder's start, `takeover-stop` / `takeover-ignored` from the old host's heartbeat;
- the writer's own log: when it saw the suspend.
"""
import datetime
import re
import statistics

import checker
from writer import RING

# A domain the takeover defence paused must have stopped writing within this long after the
# Suspended event (the writer reacts to the event; qemu stops its vCPUs at the pause itself).
PAUSE_GRACE_S = 1.0
EVENT_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+[+-]\d{4}): event 'lifecycle' for domain '([^']+)': (\w+)")


def lifecycle_events(paths):
    """(time, domain, event) from keeper logs."""
    events = []
    for path in paths:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            m = EVENT_LINE.match(line)
            if m:
                at = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f%z").timestamp()
                events.append((at, m.group(2), m.group(3)))
    return events


def audit(syslog, host, event, vm, since, until):
    """The times of audit records of kind event for domain vm from host within [since, until]."""
    found = []
    for at, name, line in syslog:
        if name == host and since <= at <= until and f"event={event}" in line \
                and re.search(r"(^|\s)domain=" + re.escape(vm) + r"(\s|$)", line):
            found.append(at)
    return found


def writer_suspended(path):
    """When the writer saw its domain suspended (its log: "domain suspended TIME_NS")."""
    try:
        for line in open(path):
            parts = line.split()
            if parts[:2] == ["domain", "suspended"]:
                return int(parts[2]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    return None


def measure(bed, violations):
    """Adds outcome["zombie"] to every HA restart of the run and the zombie figures to the
    violations they explain."""
    epochs_of = {}
    for vm in bed.images():
        try:
            epochs_of[vm] = checker.read_epochs(f"{bed.samba.root}/vmstore/{vm}.img")
        except OSError:
            epochs_of[vm] = {}
    hosts = {h.name: h for h in bed.hosts}
    lifecycle = {name: lifecycle_events(getattr(h, "events_logs", [])) for name, h in hosts.items()}
    syslog = list(bed.syslog)
    for outcome in bed.results:
        vm, old, new = outcome["vm"], outcome.get("old_epoch"), outcome.get("epoch")
        z = {"old_host": outcome["victim"], "old_epoch": old, "new_epoch": new}
        outcome["zombie"] = z
        if not outcome["started"] or new is None:
            z["status"] = "no restart"
            continue
        epochs = epochs_of.get(vm, {})
        a, b = epochs.get(old), epochs.get(new)
        fault_at = outcome["fault_at"]
        new_start = b["start"] / 1e9 if b else None
        until = outcome.get("old_stopped_at") or fault_at + 600
        z["new_start"] = new_start
        z["takeover_recorded"] = bool(audit(syslog, outcome["target"], "takeover-recorded", vm, fault_at, until))
        z["record_planted"] = bool(outcome.get("record_planted"))
        if outcome["fault"] == "crash":
            z["status"] = "host crashed"  # its domain died with it: no zombie possible
            continue
        able = outcome.get("able_at")
        z["able_at"] = able
        stops = audit(syslog, outcome["victim"], "takeover-stop", vm, fault_at, until)
        ignored = audit(syslog, outcome["victim"], "takeover-ignored", vm, fault_at, until)
        suspends = [at for at, dom, ev in lifecycle.get(outcome["victim"], [])
                    if dom == vm and ev == "Suspended" and fault_at <= at <= until]
        paused_at = suspends[0] if suspends else None
        if paused_at is None and stops:
            paused_at = stops[0]  # the audit record's arrival, when the lifecycle log missed it
        z.update({"takeover_stop": bool(stops), "takeover_ignored": len(ignored), "paused_at": paused_at,
                  "domain_state_before_stop": outcome.get("old_domain_state"),
                  "writer_saw_suspend_at": writer_suspended(bed.writer_logs.get(old, "")) if old else None})
        late = [r[0] / 1e9 for r in (a["records"] if a else []) if b and r[0] > b["start"]]
        z["zombie_writes"] = len(late)
        # Only the first and the latest RING-1 records of an epoch are kept: a full ring whose
        # oldest record is already late means more late writes than counted.
        z["zombie_writes_lower_bound"] = bool(a and len(a["records"]) >= RING and late
                                              and min(r[0] for r in a["records"] if r[4] != 0) / 1e9 > new_start)
        z["last_zombie_write_after_new_start_s"] = round(late[-1] - new_start, 3) if late else None
        z["last_zombie_write_after_able_s"] = round(late[-1] - able, 3) if late and able else None
        after_pause = [t for t in late if paused_at is not None and t > paused_at + PAUSE_GRACE_S]
        z["writes_after_pause_grace"] = len(after_pause)
        start = max(able, new_start) if able is not None and new_start is not None else new_start
        z["window_from"] = start
        if paused_at is not None:
            z["status"] = "paused"
            z["window_s"] = round(paused_at - start, 3) if start is not None else None
        elif late:
            z["status"] = "not stopped (wrote)"
            z["window_s"] = round(late[-1] - start, 3)
        else:
            z["status"] = "not stopped (no zombie write)"
            z["window_s"] = None
    by_step = {(o["vm"], o.get("epoch")): o for o in bed.results if o.get("epoch")}
    for v in violations:
        o = by_step.get((v["vm"], v["new_epoch"]))
        if o and o.get("zombie"):
            z = o["zombie"]
            v["zombie"] = {k: z.get(k) for k in ("status", "window_s", "zombie_writes", "takeover_recorded", "record_planted",
                                                 "takeover_stop", "last_zombie_write_after_able_s")}
    # Pauses nobody asked for: a Suspended event of a domain the HA step did not take over
    # (a legitimately running VM paused would be an availability bug).
    explained = {(o["victim"], o["vm"], round(o["zombie"].get("paused_at") or 0, 3)) for o in bed.results
                 if o.get("zombie", {}).get("paused_at")}
    other = []
    for name, events in lifecycle.items():
        for at, dom, ev in events:
            if ev == "Suspended" and (name, dom, round(at, 3)) not in explained:
                other.append({"host": name, "domain": dom, "at": at})
    bed.unexplained_pauses = other


def summarize(results):
    """Per mode and fault kind: the zombie figures of the HA restarts."""
    figures = {}
    for mode in ("unfenced", "fenced"):
        for kind in ("crash", "partition", "pause", "smbd-restart", "api-down"):
            rows = [r["zombie"] for r in results if r["mode"] == mode and r["fault"] == kind and r.get("zombie")]
            if not rows:
                continue
            restarted = [z for z in rows if z["status"] != "no restart"]
            windows = [z["window_s"] for z in restarted if z.get("window_s") is not None]
            figures[f"{mode}/{kind}"] = {
                "restarts": len(restarted),
                "statuses": {s: sum(1 for z in restarted if z["status"] == s)
                             for s in sorted({z["status"] for z in restarted})},
                "takeover_records": sum(1 for z in restarted if z.get("takeover_recorded")),
                "records_planted": sum(1 for z in restarted if z.get("record_planted")),
                "paused_by_takeover_defence": sum(1 for z in restarted if z.get("takeover_stop")),
                "restarts_with_zombie_writes": sum(1 for z in restarted if z.get("zombie_writes")),
                "zombie_writes": sum(z.get("zombie_writes") or 0 for z in restarted),
                "window_s": {"median": round(statistics.median(windows), 2) if windows else None,
                             "worst": round(max(windows), 2) if windows else None},
                "writes_after_pause_grace": sum(z.get("writes_after_pause_grace") or 0 for z in restarted),
            }
    return figures


def table(figures):
    """The printed table: one line per mode and fault kind."""
    lines = ["zombie window (per HA restart; README \"Zombie window\"):",
             f"  {'mode/fault':24} {'restarts':>8} {'takeover rec (planted)':>22} {'paused':>6} {'zombie writes':>14} "
             f"{'window median/worst s':>22}  statuses"]
    for key, f in figures.items():
        w = f["window_s"]
        window = "-" if w["median"] is None else f"{w['median']}/{w['worst']}"
        records = f"{f['takeover_records']} ({f['records_planted']})"
        lines.append(f"  {key:24} {f['restarts']:>8} {records:>22} {f['paused_by_takeover_defence']:>6} "
                     f"{str(f['restarts_with_zombie_writes']) + ' (' + str(f['zombie_writes']) + ')':>14} "
                     f"{window:>22}  " + ", ".join(f"{k}: {n}" for k, n in f["statuses"].items()))
    return lines

