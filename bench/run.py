#!/usr/bin/env python3
"""smbvol benchmarks: smbvol against its peers, side by side, in one run (issue 6).

Starts qumulo-sim itself (HTTPS on loopback, its own CA), runs inside a private mount namespace
(re-executes itself under `unshare --mount --propagation private`, like scripts/demo) with the
stand-in mount program tools/fake-mount.cifs, and measures each figure as a group of commands
run round-robin (A B A B ...), warm-up runs first, so every ratio is between runs made at the same
moment on the same (possibly noisy) machine.

Python 3 standard library only. Usually run through scripts/bench, which builds the release
binaries first; directly:

    bench/run.py --bin-dir .build-release/release [--runs 30] [--warmup 3] [--out bench/results]
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import socket
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIVE_ADDRESS = "10.0.0.21"
STALE_CLIENTS = ["10.0.0.13", "10.0.0.14", "10.0.0.15"]
# Figure 10: this host's own leftover handle (its address is local_addresses in that figure's
# configuration), and the process load the kernel check scans.
LOCAL_ADDRESS = "10.0.0.99"
LOCAL_LEFTOVER = "7.2.1"
LOAD_PROCESSES = 500
LOAD_FILES_PER_PROCESS = 100
STALE_LOCATIONS = ["7.1.1", "7.1.2", "7.1.3"]
POOL_DOMAINS = 20
STORM_SHARES = 20
STORM_PER_SHARE = 10
STORM_DOMAINS = STORM_SHARES * STORM_PER_SHARE
PASSWORD = "bench-password"
UUID_BASE = "6f1c2a9e-3b4d-4e5f-8a6b-"
# Figure 7 (issue 13): a holder whose host beats, on shares with this many host records.
HEARTBEAT_HOSTS = [1, 100, 1000]
HEARTBEAT_HOLDER = "10.0.0.31"


def log(*args):
    print("bench:", *args, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Running and measuring one command


class Sample:
    __slots__ = ("ms", "rss_kb", "status", "stderr", "cpu_ms")

    def __init__(self, ms, rss_kb, status, stderr, cpu_ms=0.0):
        self.ms, self.rss_kb, self.status, self.stderr, self.cpu_ms = ms, rss_kb, status, stderr, cpu_ms


def run_once(argv, stdin_path=None, env=None, stdin_bytes=None):
    """Runs argv, output discarded; wall time (ms) and the child's own peak RSS (wait4)."""
    stdin = open(stdin_path, "rb") if stdin_path else (subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL)
    err = tempfile.TemporaryFile()
    try:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err, env=env, close_fds=True)
        if stdin_bytes is not None:
            try:
                process.stdin.write(stdin_bytes)
                process.stdin.close()
            except BrokenPipeError:
                pass
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = (time.perf_counter() - start) * 1000.0
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return Sample(elapsed, usage.ru_maxrss, process.returncode, err.read().decode("utf-8", "replace"),
                      (usage.ru_utime + usage.ru_stime) * 1000.0)
    finally:
        err.close()
        if stdin_path:
            stdin.close()


def summarize(values):
    ordered = sorted(values)
    n = len(ordered)
    p95 = ordered[min(n - 1, max(0, int(round(0.95 * n + 0.5)) - 1))]
    return {
        "n": n,
        "median": statistics.median(ordered),
        "p95": p95,
        "min": ordered[0],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


# --------------------------------------------------------------------------------------------
# A stand-in for journald's native socket (figure 7): receives and counts the entries


class JournalSink:
    def __init__(self, directory):
        self.path = os.path.join(directory, "journal.socket")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        self.socket.settimeout(0.2)
        self.entries = 0
        self.stopped = False
        self.thread = threading.Thread(target=self.receive, daemon=True)
        self.thread.start()

    def receive(self):
        while not self.stopped:
            try:
                self.socket.recvmsg(1 << 20, 1024)
                self.entries += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def stop(self):
        self.stopped = True
        self.thread.join(2)
        self.socket.close()


# --------------------------------------------------------------------------------------------
# The simulator


class ProcessLoad:
    """`processes` sleeping processes, each holding `files` descriptors on regular files (one
    parent opens them, the children inherit them): what a busy hypervisor's /proc looks like."""

    def __init__(self, work, processes, files):
        directory = os.path.join(work, "load")
        os.makedirs(directory, exist_ok=True)
        script = (
            "import os, sys, time\n"
            f"fds = [os.open(os.path.join({directory!r}, f'f{{i}}'), os.O_RDWR | os.O_CREAT) for i in range({files})]\n"
            "children = []\n"
            f"for _ in range({processes}):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        time.sleep(3600)\n"
            "        os._exit(0)\n"
            "    children.append(pid)\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n"
            "for pid in children:\n"
            "    os.kill(pid, 9)\n"
            "for pid in children:\n"
            "    os.waitpid(pid, 0)\n")
        self.process = subprocess.Popen(["timeout", "--kill-after=10s", "3600s", "/usr/bin/python3", "-c", script],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            raise SystemExit("bench: the process load did not start")

    def stop(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        except Exception:
            self.process.kill()


class Simulator:
    def __init__(self, bench, name, elsewhere, storm=False):
        self.bench, self.name, self.elsewhere, self.storm = bench, name, elsewhere, storm
        self.dir = os.path.join(bench.work, name)
        os.makedirs(self.dir)
        scenario = bench.scenario(elsewhere, storm)
        self.scenario_path = os.path.join(self.dir, "scenario.json")
        with open(self.scenario_path, "w") as handle:
            json.dump(scenario, handle)
        port_file = os.path.join(self.dir, "port")
        self.stderr = open(os.path.join(self.dir, "sim.log"), "wb")
        self.process = subprocess.Popen(
            [bench.bin("qumulo-sim"), "serve", "--scenario", self.scenario_path, "--host", "127.0.0.1", "--port", "0",
             "--port-file", port_file, "--tls-cert", bench.certs + "/server.pem", "--tls-key", bench.certs + "/server.key"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 120
        self.port = None
        while time.monotonic() < deadline:
            try:
                text = open(port_file).read().strip()
                if text:
                    self.port = int(text)
                    break
            except (OSError, ValueError):
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"bench: qumulo-sim ({name}) exited: " + open(self.stderr.name).read())
            time.sleep(0.05)
        if self.port is None:
            raise SystemExit(f"bench: qumulo-sim ({name}) did not start")
        self.context = ssl.create_default_context(cafile=bench.certs + "/ca.pem")
        self.write_config()
        self.qq_store = os.path.join(self.dir, "qq-credentials")

    def write_config(self):
        b = self.bench
        self.state_dir = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "smbvol.toml")
        with open(self.config, "w") as handle:
            handle.write(f"""state_dir = "{self.state_dir}"
mount_base = "{self.dir}/mnt"
mount_command = "{b.tools}/mount.cifs"
umount_command = "/bin/umount"
qemu_user = "root"
qemu_group = "root"
mount_timeout_seconds = 20
deadline_seconds = 60

[cluster.sim]
host = "127.0.0.1"
port = {self.port}
ca_file = "{b.certs}/ca.pem"
username = "svc-smbvol"
password_file = "{b.secrets}/qumulo.password"
credentials_store = "{self.state_dir}/tokens/sim"
request_timeout_seconds = 10

[share.vmstore]
export = "//srv/vmstore"
cluster = "sim"
fs_path = "/vmstore"
credentials = "{b.secrets}/share.cred"
options = ["vers=3.1.1", "cache=none"]

[share.pool]
export = "//srv/pool"
cluster = "sim"
fs_path = "/pool"
credentials = "{b.secrets}/share.cred"
options = ["vers=3.1.1", "cache=none"]
""" + "".join(f"""
[share.hb{hosts}]
export = "//srv/hb{hosts}"
cluster = "sim"
fs_path = "/hb{hosts}"
local_path = "{b.work}/hb{hosts}"
""" for hosts in HEARTBEAT_HOSTS))
            if self.storm:
                for share in range(STORM_SHARES):
                    handle.write(f"""
[share.storm{share:02d}]
export = "//srv/storm{share:02d}"
cluster = "sim"
fs_path = "/storm{share:02d}"
credentials = "{b.secrets}/share.cred"
options = ["vers=3.1.1", "cache=none"]
""")
        self.token_store = os.path.join(self.state_dir, "tokens", "sim")
        self.env = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": self.config}
        # Figure 7 (issue 15): the same configuration with the journal and the metrics off
        # (explicitly, so the comparison holds where journald runs) and on (a journal listener
        # of the bench's own, a textfile in the scratch tree). The plain one, without the new
        # keys, is what the previous binary (--baseline-bin-dir) reads.
        os.makedirs(os.path.join(self.dir, "textfile"))
        self.metrics_file = os.path.join(self.dir, "textfile", "smbvol.prom")
        with open(self.config) as handle:
            plain = handle.read()
        variants = {}
        for name, keys in (("off", 'journal_socket = ""\n'),
                           ("on", f'journal_socket = "{b.journal.path}"\nmetrics_file = "{self.metrics_file}"\n')):
            path = os.path.join(self.dir, f"smbvol-observability-{name}.toml")
            with open(path, "w") as handle:
                handle.write(keys + plain)
            variants[name] = dict(self.env, SMBVOL_CONFIG=path)
        self.env_off, self.env_obs = variants["off"], variants["on"]

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self.context, timeout=60) as answer:
            return json.loads(answer.read() or b"null")

    def reset_requests(self):
        self.admin("POST", "/_sim/requests/reset")

    def state(self):
        return self.admin("GET", "/_sim/state")

    def add_stale_handles(self):
        self.admin("POST", "/_sim/handles", [
            {"path": "/vmstore/stale01/disk0.qcow2", "location": location, "owner": "1001", "client_address": client,
             "num_byte_range_locks": 1}
            for location, client in zip(STALE_LOCATIONS, STALE_CLIENTS)])

    def add_local_leftover(self):
        try:
            self.admin("POST", "/_sim/handles", [
                {"path": "/vmstore/local01/disk0.qcow2", "location": LOCAL_LEFTOVER, "owner": "1001", "client_address": LOCAL_ADDRESS,
                 "num_byte_range_locks": 1}])
        except urllib.error.HTTPError as error:
            # Still open: the last prepare reported it instead of closing it (a process whose
            # descriptors cannot be read, e.g. PID 1 of a sandbox, may hide a holder).
            if error.code != 400:
                raise

    def local_env(self):
        """The configuration with this host's address: the leftover is this host's own."""
        path = os.path.join(self.dir, "smbvol-local.toml")
        with open(self.config) as source, open(path, "w") as handle:
            handle.write(f'local_addresses = ["{LOCAL_ADDRESS}"]\n' + source.read())
        return dict(self.env, SMBVOL_CONFIG=path)

    def smbvol(self, *args):
        return [self.bench.bin("smbvol"), *args]

    def qq(self, *args):
        return [self.bench.qq, "--host", "127.0.0.1", "--port", str(self.port), "--credentials-store", self.qq_store, *args]

    def mount_points(self):
        out = subprocess.run(self.smbvol("mounts", "--json"), env=self.env, capture_output=True, text=True, check=True)
        return {entry["share"]: entry["mount_point"] for entry in json.loads(out.stdout)["mounts"]}

    def mount_point(self, share="vmstore"):
        points = self.mount_points()
        if share not in points:
            raise SystemExit(f"bench: smbvol mounts --json names no mount point for {share}")
        return points[share]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


# --------------------------------------------------------------------------------------------
# The benchmark


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin_dir = os.path.abspath(args.bin_dir)
        self.qq = os.path.abspath(args.qq)
        self.work = tempfile.mkdtemp(prefix="smbvol-bench.")
        self.certs = os.path.join(self.work, "certs")
        self.tools = os.path.join(self.work, "tools")
        self.secrets = os.path.join(self.work, "secrets")
        self.cifs = os.path.join(self.work, "cifs")
        self.sims = []
        self.results = {}
        self.failures = []

    def bin(self, name):
        return os.path.join(self.bin_dir, name)

    # ---- set-up (the scripts/demo way)

    def setup(self):
        self.journal = JournalSink(self.work)
        subprocess.run([ROOT + "/scripts/make-test-certs.sh", self.certs], check=True, capture_output=True)
        os.makedirs(self.tools)
        shutil.copy(ROOT + "/tools/fake-mount.cifs", self.tools + "/mount.cifs")
        with open(self.tools + "/fake-cifs-root", "w") as handle:
            handle.write(self.cifs + "\n")
        for name in ["web01", "stale01", "local01"]:
            os.makedirs(f"{self.cifs}/srv/vmstore/{name}")
            open(f"{self.cifs}/srv/vmstore/{name}/disk0.qcow2", "w").close()
        for index in range(POOL_DOMAINS):
            os.makedirs(f"{self.cifs}/srv/pool/dom{index:02d}")
            open(f"{self.cifs}/srv/pool/dom{index:02d}/disk0.qcow2", "w").close()
        for index in range(STORM_DOMAINS):
            directory = f"{self.cifs}/srv/storm{index // STORM_PER_SHARE:02d}/vm{index:03d}"
            os.makedirs(directory)
            open(f"{directory}/disk0.qcow2", "w").close()
        os.makedirs(self.secrets, mode=0o700)
        for name, text in [("qumulo.password", PASSWORD + "\n"), ("share.cred", "username=svc-kvm\npassword=bench-secret\n")]:
            path = os.path.join(self.secrets, name)
            with open(path, "w") as handle:
                handle.write(text)
            os.chmod(path, 0o600)
        self.noop_xml = self.write_xml("other", 99, "/var/lib/libvirt/images/other.qcow2")

    def scenario(self, elsewhere, storm=False):
        files = [{"path": "/vmstore/web01/disk0.qcow2", "id": "3001"},
                 {"path": "/vmstore/stale01/disk0.qcow2", "id": "3002"},
                 {"path": "/vmstore/local01/disk0.qcow2", "id": "3003"}]
        files += [{"path": f"/pool/dom{index:02d}/disk0.qcow2", "id": str(4000 + index)} for index in range(POOL_DOMAINS)]
        files += [{"path": f"/hb{hosts}/disk0.qcow2", "id": str(5000 + hosts)} for hosts in HEARTBEAT_HOSTS]
        if storm:
            # 7000+: apart from the heartbeat figure's 5000 + hosts (5001, 5100, 6000).
            files += [{"path": f"/storm{index // STORM_PER_SHARE:02d}/vm{index:03d}/disk0.qcow2", "id": str(7000 + index)}
                      for index in range(STORM_DOMAINS)]
        scenario = {
            "users": [{"name": "svc-smbvol", "password": PASSWORD, "auth_id": "500"}],
            "identities": [{"auth_id": "1001", "name": "svc-kvm", "domain": "ACTIVE_DIRECTORY"}],
            "shares": [{"id": "1", "name": "vmstore", "fs_path": "/vmstore"}, {"id": "2", "name": "pool", "fs_path": "/pool"}],
            "files": files,
            "sessions": [{"originator": LIVE_ADDRESS, "auth_id": "1001", "idle_seconds": 3}],
            "handles": [],
        }
        if elsewhere:
            scenario["generate"] = {"handles": elsewhere, "files": max(1, elsewhere // 10), "sessions": 500, "seed": 6}
        return scenario

    def write_xml(self, name, number, image, where=""):
        path = os.path.join(self.work, where, f"{name}.xml")
        with open(path, "w") as handle:
            handle.write(f"""<domain type='kvm' id='7'>
  <name>{name}</name>
  <uuid>{UUID_BASE}{number:012d}</uuid>
  <memory unit='KiB'>65536</memory>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='{image}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
""")
        return path

    def start_sim(self, name, elsewhere, storm=False):
        log(f"starting qumulo-sim '{name}' with {elsewhere} handles elsewhere on the cluster")
        sim = Simulator(self, name, elsewhere, storm)
        self.sims.append(sim)
        # qq: log in once; every qq call after uses the stored token.
        login = subprocess.run(sim.qq("login", "-u", "svc-smbvol", "-p", PASSWORD), capture_output=True, text=True)
        if login.returncode != 0:
            raise SystemExit("bench: qq login failed: " + login.stderr)
        return sim

    def check(self, label, sample):
        if sample.status != 0 or sample.stderr.strip():
            self.failures.append(f"{label}: exit {sample.status}: {sample.stderr.strip()[:300]}")

    # ---- the round-robin driver

    def group(self, title, entries, runs=None, warmup=None):
        """entries: [(key, label, fn)], fn() -> dict with 'ms' and optional 'rss_kb', 'requests'.
        Runs every entry warmup times, then `runs` rounds of A B C ..."""
        runs = runs or self.args.runs
        warmup = self.args.warmup if warmup is None else warmup
        log(f"{title}: {warmup} warm-up + {runs} runs each of {', '.join(label for _, label, _ in entries)}")
        for _ in range(warmup):
            for _, _, fn in entries:
                fn()
        samples = {key: [] for key, _, _ in entries}
        for _ in range(runs):
            for key, _, fn in entries:
                samples[key].append(fn())
        figure = {}
        for key, label, _ in entries:
            values = samples[key]
            entry = {"label": label, "ms": summarize([v["ms"] for v in values]), "samples_ms": [round(v["ms"], 3) for v in values]}
            if any("cpu_ms" in v for v in values):
                entry["cpu_ms"] = summarize([v["cpu_ms"] for v in values])
            if any("rss_kb" in v for v in values):
                entry["peak_rss_mb"] = summarize([v["rss_kb"] / 1024.0 for v in values])
            if any("requests" in v for v in values):
                counts = [v["requests"] for v in values]
                entry["requests"] = {"min": min(counts), "max": max(counts), "median": statistics.median(counts)}
            for extra in ("mounts", "locks", "closed", "logins", "requests_per_image"):
                if any(extra in v for v in values):
                    counts = [v[extra] for v in values]
                    entry[extra] = {"min": min(counts), "max": max(counts)}
            figure[key] = entry
        return figure

    # ---- figures

    def figure1(self, sim):
        env = sim.env

        def hook():
            sample = run_once(sim.smbvol("hook", "other", "prepare", "begin", "-"), stdin_path=self.noop_xml, env=env)
            self.check("hook no-op", sample)
            return {"ms": sample.ms, "rss_kb": sample.rss_kb}

        def true():
            return {"ms": run_once(["/bin/true"], stdin_path=self.noop_xml, env=env).ms}

        def python():
            return {"ms": run_once(["python3", "-c", "pass"], stdin_path=self.noop_xml, env=env).ms}

        sim.reset_requests()
        figure = self.group("1. hook no-op", [("smbvol", "smbvol hook (no disk on a configured share)", hook),
                                               ("true", "/bin/true", true), ("python", "python3 -c pass", python)])
        # Requests over every no-op run together (expected: none).
        requests = len(sim.state()["requests"])
        figure["smbvol"]["requests"] = {"min": requests, "max": requests, "median": requests}
        return figure

    def prepare_fn(self, sim, name, xml, stale, env=None, binary=None):
        def run():
            if stale:
                sim.add_stale_handles()
            sim.reset_requests()
            argv = [binary or self.bin("smbvol"), "hook", name, "prepare", "begin", "-"]
            sample = run_once(argv, stdin_path=xml, env=env or sim.env)
            self.check(f"prepare {name}", sample)
            state = sim.state()
            result = {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(state["requests"]), "cpu_ms": sample.cpu_ms}
            if stale:
                closed = [location for location in state["closed_locations"] if location in STALE_LOCATIONS]
                result["closed"] = len(closed) - self.closed_before.get(id(sim), 0)
                self.closed_before[id(sim)] = len(closed)
            return result
        return run

    def qq_fn(self, sim, path, stale):
        def run():
            if stale:
                sim.add_stale_handles()
            sim.reset_requests()
            total, peak = 0.0, 0
            steps = [(sim.qq("fs_file_get_attr", "--path", path), None), (sim.qq("smb_list_file_handles", "--path", path), None)]
            if stale:
                steps += [(sim.qq("smb_close_file_handle", "--location", location), b"yes\n") for location in STALE_LOCATIONS]
            for argv, answer in steps:
                sample = run_once(argv, stdin_bytes=answer)
                if sample.status != 0:
                    self.failures.append(f"qq {argv[7]}: exit {sample.status}: {sample.stderr.strip()[:300]}")
                total += sample.ms
                peak = max(peak, sample.rss_kb)
            state = sim.state()
            result = {"ms": total, "rss_kb": peak, "requests": len(state["requests"])}
            if stale:
                closed = [location for location in state["closed_locations"] if location in STALE_LOCATIONS]
                result["closed"] = len(closed) - self.closed_before.get(id(sim), 0)
                self.closed_before[id(sim)] = len(closed)
            return result
        return run

    def figures2and3(self, sim):
        mount_point = sim.mount_point()
        self.closed_before = {}
        web01 = self.write_xml("web01", 1, f"{mount_point}/web01/disk0.qcow2", sim.dir)
        stale01 = self.write_xml("stale01", 2, f"{mount_point}/stale01/disk0.qcow2", sim.dir)
        return self.group("2+3. prepare one disk, and the qq sequence for the same image", [
            ("smbvol_0", "smbvol hook prepare, 1 disk, no handles", self.prepare_fn(sim, "web01", web01, False)),
            ("qq_0", "qq fs_file_get_attr + smb_list_file_handles", self.qq_fn(sim, "/vmstore/web01/disk0.qcow2", False)),
            ("smbvol_3", "smbvol hook prepare, 1 disk, 3 stale handles", self.prepare_fn(sim, "stale01", stale01, True)),
            ("qq_3", "qq get_attr + list + 3 x smb_close_file_handle", self.qq_fn(sim, "/vmstore/stale01/disk0.qcow2", True)),
        ])

    def listing(self, sims):
        entries = []
        for sim in sims:
            def smbvol(sim=sim):
                sim.reset_requests()
                sample = run_once(sim.smbvol("handles", "list", "--json"), env=sim.env)
                self.check(f"handles list ({sim.elsewhere})", sample)
                return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(sim.state()["requests"])}

            def qq(sim=sim):
                sim.reset_requests()
                sample = run_once(sim.qq("smb_list_file_handles"))
                if sample.status != 0:
                    self.failures.append(f"qq smb_list_file_handles: {sample.stderr.strip()[:300]}")
                return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(sim.state()["requests"])}

            entries.append([(f"smbvol_{sim.elsewhere}", f"smbvol handles list --json ({sim.elsewhere:,} handles)", smbvol),
                            (f"qq_{sim.elsewhere}", f"qq smb_list_file_handles ({sim.elsewhere:,} handles)", qq)])
        figure = {}
        for pair in entries:
            figure.update(self.group("4. cluster-wide listing", pair, warmup=1))
        # Once more with the output kept: as complete as the cluster (every handle, client
        # addresses where the grants name any), in the cluster's order, the same on each run.
        for sim in sims:
            outputs = [subprocess.run(sim.smbvol("handles", "list", "--json"), env=sim.env, capture_output=True).stdout
                       for _ in range(2)]
            listed = json.loads(outputs[0])["handles"]
            figure[f"smbvol_{sim.elsewhere}"]["output"] = {
                "handles": len(listed), "with_client_addresses": sum(1 for h in listed if h["client_addresses"]),
                "deterministic": outputs[0] == outputs[1]}
            if len(listed) != sim.elsewhere:
                self.failures.append(f"handles list listed {len(listed)} of {sim.elsewhere} handles")
        return figure

    def figure5(self, sim):
        pool = sim.mount_point("pool")
        xmls = [self.write_xml(f"dom{index:02d}", 100 + index, f"{pool}/dom{index:02d}/disk0.qcow2", sim.dir) for index in range(POOL_DOMAINS)]
        mount_log = os.path.join(self.cifs, "mount.log")

        def mounts_so_far():
            try:
                with open(mount_log) as handle:
                    return sum(1 for line in handle if line.startswith("//srv/pool "))
            except FileNotFoundError:
                return 0

        def release_all():
            for index, xml in enumerate(xmls):
                with open(xml, "rb") as stdin:
                    subprocess.run(sim.smbvol("hook", f"dom{index:02d}", "release", "end", "-"), stdin=stdin, env=sim.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def pool_locks():
            out = subprocess.run(sim.smbvol("lock", "list", "--json"), env=sim.env, capture_output=True, text=True)
            return sum(1 for lock in json.loads(out.stdout)["locks"] if lock.get("share") == "pool")

        def concurrent():
            release_all()
            before = mounts_so_far()
            sim.reset_requests()
            handles = []
            start = time.perf_counter()
            for index, xml in enumerate(xmls):
                stdin = open(xml, "rb")
                handles.append((subprocess.Popen(sim.smbvol("hook", f"dom{index:02d}", "prepare", "begin", "-"), stdin=stdin,
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=sim.env), stdin))
            for process, stdin in handles:
                _, err = process.communicate()
                stdin.close()
                if process.returncode != 0 or err.strip():
                    self.failures.append(f"concurrent prepare: exit {process.returncode}: {err.decode()[:300]}")
            elapsed = (time.perf_counter() - start) * 1000.0
            return {"ms": elapsed, "mounts": mounts_so_far() - before, "locks": pool_locks(),
                    "requests": len(sim.state()["requests"])}

        def sequential():
            release_all()
            before = mounts_so_far()
            sim.reset_requests()
            start = time.perf_counter()
            for index, xml in enumerate(xmls):
                sample = run_once(sim.smbvol("hook", f"dom{index:02d}", "prepare", "begin", "-"), stdin_path=xml, env=sim.env)
                self.check("sequential prepare", sample)
            elapsed = (time.perf_counter() - start) * 1000.0
            return {"ms": elapsed, "mounts": mounts_so_far() - before, "locks": pool_locks(),
                    "requests": len(sim.state()["requests"])}

        figure = self.group(f"5. {POOL_DOMAINS} prepares on one share", [
            ("concurrent", f"{POOL_DOMAINS} concurrent prepare begin, one share", concurrent),
            ("sequential", f"{POOL_DOMAINS} sequential prepare begin, one share", sequential),
        ], warmup=1)
        release_all()
        return figure

    def figure9(self, sim):
        """Boot storm: every domain's prepare begin at once, 10 domains per share on 20 shares."""
        points = sim.mount_points()
        xmls = []
        for index in range(STORM_DOMAINS):
            share = f"storm{index // STORM_PER_SHARE:02d}"
            xmls.append(self.write_xml(f"vm{index:03d}", 1000 + index, f"{points[share]}/vm{index:03d}/disk0.qcow2", sim.dir))
        mount_log = os.path.join(self.cifs, "mount.log")

        def storm_mounts():
            try:
                with open(mount_log) as handle:
                    return sum(1 for line in handle if line.startswith("//srv/storm"))
            except FileNotFoundError:
                return 0

        def storm_locks():
            out = subprocess.run(sim.smbvol("lock", "list", "--json"), env=sim.env, capture_output=True, text=True)
            return sum(1 for lock in json.loads(out.stdout)["locks"] if str(lock.get("share", "")).startswith("storm"))

        def release_all():
            for index, xml in enumerate(xmls):
                with open(xml, "rb") as stdin:
                    subprocess.run(sim.smbvol("hook", f"vm{index:03d}", "release", "end", "-"), stdin=stdin, env=sim.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def storm(expired):
            def run():
                release_all()
                if expired:
                    # The stored token is one the cluster no longer knows (expired overnight).
                    with open(sim.token_store, "w") as handle:
                        handle.write('{"bearer_token": "session-v1:expired-overnight", "version": 1}\n')
                    os.chmod(sim.token_store, 0o600)
                before_mounts, before_logins = storm_mounts(), sim.state()["logins"]
                sim.reset_requests()
                started, errors, children = {}, {}, {}
                wall = time.perf_counter()
                for index, xml in enumerate(xmls):
                    stdin = open(xml, "rb")
                    err = tempfile.TemporaryFile()
                    started_at = time.perf_counter()
                    process = subprocess.Popen(sim.smbvol("hook", f"vm{index:03d}", "prepare", "begin", "-"), stdin=stdin,
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
                        self.failures.append(f"boot storm prepare ({'expired' if expired else 'valid'} token): exit {code}: {text[:300]}")
                elapsed = (time.perf_counter() - wall) * 1000.0
                state = sim.state()
                self.storm_hook_ms[expired] += times
                return {"ms": elapsed, "mounts": storm_mounts() - before_mounts, "locks": storm_locks(),
                        "logins": state["logins"] - before_logins, "requests": len(state["requests"]),
                        "requests_per_image": len(state["requests"]) / STORM_DOMAINS}
            return run

        self.storm_hook_ms = {False: [], True: []}
        figure = self.group(f"9. boot storm: {STORM_DOMAINS} concurrent prepare begin on {STORM_SHARES} shares", [
            ("valid", f"{STORM_DOMAINS} concurrent prepares, {STORM_SHARES} shares, stored token valid", storm(False)),
            ("expired", f"{STORM_DOMAINS} concurrent prepares, {STORM_SHARES} shares, stored token expired", storm(True)),
        ], runs=self.args.storm_runs, warmup=0)
        for key, expired in (("valid", False), ("expired", True)):
            figure[key]["hook_ms"] = summarize(self.storm_hook_ms[expired])
        release_all()
        return figure

    def figure6(self, sims):
        entries = []
        for sim in sims:
            xml = self.write_xml("web01", 1, f"{sim.mount_point()}/web01/disk0.qcow2", sim.dir)
            entries.append((f"elsewhere_{sim.elsewhere}", f"prepare, {sim.elsewhere:,} handles elsewhere",
                            self.prepare_fn(sim, "web01", xml, False)))
        return self.group("6. scaling", entries)

    def figure7(self, sim):
        """Issue 15: the hook with the journal and the textfile metrics on, side by side with the
        same binary with both off (and, with --baseline-bin-dir, the previous binary)."""
        web01 = self.write_xml("web01", 1, f"{sim.mount_point()}/web01/disk0.qcow2", sim.dir)

        def noop(env, binary=None):
            def run():
                argv = [binary or self.bin("smbvol"), "hook", "other", "prepare", "begin", "-"]
                sample = run_once(argv, stdin_path=self.noop_xml, env=env)
                self.check("hook no-op (observability)", sample)
                return {"ms": sample.ms, "rss_kb": sample.rss_kb, "cpu_ms": sample.cpu_ms}
            return run

        entries = [
            ("noop_off", "hook no-op, journal and metrics off", noop(sim.env_off)),
            ("noop_on", "hook no-op, journal and metrics on", noop(sim.env_obs)),
            ("prepare_off", "prepare, 1 disk, journal and metrics off", self.prepare_fn(sim, "web01", web01, False, env=sim.env_off)),
            ("prepare_on", "prepare, 1 disk, journal and metrics on", self.prepare_fn(sim, "web01", web01, False, env=sim.env_obs)),
        ]
        if self.args.baseline_bin_dir:
            baseline = os.path.join(os.path.abspath(self.args.baseline_bin_dir), "smbvol")
            entries += [
                ("noop_baseline", "hook no-op, previous binary", noop(sim.env, baseline)),
                ("prepare_baseline", "prepare, 1 disk, previous binary", self.prepare_fn(sim, "web01", web01, False, binary=baseline)),
            ]
        figure = self.group("7. journal and metrics on vs off", entries)
        metrics = open(sim.metrics_file).read() if os.path.exists(sim.metrics_file) else ""
        figure["metrics_written"] = "smbvol_hook_runs_total" in metrics
        return figure

    # ---- figure 8: heartbeat records (issue 13)

    @staticmethod
    def heartbeat_record(host_id, addresses, written_at, images):
        return json.dumps({"format": "smbvol-heartbeat", "version": 1, "host_id": host_id, "hostname": host_id,
                           "addresses": addresses, "interval_seconds": 10, "images": images,
                           "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(written_at))}).encode()

    def write_heartbeat(self, root, host_id, addresses, written_at, images=()):
        data = self.heartbeat_record(host_id, addresses, written_at, list(images))
        for directory in [f"{root}/.smbvol/hosts"] + [f"{root}/.smbvol/by-address/{a}" for a in addresses]:
            os.makedirs(directory, exist_ok=True)
            with open(f"{directory}/{host_id}.json", "wb") as handle:
                handle.write(data)

    def figure10(self, sim):
        """Figure 10: the kernel check of this host's leftover handle (a /proc scan for the image's
        device and inode) with 500 processes x 100 open files beside it, against the same
        prepare with none, and a prepare with no handle (no scan at all) under the same load."""
        mount_point = sim.mount_point()
        local01 = self.write_xml("local01", 3, f"{mount_point}/local01/disk0.qcow2", sim.dir)
        web01 = self.write_xml("web01", 1, f"{mount_point}/web01/disk0.qcow2", sim.dir)
        env = sim.local_env()

        def leftover():
            sim.add_local_leftover()
            sim.reset_requests()
            sample = run_once(sim.smbvol("hook", "local01", "prepare", "begin", "-"), stdin_path=local01, env=env)
            self.check("prepare local01", sample)
            state = sim.state()
            closed = state["closed_locations"].count(LOCAL_LEFTOVER)
            result = {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(state["requests"]), "cpu_ms": sample.cpu_ms,
                      "closed": closed - self.local_closed}
            self.local_closed = closed
            return result

        def plain():
            sim.reset_requests()
            sample = run_once(sim.smbvol("hook", "web01", "prepare", "begin", "-"), stdin_path=web01, env=env)
            self.check("prepare web01", sample)
            return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(sim.state()["requests"]), "cpu_ms": sample.cpu_ms}

        def fuser():
            # The peer for the same question ("which local process has this file open?"):
            # psmisc's fuser walks /proc the same way. Exit 1 means "nobody", as here.
            sample = run_once(["fuser", f"{mount_point}/local01/disk0.qcow2"])
            return {"ms": sample.ms, "rss_kb": sample.rss_kb, "cpu_ms": sample.cpu_ms}

        self.local_closed = 0
        quiet = self.group("10. prepare with this host's leftover handle (kernel check), no load", [
            ("leftover_quiet", "prepare, this host's leftover: /proc scan, few processes", leftover),
            ("plain_quiet", "prepare, no handle (no scan), few processes", plain)])
        load = ProcessLoad(self.work, LOAD_PROCESSES, LOAD_FILES_PER_PROCESS)
        try:
            loaded = self.group(f"10. the same with {LOAD_PROCESSES} processes x {LOAD_FILES_PER_PROCESS} open files", [
                ("leftover_loaded", f"prepare, this host's leftover: /proc scan, {LOAD_PROCESSES} x {LOAD_FILES_PER_PROCESS} open files",
                 leftover),
                ("plain_loaded", f"prepare, no handle (no scan), {LOAD_PROCESSES} x {LOAD_FILES_PER_PROCESS} open files", plain),
                ("fuser_loaded", f"fuser IMAGE (the peer: who has it open), {LOAD_PROCESSES} x {LOAD_FILES_PER_PROCESS} open files", fuser)])
        finally:
            load.stop()
        return {**quiet, **loaded}

    def figure8(self, sim):
        """prepare of an image held from an address whose host beats, on shares with 1, 100 and
        1 000 host records: every run is refused after reading the holder's records only."""
        now = time.time()
        sim.admin("POST", "/_sim/sessions", [{"originator": HEARTBEAT_HOLDER, "auth_id": "1001", "idle_seconds": 900}])
        entries = []
        for hosts in HEARTBEAT_HOSTS:
            root = f"{self.work}/hb{hosts}"
            os.makedirs(root, exist_ok=True)
            open(f"{root}/disk0.qcow2", "w").close()
            for index in range(1, hosts):
                self.write_heartbeat(root, f"host-{index:04d}", [f"10.2.{index // 250}.{index % 250 + 1}"], now)
            sim.admin("POST", "/_sim/handles", [{"path": f"/hb{hosts}/disk0.qcow2", "location": f"9.1.{hosts}", "owner": "1001",
                                                  "client_address": HEARTBEAT_HOLDER, "num_byte_range_locks": 1}])
            xml = self.write_xml(f"hb{hosts}", 500 + hosts, f"{root}/disk0.qcow2", sim.dir)

            def run(root=root, xml=xml, hosts=hosts):
                # The holder's host keeps beating: its record is fresh at every run (not timed).
                self.write_heartbeat(root, "host-0000", [HEARTBEAT_HOLDER], time.time(),
                                     [{"path": "disk0.qcow2", "domain_name": f"hb{hosts}", "domain_uuid": "x"}])
                sim.reset_requests()
                sample = run_once(sim.smbvol("hook", f"hb{hosts}", "prepare", "begin", "-"), stdin_path=xml, env=sim.env)
                if sample.status != 1 or "host-0000" not in sample.stderr:
                    self.failures.append(f"prepare hb{hosts}: expected a refusal naming host-0000, got exit {sample.status}: "
                                         f"{sample.stderr.strip()[:300]}")
                state = sim.state()
                if state["closed_locations"].count(f"9.1.{hosts}"):
                    self.failures.append(f"prepare hb{hosts}: the beating holder's handle was closed")
                return {"ms": sample.ms, "rss_kb": sample.rss_kb, "requests": len(state["requests"])}
            entries.append((f"hosts_{hosts}", f"prepare refused by a beating holder, {hosts:,} host record(s) on the share", run))
        return self.group("8. heartbeat records on the share", entries)

    # ---- the whole run

    def run(self):
        self.setup()
        started = datetime.datetime.now(datetime.timezone.utc)
        sizes = [10, 1000, 10000, 100000] if not self.args.quick else [10, 1000]
        only = set(self.args.only.split(",")) if self.args.only else None
        if self.args.only_observability:
            only = {"7"}
        if only:
            sizes = [size for size in sizes if size == 10 or ("4" in only and size >= 10000) or ("6" in only)]
        by_size = {size: self.start_sim(f"sim-{size}", size, storm=(size == 10)) for size in sizes}
        main = by_size[10]
        # The share is mounted once before the figures (prepare figures measure "already mounted").
        for sim in by_size.values():
            xml = self.write_xml("web01", 1, f"{sim.mount_point()}/web01/disk0.qcow2", sim.dir)
            with open(xml, "rb") as stdin:
                done = subprocess.run(sim.smbvol("hook", "web01", "prepare", "begin", "-"), stdin=stdin, env=sim.env,
                                      capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"bench: the first prepare failed on {sim.name}: {done.stderr}")
        def wanted(figure):
            return only is None or figure in only
        if wanted("1"):
            self.results["1_hook_noop"] = self.figure1(main)
        if wanted("2"):
            self.results["2_3_prepare_vs_qq"] = self.figures2and3(main)
        if wanted("5"):
            self.results["5_concurrent"] = self.figure5(main)
        if wanted("6"):
            self.results["6_scaling"] = self.figure6([by_size[size] for size in (10, 1000, 100000) if size in by_size])
        if wanted("4"):
            self.results["4_listing"] = self.listing([by_size[size] for size in (10000, 100000) if size in by_size])
        if wanted("7"):
            self.results["7_observability"] = self.figure7(main)
        if wanted("8"):
            self.results["8_heartbeat_records"] = self.figure8(main)
        if wanted("9"):
            self.results["9_boot_storm"] = self.figure9(main)
        if wanted("10"):
            self.results["10_local_openers"] = self.figure10(main)
        finished = datetime.datetime.now(datetime.timezone.utc)
        return started, finished

    def cleanup(self):
        if hasattr(self, "journal"):
            self.journal.stop()
        for sim in self.sims:
            sim.stop()
        # The stand-in's mounts would vanish with the private namespace anyway; unmount them
        # (deepest first) so the scratch tree can be removed.
        with open("/proc/self/mountinfo") as handle:
            points = [line.split()[4] for line in handle if line.split()[4].startswith(self.work + "/")]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.work, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Report


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(memory_kb / 1024 / 1024, 1),
            "kernel": platform.release(), "python": platform.python_version()}


def swift_version():
    try:
        out = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0].strip() if out else "unknown"
    except OSError:
        return "unknown"


def qq_version(qq):
    try:
        out = subprocess.run([qq, "--version"], capture_output=True, text=True)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def targets(results):
    t = []
    if "1_hook_noop" in results:
        f1 = results["1_hook_noop"]
        above = f1["smbvol"]["ms"]["median"] - f1["true"]["ms"]["median"]
        t.append({"target": "hook no-op <= 10 ms above /bin/true (median)", "value": f"{above:.1f} ms above", "met": above <= 10})
    if "2_3_prepare_vs_qq" in results:
        f2 = results["2_3_prepare_vs_qq"]
        median = f2["smbvol_0"]["ms"]["median"]
        requests = f2["smbvol_0"]["requests"]["max"]
        t.append({"target": "prepare, 1 disk, no handles: <= 50 ms median", "value": f"{median:.1f} ms", "met": median <= 50})
        t.append({"target": "prepare, 1 disk, no handles: <= 4 HTTP requests (cached token)", "value": f"{requests}",
                  "met": requests <= 4})
        for key, qq_key, what in [("smbvol_3", "qq_3", "3 stale handles"), ("smbvol_0", "qq_0", "no handles")]:
            ratio = f2[qq_key]["ms"]["median"] / f2[key]["ms"]["median"]
            t.append({"target": f">= 20x faster than the qq sequence ({what})", "value": f"{ratio:.1f}x", "met": ratio >= 20})
    f4 = results.get("4_listing", {})
    if "smbvol_100000" in f4:
        s, q = f4["smbvol_100000"], f4["qq_100000"]
        ratio = q["ms"]["median"] / s["ms"]["median"]
        t.append({"target": "listing 100 000 handles >= 4x faster than qq smb_list_file_handles (same run, median)",
                  "value": f"{ratio:.2f}x ({s['ms']['median'] / 1000:.2f} s vs {q['ms']['median'] / 1000:.2f} s)",
                  "met": ratio >= 4})
        t.append({"target": "listing 100 000 handles <= 40 MB peak RSS", "value": f"{s['peak_rss_mb']['max']:.1f} MB",
                  "met": s["peak_rss_mb"]["max"] <= 40})
        out = s.get("output", {})
        t.append({"target": "listing output complete (every handle, client addresses) and deterministic",
                  "value": f"{out.get('handles')} handles, {out.get('with_client_addresses')} with client addresses, "
                           f"identical runs: {out.get('deterministic')}",
                  "met": out.get("handles") == 100000 and out.get("with_client_addresses", 0) > 0 and out.get("deterministic") is True})
    if "5_concurrent" in results:
        f5 = results["5_concurrent"]["concurrent"]
        t.append({"target": f"{POOL_DOMAINS} concurrent prepares: 1 mount, {POOL_DOMAINS} locks",
                  "value": f"mounts {f5['mounts']['min']}..{f5['mounts']['max']}, locks {f5['locks']['min']}..{f5['locks']['max']}",
                  "met": f5["mounts"] == {"min": 1, "max": 1} and f5["locks"] == {"min": POOL_DOMAINS, "max": POOL_DOMAINS}})
    if "6_scaling" in results:
        f6 = results["6_scaling"]
        keys = sorted(f6, key=lambda k: int(k.split("_")[1]))
        counts = {f6[k]["requests"]["max"] for k in keys} | {f6[k]["requests"]["min"] for k in keys}
        growth = f6[keys[-1]]["ms"]["median"] / f6[keys[0]]["ms"]["median"]
        t.append({"target": "per-image cost flat in handles elsewhere (requests equal; time within 1.5x)",
                  "value": f"requests {sorted(counts)}; time x{growth:.2f} from {keys[0].split('_')[1]} to {keys[-1].split('_')[1]}",
                  "met": len(counts) == 1 and growth <= 1.5})
    if "9_boot_storm" in results:
        f7 = results["9_boot_storm"]
        for key, logins in (("valid", 0), ("expired", 1)):
            e = f7[key]
            t.append({"target": f"boot storm ({key} token): {STORM_SHARES} mounts, {STORM_DOMAINS} locks, {logins} login(s)",
                      "value": f"mounts {e['mounts']['min']}..{e['mounts']['max']}, locks {e['locks']['min']}..{e['locks']['max']}, "
                               f"logins {e['logins']['min']}..{e['logins']['max']}",
                      "met": e["mounts"] == {"min": STORM_SHARES, "max": STORM_SHARES}
                      and e["locks"] == {"min": STORM_DOMAINS, "max": STORM_DOMAINS}
                      and e["logins"] == {"min": logins, "max": logins}})
    f7 = results.get("7_observability")
    if f7:
        for what, key in (("no-op", "noop"), ("prepare, 1 disk", "prepare")):
            delta = f7[f"{key}_on"]["ms"]["median"] - f7[f"{key}_off"]["ms"]["median"]
            t.append({"target": f"hook {what}: journal + metrics on within 1 ms of off (median)", "value": f"{delta:+.2f} ms",
                      "met": delta <= 1.0 and f7["metrics_written"]})
    f8 = results.get("8_heartbeat_records")
    if f8:
        keys = sorted(f8, key=lambda k: int(k.split("_")[1]))
        counts = {f8[k]["requests"]["max"] for k in keys} | {f8[k]["requests"]["min"] for k in keys}
        growth = f8[keys[-1]]["ms"]["median"] / f8[keys[0]]["ms"]["median"]
        t.append({"target": "prepare cost flat in host records on the share (requests equal; time within 1.5x from 1 to 1 000)",
                  "value": f"requests {sorted(counts)}; time x{growth:.2f}", "met": len(counts) == 1 and growth <= 1.5})
    f10 = results.get("10_local_openers")
    if f10:
        quiet, loaded = f10["leftover_quiet"], f10["leftover_loaded"]
        extra = loaded["ms"]["median"] - quiet["ms"]["median"]
        peer = f10["fuser_loaded"]["ms"]["median"]
        t.append({"target": f"kernel check of a leftover under {LOAD_PROCESSES} x {LOAD_FILES_PER_PROCESS} open files: "
                            "what it adds to a prepare <= what fuser takes for the same question (median, same run)",
                  "value": f"+{extra:.1f} ms ({quiet['ms']['median']:.1f} -> {loaded['ms']['median']:.1f} ms) vs fuser {peer:.1f} ms "
                           f"({peer / extra if extra > 0 else float('inf'):.2f}x); leftover closed per run: "
                           f"{loaded.get('closed', {}).get('min')} (0: a process whose descriptors cannot be read, e.g. PID 1 of a "
                           "sandbox, may hide a holder, so it is reported instead)",
                  "met": extra <= peer})

        plain = f10["plain_loaded"]["ms"]["median"] / f10["plain_quiet"]["ms"]["median"]
        t.append({"target": "prepare with no handle: no scan, flat under the process load (within 1.2x)",
                  "value": f"x{plain:.2f}", "met": plain <= 1.2})
    return t


def observability_targets(f7):
    t = []
    for what, key in (("no-op", "noop"), ("prepare, 1 disk", "prepare")):
        delta = f7[f"{key}_on"]["ms"]["median"] - f7[f"{key}_off"]["ms"]["median"]
        t.append({"target": f"hook {what}: journal + metrics on within 1 ms of off (median)", "value": f"{delta:+.2f} ms",
                  "met": delta <= 1.0 and f7["metrics_written"]})
        cpu = f7[f"{key}_on"]["cpu_ms"]["median"] - f7[f"{key}_off"]["cpu_ms"]["median"]
        t.append({"target": f"hook {what}: journal + metrics on within 1 ms of off (CPU, median)", "value": f"{cpu:+.2f} ms",
                  "met": cpu <= 1.0})
    return t


def observability_markdown(report):
    f7 = report["results"]["7_observability"]
    lines = [f"Figure 7 only (`bench/run.py --only-observability`), {report['runs']} runs after {report['warmup']} warm-up, "
             f"alternated; {report['finished'][:16].replace('T', ' ')} UTC.", "",
             "| figure | median | p95 | min–max | vs | CPU (user+sys) median |", "|---|---:|---:|---:|---|---:|"]
    for key in ("noop_off", "noop_on", "noop_baseline", "prepare_off", "prepare_on", "prepare_baseline"):
        if key not in f7:
            continue
        e = f7[key]["ms"]
        base = f7[key.split("_")[0] + "_off"]["ms"]["median"]
        cpu = f7[key].get("cpu_ms", {}).get("median", 0.0)
        cpu_base = f7[key.split("_")[0] + "_off"].get("cpu_ms", {}).get("median", 0.0)
        lines.append(f"| {f7[key]['label']} | {e['median']:.2f} ms | {e['p95']:.2f} ms | {e['min']:.2f}–{e['max']:.2f} ms "
                     f"| {e['median'] - base:+.2f} ms vs off | {cpu:.2f} ms ({cpu - cpu_base:+.2f}) |")
    lines += ["", "| target (issue 15) | this run | met |", "|---|---|---|"]
    for t in report["targets"]:
        lines.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |")
    if report["failures"]:
        lines += ["", "Failed runs: " + "; ".join(f"`{f}`" for f in report["failures"][:3])]
    return "\n".join(lines) + "\n"


def markdown(report):
    r = report["results"]
    m = report["machine"]
    lines = []
    lines.append(f"Run {report['finished'][:16].replace('T', ' ')} UTC on {m['cores']} cores ({m['cpu']}), "
                 f"{m['memory_gib']} GiB memory, Linux {m['kernel']}; {report['swift']}; {report['qq_version']}. "
                 f"{report['runs']} runs per command after {report['warmup']} warm-up runs, alternated. "
                 f"Command: `{report['command']}`.")
    lines.append("")
    lines.append("| # | figure | median | p95 | min–max | ratio | HTTP requests | peak RSS |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")

    def ms(value):
        return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"

    def row(number, entry, ratio=""):
        s = entry["ms"]
        requests = ""
        if "requests" in entry:
            q = entry["requests"]
            requests = str(q["min"]) if q["min"] == q["max"] else f"{q['min']}–{q['max']}"
        rss = f"{entry['peak_rss_mb']['max']:.1f} MB" if "peak_rss_mb" in entry else ""
        lines.append(f"| {number} | {entry['label']} | {ms(s['median'])} | {ms(s['p95'])} | {ms(s['min'])}–{ms(s['max'])} "
                     f"| {ratio} | {requests} | {rss} |")

    if "1_hook_noop" in r:
        f1 = r["1_hook_noop"]
        row(1, f1["smbvol"], f"+{f1['smbvol']['ms']['median'] - f1['true']['ms']['median']:.1f} ms vs true")
        row(1, f1["true"])
        row(1, f1["python"], f"smbvol/python {f1['smbvol']['ms']['median'] / f1['python']['ms']['median']:.2f}")
    if "2_3_prepare_vs_qq" in r:
        f2 = r["2_3_prepare_vs_qq"]
        row(2, f2["smbvol_0"], f"qq/smbvol {f2['qq_0']['ms']['median'] / f2['smbvol_0']['ms']['median']:.1f}×")
        row(3, f2["qq_0"])
        row(2, f2["smbvol_3"], f"qq/smbvol {f2['qq_3']['ms']['median'] / f2['smbvol_3']['ms']['median']:.1f}×")
        row(3, f2["qq_3"])
    f4 = r.get("4_listing", {})
    for size in (10000, 100000):
        if f"smbvol_{size}" in f4:
            s, q = f4[f"smbvol_{size}"], f4[f"qq_{size}"]
            row(4, s, f"qq/smbvol {q['ms']['median'] / s['ms']['median']:.2f}×")
            row(4, q)
    if "5_concurrent" in r:
        f5 = r["5_concurrent"]
        c = f5["concurrent"]
        row(5, c, f"mounts {c['mounts']['max']}, locks {c['locks']['max']}; "
                  f"sequential/concurrent {f5['sequential']['ms']['median'] / c['ms']['median']:.2f}×")
        row(5, f5["sequential"])
    if "6_scaling" in r:
        f6 = r["6_scaling"]
        keys = sorted(f6, key=lambda k: int(k.split("_")[1]))
        for key in keys:
            row(6, f6[key], f"{f6[key]['ms']['median'] / f6[keys[0]]['ms']['median']:.2f}× of {keys[0].split('_')[1]}")
    if "9_boot_storm" in r:
        for key in ("valid", "expired"):
            e = r["9_boot_storm"][key]
            h = e["hook_ms"]
            row(9, e, f"mounts {e['mounts']['max']}, locks {e['locks']['max']}, logins {e['logins']['max']}; "
                      f"per hook p50 {ms(h['median'])}, p95 {ms(h['p95'])}, max {ms(h['max'])}; "
                      f"{e['requests_per_image']['max']:.2f} requests per image")
    f7 = r.get("7_observability")
    if f7:
        for key in ("noop", "prepare"):
            off = f7[f"{key}_off"]
            row(7, off)
            row(7, f7[f"{key}_on"], f"{f7[f'{key}_on']['ms']['median'] - off['ms']['median']:+.2f} ms vs off")
            if f"{key}_baseline" in f7:
                row(7, f7[f"{key}_baseline"], f"{f7[f'{key}_on']['ms']['median'] - f7[f'{key}_baseline']['ms']['median']:+.2f} ms on vs previous")
    f8 = r.get("8_heartbeat_records", {})
    keys = sorted(f8, key=lambda k: int(k.split("_")[1]))
    for key in keys:
        row(8, f8[key], f"{f8[key]['ms']['median'] / f8[keys[0]]['ms']['median']:.2f}× of 1")
    f10 = r.get("10_local_openers", {})
    if f10:
        row(10, f10["leftover_quiet"])
        row(10, f10["leftover_loaded"], f"+{f10['leftover_loaded']['ms']['median'] - f10['leftover_quiet']['ms']['median']:.1f} ms")
        row(10, f10["plain_quiet"])
        row(10, f10["plain_loaded"], f"{f10['plain_loaded']['ms']['median'] / f10['plain_quiet']['ms']['median']:.2f}×")
        row(10, f10["fuser_loaded"])
    lines.append("")
    lines.append("| target (issues 6, 13, 15, 16) | this run | met |")
    lines.append("|---|---|---|")
    for t in report["targets"]:
        lines.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |")
    if report["failures"]:
        lines.append("")
        lines.append(f"Failed runs ({len(report['failures'])}), first ones:")
        for failure in report["failures"][:5]:
            lines.append(f"- `{failure}`")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, ".build-release/release"))
    parser.add_argument("--qq", default=os.path.join(ROOT, ".venv-qq/bin/qq"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench/results"))
    parser.add_argument("--quick", action="store_true", help="skip the 10 000 and 100 000 handle clusters")
    parser.add_argument("--only-observability", action="store_true", help="figure 7 only (journal and metrics on vs off)")
    parser.add_argument("--baseline-bin-dir", help="figure 7 also runs the smbvol binary in this directory (the previous build)")
    parser.add_argument("--only", default="", help="comma-separated figure numbers to run (1,2,4,5,6,7,8,9,10); default all")
    parser.add_argument("--storm-runs", type=int, default=3, help="rounds of the boot storm figure (each starts 200 hooks)")
    parser.add_argument("--command", default="scripts/bench", help="the command quoted in the report")
    args = parser.parse_args()

    if os.environ.get("SMBVOL_BENCH_IN_NAMESPACE") != "1":
        if os.geteuid() != 0:
            raise SystemExit("bench: needs root (a private mount namespace for the stand-in mounts)")
        env = dict(os.environ, SMBVOL_BENCH_IN_NAMESPACE="1")
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable, *sys.argv], env)

    bench = Bench(args)
    try:
        started, finished = bench.run()
    finally:
        bench.cleanup()
    report = {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "machine": machine(),
        "swift": swift_version(),
        "qq_version": qq_version(args.qq),
        "runs": args.runs,
        "warmup": args.warmup,
        "command": args.command,
        "results": bench.results,
        "failures": bench.failures,
    }
    os.makedirs(args.out, exist_ok=True)
    if args.only_observability:
        report["targets"] = observability_targets(bench.results["7_observability"])
        text = observability_markdown(report)
        for name, content in (("latest-observability.json", json.dumps(report, indent=1) + "\n"), ("latest-observability.md", text)):
            with open(os.path.join(args.out, name), "w") as handle:
                handle.write(content)
        print(text)
        sys.exit(1 if bench.failures else 0)
    report["targets"] = targets(bench.results)
    with open(os.path.join(args.out, "latest.json"), "w") as handle:
        json.dump(report, handle, indent=1)
        handle.write("\n")
    text = markdown(report)
    with open(os.path.join(args.out, "latest.md"), "w") as handle:
        handle.write(text)
    print(text)
    if bench.failures:
        log(f"{len(bench.failures)} runs failed; see latest.md")
        sys.exit(1)


if __name__ == "__main__":
    main()
