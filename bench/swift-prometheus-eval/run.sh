#!/usr/bin/env bash
# The journal/metrics choice (docs/architecture.md): smbvol's own metrics writer against swift-prometheus 2.4.1, one hook run's work each
# (parse the kept state, add this run, render), as separate static release binaries, alternated.
# Usage: bench/swift-prometheus-eval/run.sh   (prints CPU and wall medians and binary sizes)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/Package.swift" "$here/Sources" "$work/"
mkdir -p "$work/Sources/OwnMetrics"
cp "$root"/Sources/SmbvolMetrics/{MetricFamily,MetricSeries,MetricsSnapshot}.swift "$work/Sources/OwnMetrics/"
sed -i 's/^    init(_ name/    public init(_ name/' "$work/Sources/OwnMetrics/MetricFamily.swift"
(cd "$work" && swift build -c release --static-swift-stdlib >&2)
python3 - "$work" <<'PY'
import os, statistics, subprocess, sys, time
work = sys.argv[1]
bins = work + "/.build/release"
buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
lines = ["# smbvol metrics state v1"]
for op in ["prepare", "migrate", "release", "reconnect", "started"]:
    for result in ["ok", "refused", "failed"]:
        lines.append(f'smbvol_hook_runs_total{{operation="{op}",result="{result}"}} 17')
    for b in buckets:
        lines.append(f'smbvol_hook_duration_seconds_bucket{{le="{b}",operation="{op}"}} 9')
    lines += [f'smbvol_hook_duration_seconds_bucket{{le="+Inf",operation="{op}"}} 9',
              f'smbvol_hook_duration_seconds_sum{{operation="{op}"}} 0.5', f'smbvol_hook_duration_seconds_count{{operation="{op}"}} 9']
for i in range(10):
    lines += [f'smbvol_attachment_locks{{share="share{i}"}} 3', f'smbvol_mount_failures_total{{share="share{i}"}} 1']
open(work + "/state0", "w").write("\n".join(lines) + "\n")
subprocess.run([bins + "/OwnWriter", work + "/state0", work + "/state"], check=True)  # the stored form
progs = {"empty static binary": [bins + "/Empty"], "smbvol writer": [bins + "/OwnWriter", work + "/state"],
         "swift-prometheus": [bins + "/SwiftPrometheusWriter", work + "/state"]}
def run(argv):
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    assert status == 0, argv
    return (time.perf_counter() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000
samples = {name: ([], []) for name in progs}
for _ in range(10):
    for argv in progs.values(): run(argv)
for _ in range(200):
    for name, argv in progs.items():
        wall, cpu = run(argv)
        samples[name][0].append(wall); samples[name][1].append(cpu)
for name, (wall, cpu) in samples.items():
    print(f"{name:20s} CPU median {statistics.median(cpu):.2f} ms   wall median {statistics.median(wall):.2f} ms   "
          f"binary {os.path.getsize(progs[name][0]) / 1e6:.1f} MB")
PY
