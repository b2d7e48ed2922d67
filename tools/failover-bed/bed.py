#!/usr/bin/python3
"""The failover test bed: several hosts (network + mount namespaces), one real smbd, qumulo-sim's
Samba backend as the cluster API, the real smbvol binary and mount.cifs (CIFS stand-in below
it), writers standing in for qemu, faults, an HA step, and the mutual-exclusion checker.

  bed.py run --bin-dir DIR [--smbvol BIN] [--qumulo-sim BIN] [--profile short|soak] [--seed N] [--hosts 3] [--out FILE.json]
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
            json.dump({"users": [{"name": "svc-smbvol", "password": API_PASSWORD, "auth_id": "500"}],
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
    def ha_restart(self, victim, vm, fault_at, holder_alive, bound):
        """The HA step: start vm on another host, retrying every second as an HA manager would."""
        others = [h for h in self.hosts if h is not victim and h.holder]
        attempts = refusals = 0
        last = ""
        while time.time() - fault_at < bound:
            target = others[attempts % len(others)]
            attempts += 1
            ok, why = self.start_vm(target, vm)
            if ok:
                return {"started": True, "after": time.time() - fault_at, "attempts": attempts,
                        "refusals": refusals, "target": target.name}
            refusals += 1
            last = why
            if attempts == 1 or attempts % 10 == 0:
                self.event(f"{vm} refused on {target.name} ({'holder alive' if holder_alive() else 'holder gone'}): {why[:160]}")
            time.sleep(1)
        return {"started": False, "after": None, "attempts": attempts, "refusals": refusals, "last": last}

    def inject(self, kind, victim):
        vms = [vm for vm, info in self.vms.items() if info["host"] is victim and vm in victim.writers]
        requests_before = self.api_requests()
        fault_at = time.time()
        self.event(f"FAULT {kind} on {victim.name} holding {vms}")
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
        for vm in vms:
            outcome = self.ha_restart(victim, vm, fault_at, alive, bound)
            outcome.update({"fault": kind, "vm": vm, "victim": victim.name, "holder_alive": kind != "crash"})
            outcomes.append(outcome)
            self.event(f"HA {vm}: {'started on ' + outcome['target'] if outcome['started'] else 'not started'} "
                       f"after {outcome['after'] and round(outcome['after'], 1)} s, {outcome['refusals']} refusal(s)")
        if heal:
            heal()
            self.event(f"healed {kind} on {victim.name}")
            time.sleep(HEARTBEAT_FRESH + 4)  # the healed holder's chance to write again (the checker sees it)
        requests = self.api_requests() - requests_before
        starts = sum(o["attempts"] for o in outcomes) or 1
        for outcome in outcomes:
            outcome["requests_per_start"] = requests / starts
            # The old holder's VM: where another host took it, libvirt on the old host would be
            # told to stop it now (release end); where none did, it keeps running.
            if outcome["started"] and outcome["vm"] in victim.writers:
                self.stop_vm(victim, outcome["vm"])
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
        kinds = ["crash", "partition", "pause", "smbd-restart", "api-down"]
        rounds = 1 if profile == "short" else 6
        deadline = time.time() + (600 if profile == "short" else 3 * 3600)
        plan = []
        for _ in range(rounds):
            batch = kinds[:]
            self.rng.shuffle(batch)
            plan += batch
        for kind in plan:
            if time.time() > deadline:
                self.event("time bound reached; stopping the plan")
                break
            holders = [h for h in self.hosts if h.writers]
            victim = self.rng.choice(holders)
            self.inject(kind, victim)
            time.sleep(2)

    def check(self):
        violations = []
        lines = []
        for n in range(1, len(self.hosts) + 1):
            found, _ = checker.check(f"{self.samba.root}/vmstore/vm{n}.img", out=lines.append)
            violations += found
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


def summarize(results):
    figures = {}
    for kind in ["crash", "partition", "pause", "smbd-restart", "api-down"]:
        rows = [r for r in results if r["fault"] == kind]
        if not rows:
            continue
        times = sorted(r["after"] for r in rows if r["started"])
        figures[kind] = {
            "events": len(rows), "started": len(times),
            "median_s": statistics.median(times) if times else None,
            "p95_s": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))] if times else None,
            "worst_s": times[-1] if times else None,
            "refusals": sum(r["refusals"] for r in rows),
            "starts_while_holder_alive": sum(1 for r in rows if r["holder_alive"] and r["started"]),
            "requests_per_start": round(statistics.mean(r["requests_per_start"] for r in rows), 1),
        }
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
    parser.add_argument("--out")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
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
    figures = summarize(bed.results)
    print(json.dumps({"figures": figures}, indent=1))
    for line in history:
        print(line)
    for line in violations:
        print("SPLIT-BRAIN", line)
    if violations:
        print("events:")
        for at, text in bed.events:
            print(f"  {at:.3f} {text}")
    report = {"seed": args.seed, "profile": args.profile, "figures": figures, "results": bed.results,
              "violations": violations, "history": history, "events": bed.events}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    if not args.keep and status == 0:
        shutil.rmtree(bed.dir, ignore_errors=True)
    sys.exit(status or (1 if violations else 0))


if __name__ == "__main__":
    main()
