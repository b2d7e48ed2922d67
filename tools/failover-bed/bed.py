#!/usr/bin/python3
"""The failover test bed: several hosts (network + mount namespaces), one real smbd, qumulo-sim's
Samba backend as the cluster API, the real smbvol binary and mount.cifs (CIFS stand-in below
it), writers standing in for qemu, faults, an HA step, and the mutual-exclusion checker.

  bed.py run --bin-dir DIR [--smbvol BIN] [--qumulo-sim BIN] [--profile short|soak] [--seed N] [--hosts 3]
             [--modes unfenced,fenced] [--out FILE.json]
  bed.py teardown          deletes the bed's namespaces by name (fob-srv, fob-h1...)

See tools/failover-bed/README.md.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bednet  # noqa: E402
import checker  # noqa: E402
from bednet import run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SMB_PASSWORD = "bed-svc-pw"
ADMIN_PASSWORD = "bed-root-pw"
API_PASSWORD = "bed-api-pw"
FENCE_PASSWORD = "bed-fence-pw"
MODES = ["unfenced", "fenced"]
KINDS = ["crash", "partition", "pause", "smbd-restart", "api-down"]
# Unfenced split-brains that are smbvol's documented limit, not a failure of the run: an
# unfenced, partitioned host that comes back can write (its VM would be a libvirt domain that
# the heartbeat's takeover defence pauses; the bed's writer is not one). Reported loudly.
DOCUMENTED_LIMITS = {("unfenced", "partition")}
STALE_AFTER = 10
HEARTBEAT_INTERVAL = 2
HEARTBEAT_FRESH = 6
ENV = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Host:
    def __init__(self, bed, index):
        self.bed = bed
        self.index = index
        self.name = f"h{index}"
        self.ns = bednet.host_ns(index)
        self.addr = bednet.host_addr(index)
        self.dir = os.path.join(bed.dir, self.name)
        self.holder = None
        self.heartbeat = None
        self.writers = {}  # vm -> Popen
        self.config = os.path.join(self.dir, "smbvol.toml")

    def write_config(self):
        os.makedirs(self.dir + "/state", exist_ok=True)
        os.chmod(self.dir + "/state", 0o700)
        cred = self.dir + "/vmstore.cred"
        with open(cred, "w") as f:
            f.write(f"username=svc\npassword={SMB_PASSWORD}\ndomain=WORKGROUP\n")
        os.chmod(cred, 0o600)
        pw = self.dir + "/api.password"
        with open(pw, "w") as f:
            f.write(API_PASSWORD + "\n")
        os.chmod(pw, 0o600)
        fence_pw = self.dir + "/fence.password"
        with open(fence_pw, "w") as f:
            f.write(FENCE_PASSWORD + "\n")
        os.chmod(fence_pw, 0o600)
        with open(self.config, "w") as f:
            f.write(f"""state_dir = "{self.dir}/state"
mount_base = "{self.dir}/mnt"
qemu_user = "root"
qemu_group = "root"
mount_timeout_seconds = 15
deadline_seconds = 30
syslog_socket = "{self.dir}/syslog.sock"
journal_socket = ""
host_id = "{self.name}"
heartbeat_interval_seconds = {HEARTBEAT_INTERVAL}
heartbeat_fresh_seconds = {HEARTBEAT_FRESH}

[policy]
stale_after_seconds = {STALE_AFTER}
on_cluster_error = "continue"

[cluster.bed]
host = "{bednet.SERVER_ADDR}"
port = 8000
ca_file = "{self.bed.dir}/tls/ca.pem"
username = "svc-smbvol"
password_file = "{pw}"
credentials_store = "{self.dir}/state/tokens-bed"
request_timeout_seconds = 5
fence_username = "svc-fence"
fence_password_file = "{fence_pw}"

[share.vmstore]
export = "//srv/vmstore"
cluster = "bed"
fs_path = "/vmstore"
credentials = "{cred}"
options = ["vers=3.1.1", "cache=none"]
""")

    def boot(self):
        """A fresh mount namespace in the host's network namespace (a boot), the CIFS stand-in
        under the real mount.cifs, and the heartbeat service."""
        self.holder = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "unshare", "-m", "--propagation", "private", "sleep", "infinity"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                if os.readlink(f"/proc/{self.holder.pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt") and \
                        os.readlink(f"/proc/{self.holder.pid}/exe").endswith("sleep"):
                    break
            except OSError:
                pass
            time.sleep(0.02)
        self.nsrun([REPO + "/tools/cifs-standin/enter-namespace.sh", self.dir + "/standin",
                    "--host", f"{bednet.SERVER_ADDR} srv"], timeout=60)
        hb_log = open(self.dir + "/heartbeat.log", "a")
        self.heartbeat = subprocess.Popen(
            self.enter() + [self.bed.smbvol, "heartbeat"], env={**ENV, "SMBVOL_CONFIG": self.config},
            stdin=subprocess.DEVNULL, stdout=hb_log, stderr=hb_log, start_new_session=True)

    def share_mounted(self):
        """Whether the share is mounted in this host's mount namespace now (a host that just
        rebooted has not mounted it yet: smbvol mounts it on its first VM start)."""
        if not self.holder:
            return False
        try:
            with open(f"/proc/{self.holder.pid}/mountinfo") as f:
                return any(self.dir + "/mnt/" in line for line in f)
        except OSError:
            return False

    def enter(self):
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--wd=/", "--"]

    def nsrun(self, argv, timeout=30, check=True, input=None):
        return run(self.enter() + argv, timeout=timeout, check=check, input=input)

    def smbvol(self, args, input=None, timeout=45):
        full = ["timeout", "--kill-after=5", str(timeout)] + self.enter() + [self.bed.smbvol] + args
        return subprocess.run(full, input=input, capture_output=True, text=True,
                              env={**ENV, "SMBVOL_CONFIG": self.config})

    def mount_point(self):
        result = self.smbvol(["mounts", "--json"])
        entries = json.loads(result.stdout).get("mounts", [])
        return entries[0]["mount_point"]

    def processes(self):
        """Every process of this host: in its mount namespace."""
        try:
            mine = os.readlink(f"/proc/{self.holder.pid}/ns/mnt")
        except OSError:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink(f"/proc/{entry}/ns/mnt") == mine:
                        pids.append(int(entry))
                except OSError:
                    pass
        return pids

    def signal_all(self, sig):
        for pid in self.processes():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def crash(self):
        """kill -9 of everything the host runs (writers, heartbeat, the FUSE SMB client, the
        namespace holder): its mount namespace is gone, as after a power cut."""
        self.signal_all(signal.SIGKILL)
        for proc in [self.holder, self.heartbeat] + list(self.writers.values()):
            if proc:
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.writers = {}
        self.holder = self.heartbeat = None

    def shutdown(self):
        if self.holder:
            self.signal_all(signal.SIGCONT)
            self.crash()


class Bed:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.dir = tempfile.mkdtemp(prefix="fob-")
        os.chmod(self.dir, 0o755)
        self.smbvol = args.smbvol or os.path.join(args.bin_dir, "smbvol")
        self.sim_bin = args.qumulo_sim or os.path.join(args.bin_dir, "qumulo-sim")
        self.samba = bednet.SambaServer(self.dir + "/samba", self.dir + "/root",
                                        [("svc", SMB_PASSWORD), ("root", ADMIN_PASSWORD)])
        self.hosts = [Host(self, i) for i in range(1, args.hosts + 1)]
        self.sim = None
        self.epoch = 0
        self.vms = {}  # vm -> {"host": Host, "epoch": n}
        self.events = []
        self.results = []
        self.skipped = []

    def event(self, text):
        self.events.append((time.time(), text))
        log(text)

    # --- the cluster API ------------------------------------------------------------------
    def make_tls(self):
        tls = self.dir + "/tls"
        os.makedirs(tls)
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bed CA",
             "-keyout", tls + "/ca.key", "-out", tls + "/ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=bed", "-keyout", tls + "/server.key",
             "-out", tls + "/server.csr"])
        with open(tls + "/ext", "w") as f:
            f.write(f"subjectAltName=IP:{bednet.SERVER_ADDR}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "x509", "-req", "-in", tls + "/server.csr", "-CA", tls + "/ca.pem", "-CAkey", tls + "/ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", tls + "/ext", "-out", tls + "/server.pem"])
        os.chmod(tls + "/ca.pem", 0o644)

    def start_sim(self):
        scenario = self.dir + "/scenario.json"
        with open(scenario, "w") as f:
            json.dump({"users": [{"name": "svc-smbvol", "password": API_PASSWORD, "auth_id": "500"},
                                 {"name": "svc-fence", "password": FENCE_PASSWORD, "auth_id": "501", "role": "fencer"}],
                       "identities": [{"auth_id": "61000", "name": "svc", "domain": "LOCAL", "uid": 61000}],
                       "shares": [{"id": "1", "name": "vmstore", "fs_path": "/vmstore"}]}, f)
        admin = self.dir + "/samba-admin"
        with open(admin, "w") as f:
            f.write(f"root\n{ADMIN_PASSWORD}\n")
        os.chmod(admin, 0o600)
        logf = open(self.dir + "/qumulo-sim.log", "a")
        self.sim = subprocess.Popen(
            ["ip", "netns", "exec", bednet.SERVER_NS, self.sim_bin, "serve", "--scenario", scenario,
             "--host", bednet.SERVER_ADDR, "--port", "8000",
             "--tls-cert", self.dir + "/tls/server.pem", "--tls-key", self.dir + "/tls/server.key",
             "--samba-config", self.samba.conf, "--samba-root", self.samba.root,
             "--samba-server", bednet.SERVER_ADDR, "--samba-admin-file", admin,
             "--samba-helper", REPO + "/tools/samba-qumulo-helper.py",
             "--samba-enter-pid-file", self.dir + "/samba/enter.pid", "--verbose"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            if run(["ip", "netns", "exec", bednet.SERVER_NS, "bash", "-c",
                    f"exec 3<>/dev/tcp/{bednet.SERVER_ADDR}/8000"], timeout=2, check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("qumulo-sim did not listen")

    def stop_sim(self):
        if self.sim and self.sim.poll() is None:
            self.sim.terminate()
            try:
                self.sim.wait(5)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.sim.wait(5)
        self.sim = None

    def start_samba(self, first):
        self.samba.start(first=first)
        with open(self.dir + "/samba/enter.pid", "w") as f:
            f.write(f"{self.samba.init_pid()}\n")

    def api_requests(self):
        """Requests qumulo-sim has logged (--verbose: one line per request)."""
        try:
            return sum(1 for line in open(self.dir + "/qumulo-sim.log") if " /v" in line)
        except OSError:
            return 0

    # --- VMs ------------------------------------------------------------------------------
    def uuid(self, vm):
        return f"00000000-0000-4000-8000-{int(vm[2:]):012d}"

    def xml(self, host, vm):
        return f"""<domain type='kvm' id='1'>
  <name>{vm}</name>
  <uuid>{self.uuid(vm)}</uuid>
  <memory unit='KiB'>65536</memory>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='{host.mount}/{vm}.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""

    def start_vm(self, host, vm):
        """libvirt's order: hook prepare begin (XML on stdin), then qemu (the writer)."""
        result = host.smbvol(["hook", vm, "prepare", "begin", "-"], input=self.xml(host, vm))
        if result.returncode != 0:
            return False, (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        self.epoch += 1
        epoch = self.epoch
        out = open(os.path.join(host.dir, f"writer-{vm}-{epoch}.log"), "w")
        proc = subprocess.Popen(host.enter() + ["/usr/bin/python3", HERE + "/writer.py",
                                                f"{host.mount}/{vm}.img", host.name, str(epoch)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        deadline = time.time() + 10
        while time.time() < deadline and proc.poll() is None:
            if "started" in open(out.name).read():
                break
            time.sleep(0.05)
        if proc.poll() is not None or "started" not in open(out.name).read():
            proc.kill()
            host.smbvol(["hook", vm, "release", "end", "-"], input=self.xml(host, vm))
            return False, "writer could not open the image: " + open(out.name).read().strip()[-200:]
        host.writers[vm] = proc
        self.vms[vm] = {"host": host, "epoch": epoch}
        self.event(f"{vm} started on {host.name} (epoch {epoch})")
        return True, ""

    def stop_vm(self, host, vm):
        proc = host.writers.pop(vm, None)
        if proc:
            proc.kill()
            proc.wait(5)
        if host.holder:
            host.smbvol(["hook", vm, "release", "end", "-"], input=self.xml(host, vm))

    # --- faults ---------------------------------------------------------------------------
    def ha_restart(self, victim, vm, fault_at, holder_alive, bound, fenced_at=None):
        """The HA step: start vm on another host, retrying every second as an HA manager would."""
        others = [h for h in self.hosts if h is not victim and h.holder]
        attempts = refusals = refusals_alive = 0
        last = ""
        while time.time() - fault_at < bound:
            target = others[attempts % len(others)]
            attempts += 1
            ok, why = self.start_vm(target, vm)
            if ok:
                now = time.time()
                return {"started": True, "after": now - fault_at,
                        "after_fence": (now - fenced_at) if fenced_at else None, "attempts": attempts,
                        "refusals": refusals, "refusals_while_alive": refusals_alive, "target": target.name,
                        "epoch": self.vms[vm]["epoch"]}
            refusals += 1
            alive = holder_alive()
            refusals_alive += 1 if alive else 0
            last = why
            if attempts == 1 or attempts % 10 == 0:
                self.event(f"{vm} refused on {target.name} ({'holder alive' if alive else 'holder gone'}): {why[:160]}")
            time.sleep(1)
        return {"started": False, "after": None, "after_fence": None, "attempts": attempts, "refusals": refusals,
                "refusals_while_alive": refusals_alive, "last": last}

    def fence_agent(self, node, victim, action):
        """The real fence agent (smbvol fence-agent = fence_smbvol), options on stdin as an HA
        manager passes them, on the HA node with its fencing account."""
        started = time.time()
        options = f"action={action}\nplug={victim.name}\nconfig={node.config}\n"
        if not node.share_mounted():
            # The agent finds a host's addresses in its heartbeat records on a mounted share; no
            # HA node has it mounted (smbvol unmounts a share with its last VM, and `lock add`
            # does not mount): the HA manager's configuration names the address, as
            # pcmk_host_map would (docs/operations.md "Fencing": address=).
            options += f"address={victim.addr}\n"
            self.event(f"{node.name} has the share unmounted: the agent gets address={victim.addr} as well")
        result = node.smbvol(["fence-agent"], input=options, timeout=40)
        text = (result.stdout + result.stderr).strip().replace("\n", " | ")
        return result.returncode, time.time() - started, text

    def fence(self, node, victim, fault_at, bound):
        """action=off until it succeeds or the bound passes (a failed fence blocks the restart,
        as in Pacemaker); the time of its completion, or None."""
        attempts = 0
        while time.time() - fault_at < bound:
            attempts += 1
            rc, took, text = self.fence_agent(node, victim, "off")
            if rc == 0:
                self.event(f"fenced {victim.name} from {node.name} in {took:.2f} s (attempt {attempts}): {text[-120:]}")
                return time.time(), attempts
            if attempts == 1 or attempts % 5 == 0:
                self.event(f"fence of {victim.name} from {node.name} failed (exit {rc}, {took:.1f} s): {text[-200:]}")
            time.sleep(1)
        return None, attempts

    def unfence(self, node, victim):
        for attempt in range(1, 11):
            rc, took, text = self.fence_agent(node, victim, "on")
            if rc == 0:
                self.event(f"unfenced {victim.name} from {node.name} in {took:.2f} s")
                return True
            self.event(f"unfence of {victim.name} failed (exit {rc}, attempt {attempt}): {text[-200:]}")
            time.sleep(1)
        raise RuntimeError(f"could not unfence {victim.name}")

    def inject(self, kind, victim, mode):
        vms = [vm for vm, info in self.vms.items() if info["host"] is victim and vm in victim.writers]
        requests_before = self.api_requests()
        fault_at = time.time()
        self.event(f"FAULT {kind} on {victim.name} holding {vms} ({mode})")
        alive = lambda: True  # noqa: E731
        heal = None
        bound = STALE_AFTER + 40
        if kind == "crash":
            victim.crash()
            alive = lambda: False  # noqa: E731
        elif kind == "partition":
            bednet.set_host_link(victim.index, False)
            heal = lambda: bednet.set_host_link(victim.index, True)  # noqa: E731
        elif kind == "pause":
            victim.signal_all(signal.SIGSTOP)
            heal = lambda: victim.signal_all(signal.SIGCONT)  # noqa: E731
        elif kind == "smbd-restart":
            self.samba.restart()
            with open(self.dir + "/samba/enter.pid", "w") as f:
                f.write(f"{self.samba.init_pid()}\n")
            bound = 20
        elif kind == "api-down":
            self.stop_sim()
            heal = self.start_sim
            bound = 15
        outcomes = []
        fenced_at = fence_node = None
        fence_attempts = fence_requests = 0
        if mode == "fenced":
            # The HA manager fences the host it lost before restarting its VMs elsewhere.
            # The fence agent reads the victim's addresses from its heartbeat records on a mounted
            # share: an HA node with the share mounted runs it (any, if none has).
            candidates = [h for h in self.hosts if h is not victim and h.holder]
            fence_node = next((h for h in candidates if h.share_mounted()), candidates[0])

            before = self.api_requests()
            fenced_at, fence_attempts = self.fence(fence_node, victim, fault_at, bound)
            fence_requests = self.api_requests() - before
        for vm in vms:
            if mode == "fenced" and fenced_at is None:
                outcome = {"started": False, "after": None, "after_fence": None, "attempts": 0, "refusals": 0,
                           "refusals_while_alive": 0, "last": "not fenced within the bound: no restart"}
            else:
                outcome = self.ha_restart(victim, vm, fault_at, alive, bound, fenced_at)
            outcome.update({"fault": kind, "mode": mode, "vm": vm, "victim": victim.name,
                            "holder_alive": kind != "crash", "fence_attempts": fence_attempts,
                            "fenced_after": (fenced_at - fault_at) if fenced_at else None,
                            "fence_requests": fence_requests})
            outcomes.append(outcome)
            self.event(f"HA {vm}: {'started on ' + outcome['target'] if outcome['started'] else 'not started'} "
                       f"after {outcome['after'] and round(outcome['after'], 1)} s"
                       + (f" ({outcome['after_fence']:.2f} s after the fence)" if outcome["after_fence"] is not None else "")
                       + f", {outcome['refusals']} refusal(s)")
        if heal:
            heal()
            self.event(f"healed {kind} on {victim.name}")
            time.sleep(HEARTBEAT_FRESH + 4)  # the healed holder's chance to write again (the checker sees it)
        requests = self.api_requests() - requests_before - fence_requests
        starts = sum(o["attempts"] for o in outcomes) or 1
        for outcome in outcomes:
            outcome["requests_per_start"] = requests / starts
            # The old holder's VM: where another host took it, libvirt on the old host would be
            # told to stop it now (release end); where none did, it keeps running.
            if outcome["started"] and outcome["vm"] in victim.writers:
                self.stop_vm(victim, outcome["vm"])
        if fenced_at is not None:
            # Storage fences are lifted when the node comes back and its cluster services start
            # (fence_scsi's on_target unfencing): after its taken-over VMs were stopped.
            self.unfence(fence_node, victim)
        if kind == "crash":
            victim.boot()
            victim.mount = victim.mount_point()
            self.event(f"{victim.name} rebooted")
        self.results += outcomes

    # --- the run --------------------------------------------------------------------------
    def run(self, profile):
        self.make_tls()
        bednet.setup_network(len(self.hosts))
        self.start_samba(first=True)
        os.makedirs(self.samba.root + "/vmstore", exist_ok=True)
        for n in range(1, len(self.hosts) + 1):
            with open(f"{self.samba.root}/vmstore/vm{n}.img", "wb"):
                pass
        self.start_sim()
        for host in self.hosts:
            host.write_config()
            host.boot()
            host.mount = host.mount_point()
        for n, host in enumerate(self.hosts, start=1):
            ok, why = self.start_vm(host, f"vm{n}")
            if not ok:
                raise RuntimeError(f"first start of vm{n} on {host.name} failed: {why}")
        rounds = 1 if profile == "short" else 6
        deadline = time.time() + (330 if profile == "short" else 6 * 3600)
        plan = []
        for _ in range(rounds):
            for mode in self.args.modes:
                batch = KINDS[:]
                self.rng.shuffle(batch)
                plan += [(kind, mode) for kind in batch]
        for kind, mode in plan:
            if time.time() > deadline:
                self.event("time bound reached; stopping the plan")
                self.skipped.append({"fault": kind, "mode": mode})
                continue
            holders = [h for h in self.hosts if h.writers]
            victim = self.rng.choice(holders)
            self.inject(kind, victim, mode)
            time.sleep(2)

    def check(self):
        """Every violation the checker finds, each classified by the start that it broke: the HA
        step (fault, mode) that made the later epoch. "failure" unless it is a documented limit."""
        violations = []
        lines = []
        by_epoch = {r["epoch"]: r for r in self.results if r.get("epoch")}
        for n in range(1, len(self.hosts) + 1):
            found, _ = checker.check(f"{self.samba.root}/vmstore/vm{n}.img", out=lines.append, detailed=True)
            for v in found:
                step = by_epoch.get(v["new_epoch"])
                v["fault"] = step["fault"] if step else None
                v["mode"] = step["mode"] if step else None
                v["class"] = "documented-limit" if step and (step["mode"], step["fault"]) in DOCUMENTED_LIMITS \
                    else "failure"
                violations.append(v)
        return violations, lines

    def cleanup(self):
        for host in self.hosts:
            try:
                host.shutdown()
            except Exception as error:  # noqa: BLE001
                log(f"cleanup {host.name}: {error}")
        self.stop_sim()
        self.samba.stop()
        bednet.teardown(max(8, len(self.hosts)))


def quantiles(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return {"median_s": None, "p95_s": None, "worst_s": None}
    return {"median_s": round(statistics.median(values), 2),
            "p95_s": round(values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))], 2),
            "worst_s": round(values[-1], 2)}


def summarize(results, violations):
    figures = {}
    for mode in MODES:
        for kind in KINDS:
            rows = [r for r in results if r["fault"] == kind and r["mode"] == mode]
            if not rows:
                continue
            started = [r for r in rows if r["started"]]
            entry = {
                "events": len(rows), "started": len(started),
                "from_fault": quantiles(r["after"] for r in started),
                "refusals": sum(r["refusals"] for r in rows),
                "refusals_while_holder_alive": sum(r["refusals_while_alive"] for r in rows),
                "starts_while_holder_alive": sum(1 for r in rows if r["holder_alive"] and r["started"]),
                "requests_per_start": round(statistics.mean(r["requests_per_start"] for r in rows), 1),
                "split_brains": sum(1 for v in violations if v["fault"] == kind and v["mode"] == mode),
            }
            if mode == "fenced":
                entry["from_fence"] = quantiles(r["after_fence"] for r in started)
                entry["fence_done_after_fault"] = quantiles(r["fenced_after"] for r in rows)
                entry["fence_attempts"] = sum(r["fence_attempts"] for r in rows)
                entry["fence_requests"] = sum(r["fence_requests"] for r in rows)
            figures[f"{mode}/{kind}"] = entry
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["run", "teardown"])
    parser.add_argument("--bin-dir")
    parser.add_argument("--smbvol", help="the smbvol binary (default: BIN_DIR/smbvol)")
    parser.add_argument("--qumulo-sim", help="the qumulo-sim binary (default: BIN_DIR/qumulo-sim)")
    parser.add_argument("--profile", default="short", choices=["short", "soak"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES),
                        help="HA modes to run every fault in: unfenced, fenced (default both)")
    parser.add_argument("--out")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    args.modes = [m for m in args.modes.split(",") if m]
    if any(m not in MODES for m in args.modes):
        sys.exit(f"--modes: {', '.join(MODES)}")
    if os.geteuid() != 0:
        sys.exit("bed.py needs root (namespaces, mounts)")
    if args.command == "teardown":
        bednet.teardown()
        return
    if args.hosts < 3:
        sys.exit("--hosts must be at least 3")
    bed = Bed(args)
    log(f"bed in {bed.dir}, seed {args.seed}, profile {args.profile}")
    status = 0
    try:
        bed.run(args.profile)
    except Exception as error:  # noqa: BLE001
        log(f"bed run failed: {error}")
        status = 2
    finally:
        violations, history = bed.check()
        bed.cleanup()
    figures = summarize(bed.results, violations)
    print(json.dumps({"figures": figures}, indent=1))
    for line in history:
        print(line)
    failures = [v for v in violations if v["class"] == "failure"]
    limits = [v for v in violations if v["class"] == "documented-limit"]
    for v in limits:
        print(f"SPLIT-BRAIN (documented limit: {v['mode']} {v['fault']}, does not fail the run)", v["text"])
    for v in failures:
        print(f"SPLIT-BRAIN (FAILURE: {v['mode']} {v['fault']})", v["text"])
    if violations:
        print("events:")
        for at, text in bed.events:
            print(f"  {at:.3f} {text}")
    if bed.skipped:
        print(f"NOT RUN (time bound): {bed.skipped}")
    report = {"seed": args.seed, "profile": args.profile, "modes": args.modes, "figures": figures,
              "results": bed.results, "violations": violations, "split_brain_failures": len(failures),
              "split_brain_documented_limits": len(limits), "skipped": bed.skipped,
              "history": history, "events": bed.events}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    print(f"split-brains: {len(failures)} failing, {len(limits)} documented limit (unfenced partition); "
          f"faults not run: {len(bed.skipped)}")
    if not args.keep and status == 0:
        shutil.rmtree(bed.dir, ignore_errors=True)
    sys.exit(status or (1 if failures or bed.skipped else 0))


if __name__ == "__main__":
    main()
