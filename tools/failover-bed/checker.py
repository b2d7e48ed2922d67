#!/usr/bin/python3
"""The bed's mutual-exclusion checker, from the images' contents on the server alone.

For every image: each epoch (one VM start) has a start record and the latest records of its
writer. Violations:
  overlap    two epochs of different hosts whose write intervals [first, last] overlap;
  zombie     a record of epoch e written after the start record of a later epoch e' (the old
             holder wrote again once another host's VM had started).
  checker.py IMAGE...   prints the history and exits 1 on any violation.
"""
import sys

from writer import RECORD, RING, REGION


def read_epochs(path):
    data = open(path, "rb").read()
    epochs = {}
    for region in range(len(data) // REGION + 1):
        chunk = data[region * REGION:(region + 1) * REGION]
        records = []
        for slot in range(RING):
            raw = chunk[slot * RECORD:(slot + 1) * RECORD]
            if len(raw) < RECORD or raw[:1] in (b"\0", b""):
                continue
            parts = raw.decode(errors="replace").split()
            if len(parts) != 4:
                continue
            host, epoch, seq, t = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
            records.append((t, host, epoch, seq, slot))
        if records:
            start = [r for r in records if r[4] == 0]
            epochs[region] = {
                "host": records[0][1], "start": start[0][0] if start else min(r[0] for r in records),
                "last": max(r[0] for r in records), "records": sorted(records)}
    return epochs


def check(path, out=print, detailed=False):
    epochs = read_epochs(path)
    violations = []
    ordered = sorted(epochs.items(), key=lambda item: item[1]["start"])
    for i, (e1, a) in enumerate(ordered):
        for e2, b in ordered[i + 1:]:
            if a["host"] != b["host"] and a["last"] > b["start"]:
                late = [r for r in a["records"] if r[0] > b["start"]]
                text = (f"{path}: epoch {e1} ({a['host']}) wrote {len(late)} record(s) after epoch {e2} "
                        f"({b['host']}) started, the last {(a['last'] - b['start']) / 1e9:.2f} s after it")
                violations.append({"text": text, "image": path, "old_epoch": e1, "old_host": a["host"],
                                   "new_epoch": e2, "new_host": b["host"], "late_records": len(late),
                                   "late_s": (a["last"] - b["start"]) / 1e9,
                                   "first_late_s": (late[0][0] - b["start"]) / 1e9} if detailed else text)
    if violations:
        out(f"history of {path}:")
        for epoch, info in ordered:
            out(f"  epoch {epoch} host {info['host']} start {info['start'] / 1e9:.3f} last {info['last'] / 1e9:.3f} "
                f"records {len(info['records'])}")
    return violations, epochs


if __name__ == "__main__":
    bad = []
    for image in sys.argv[1:]:
        found, _ = check(image)
        bad += found
    for line in bad:
        print("VIOLATION", line)
    sys.exit(1 if bad else 0)
