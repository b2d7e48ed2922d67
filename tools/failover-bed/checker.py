#!/usr/bin/python3
"""The bed's mutual-exclusion checker, from the images' contents on the server alone.

For every image: each epoch (one VM start) has a start record and the latest records of its
writer. Violations:
  overlap    two epochs of different hosts whose write intervals [first, last] overlap;
  zombie     a record of epoch e written after the start record of a later epoch e' (the old
             holder wrote again once another host's VM had started).
A live migration is the one hand-over where two hosts' epochs may touch: given the bed's record
of it (source epoch, destination epoch, the time the source's `release end` began), the source
may write after the destination's start only within MIGRATION_WINDOW_S and never after its
release; any other overlap, and an overlap of epochs no recorded migration links, is still a
split-brain. A migration source that wrote after its release is a violation even without an
overlap.
  checker.py [--migrations FILE.json] IMAGE...   prints the history and exits 1 on any violation
  (FILE.json: the bed's report, or a list of migration records; matched by the image's name).
"""
import os
import sys

from writer import RECORD, RING, REGION

# How long a migration source may still write after the destination's first record (the bed
# pauses the source before it resumes the destination, so a hand-over shows ~0 here).
MIGRATION_WINDOW_S = 2.0


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


def check(path, out=print, detailed=False, migrations=()):
    """migrations: the bed's records of live migrations of this image, each a dict with
    src_epoch, dst_epoch and released_ns (when the source's `release end` began)."""
    epochs = read_epochs(path)
    violations = []
    by_pair = {(m["src_epoch"], m["dst_epoch"]): m for m in migrations}
    reported = set()
    ordered = sorted(epochs.items(), key=lambda item: item[1]["start"])

    def violation(text, e1, a, e2, b, late, kind):
        violations.append({"text": text, "image": path, "old_epoch": e1, "old_host": a["host"],
                           "new_epoch": e2, "new_host": b["host"], "late_records": len(late), "kind": kind,
                           "late_s": (a["last"] - b["start"]) / 1e9,
                           "first_late_s": (late[0][0] - b["start"]) / 1e9 if late else None}
                          if detailed else text)

    for i, (e1, a) in enumerate(ordered):
        for e2, b in ordered[i + 1:]:
            if a["host"] != b["host"] and a["last"] > b["start"]:
                late = [r for r in a["records"] if r[0] > b["start"]]
                over = (a["last"] - b["start"]) / 1e9
                migration = by_pair.get((e1, e2))
                if migration and over <= MIGRATION_WINDOW_S and a["last"] <= migration["released_ns"]:
                    continue  # the recorded hand-over of a live migration
                what = "a migration's source " if migration else ""
                text = (f"{path}: {what}epoch {e1} ({a['host']}) wrote {len(late)} record(s) after epoch {e2} "
                        f"({b['host']}) started, the last {over:.2f} s after it"
                        + ((" and after its release end" if a["last"] > migration["released_ns"]
                            else f", beyond the {MIGRATION_WINDOW_S} s migration window") if migration else ""))
                violation(text, e1, a, e2, b, late, "migration-overlap" if migration else "overlap")
                reported.add((e1, e2))
    for m in migrations:
        a, b = epochs.get(m["src_epoch"]), epochs.get(m["dst_epoch"])
        if a and b and a["last"] > m["released_ns"] and (m["src_epoch"], m["dst_epoch"]) not in reported:
            late = [r for r in a["records"] if r[0] > m["released_ns"]]
            text = (f"{path}: migration source epoch {m['src_epoch']} ({a['host']}) wrote {len(late)} record(s) "
                    f"after its release end, the last {(a['last'] - m['released_ns']) / 1e9:.2f} s after it")
            violation(text, m["src_epoch"], a, m["dst_epoch"], b, late, "after-release")
    if violations:
        out(f"history of {path}:")
        for epoch, info in ordered:
            link = [f"migrated to epoch {m['dst_epoch']} (released {m['released_ns'] / 1e9:.3f})"
                    for m in migrations if m["src_epoch"] == epoch]
            out(f"  epoch {epoch} host {info['host']} start {info['start'] / 1e9:.3f} last {info['last'] / 1e9:.3f} "
                f"records {len(info['records'])}" + (f" {link[0]}" if link else ""))
    return violations, epochs


def migrations_for(records, image):
    name = os.path.basename(image)
    return [m for m in records if os.path.basename(m["image"]) == name]


if __name__ == "__main__":
    import json
    args = sys.argv[1:]
    records = []
    if args[:1] == ["--migrations"]:
        loaded = json.load(open(args[1]))
        records = loaded.get("churn", {}).get("migrations", []) if isinstance(loaded, dict) else loaded
        args = args[2:]
    bad = []
    for image in args:
        found, _ = check(image, migrations=migrations_for(records, image))
        bad += found
    for line in bad:
        print("VIOLATION", line)
    sys.exit(1 if bad else 0)
