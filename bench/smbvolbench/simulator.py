"""qumulo-sim for the bench: TLS material, the scenarios, starting and stopping an instance, its
admin API (/_sim/), the smbvol configurations that point at it, and a qq login."""

import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request

from .harness import log

PASSWORD = "bench-password"
LIVE_ADDRESS = "10.0.0.21"
# Three stale handles on one image (their clients have no SMB session): re-added before each run.
STALE_CLIENTS = ["10.0.0.13", "10.0.0.14", "10.0.0.15"]
STALE_LOCATIONS = ["7.1.1", "7.1.2", "7.1.3"]
# This host's own leftover handle (its address is in local_addresses of local_env()).
LOCAL_ADDRESS = "10.0.0.99"
LOCAL_LEFTOVER = "7.2.1"
POOL_DOMAINS = 20
STORM_SHARES = 20
STORM_PER_SHARE = 10
STORM_DOMAINS = STORM_SHARES * STORM_PER_SHARE
# Shares served through local_path, with this many host heartbeat records each.
HEARTBEAT_HOSTS = [1, 100, 1000]
HEARTBEAT_HOLDER = "10.0.0.31"


def make_tls_material(root, certs):
    """A throw-away CA and a server certificate for 127.0.0.1 (scripts/make-test-certs.sh)."""
    subprocess.run(["timeout", "--kill-after=10s", "120s", os.path.join(root, "scripts/make-test-certs.sh"), certs],
                   check=True, capture_output=True)


def scenario(elsewhere, storm=False):
    """The cluster: the shares and files every figure uses, a live session, and `elsewhere`
    generated handles on other files (500 sessions)."""
    files = [{"path": "/vmstore/web01/disk0.qcow2", "id": "3001"},
             {"path": "/vmstore/stale01/disk0.qcow2", "id": "3002"},
             {"path": "/vmstore/local01/disk0.qcow2", "id": "3003"}]
    files += [{"path": f"/pool/dom{index:02d}/disk0.qcow2", "id": str(4000 + index)} for index in range(POOL_DOMAINS)]
    files += [{"path": f"/hb{hosts}/disk0.qcow2", "id": str(5000 + hosts)} for hosts in HEARTBEAT_HOSTS]
    if storm:
        # 7000+: apart from the heartbeat shares' 5000 + hosts (5001, 5100, 6000).
        files += [{"path": f"/storm{index // STORM_PER_SHARE:02d}/vm{index:03d}/disk0.qcow2", "id": str(7000 + index)}
                  for index in range(STORM_DOMAINS)]
    result = {
        "users": [{"name": "svc-smbvol", "password": PASSWORD, "auth_id": "500"}],
        "identities": [{"auth_id": "1001", "name": "svc-kvm", "domain": "ACTIVE_DIRECTORY"}],
        "shares": [{"id": "1", "name": "vmstore", "fs_path": "/vmstore"}, {"id": "2", "name": "pool", "fs_path": "/pool"}],
        "files": files,
        "sessions": [{"originator": LIVE_ADDRESS, "auth_id": "1001", "idle_seconds": 3}],
        "handles": [],
    }
    if elsewhere:
        result["generate"] = {"handles": elsewhere, "files": max(1, elsewhere // 10), "sessions": 500, "seed": 6}
    return result


class Simulator:
    """One qumulo-sim instance over HTTPS on loopback, with `elsewhere` handles on other files, and
    the smbvol configurations for it. `helper` is the smbvol binary used for set-up chores."""

    def __init__(self, workspace, binary, qq, helper, name, elsewhere, storm=False):
        self.workspace, self.qq_bin, self.helper = workspace, qq, helper
        self.name, self.elsewhere, self.storm = name, elsewhere, storm
        self.dir = os.path.join(workspace.work, name)
        os.makedirs(self.dir)
        self.scenario_path = os.path.join(self.dir, "scenario.json")
        with open(self.scenario_path, "w") as handle:
            json.dump(scenario(elsewhere, storm), handle)
        port_file = os.path.join(self.dir, "port")
        self.stderr = open(os.path.join(self.dir, "sim.log"), "wb")
        certs = workspace.certs
        log(f"starting qumulo-sim '{name}' with {elsewhere} handles elsewhere on the cluster")
        self.process = subprocess.Popen(
            [binary, "serve", "--scenario", self.scenario_path, "--host", "127.0.0.1", "--port", "0",
             "--port-file", port_file, "--tls-cert", certs + "/server.pem", "--tls-key", certs + "/server.key"],
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
            self.stop()
            raise SystemExit(f"bench: qumulo-sim ({name}) did not start")
        self.context = ssl.create_default_context(cafile=certs + "/ca.pem")
        self.qq_store = os.path.join(self.dir, "qq-credentials")
        self._write_configs()
        self._qq_login()

    # ---- smbvol configurations

    def _write_configs(self):
        w = self.workspace
        self.state_dir = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "smbvol.toml")
        with open(self.config, "w") as handle:
            handle.write(f"""state_dir = "{self.state_dir}"
mount_base = "{self.dir}/mnt"
mount_command = "{w.tools}/mount.cifs"
umount_command = "/bin/umount"
qemu_user = "root"
qemu_group = "root"
mount_timeout_seconds = 20
deadline_seconds = 60

[cluster.sim]
host = "127.0.0.1"
port = {self.port}
ca_file = "{w.certs}/ca.pem"
username = "svc-smbvol"
password_file = "{w.secrets}/qumulo.password"
credentials_store = "{self.state_dir}/tokens/sim"
request_timeout_seconds = 10

[share.vmstore]
export = "//srv/vmstore"
cluster = "sim"
fs_path = "/vmstore"
credentials = "{w.secrets}/share.cred"
options = ["vers=3.1.1", "cache=none"]

[share.pool]
export = "//srv/pool"
cluster = "sim"
fs_path = "/pool"
credentials = "{w.secrets}/share.cred"
options = ["vers=3.1.1", "cache=none"]
""" + "".join(f"""
[share.hb{hosts}]
export = "//srv/hb{hosts}"
cluster = "sim"
fs_path = "/hb{hosts}"
local_path = "{w.work}/hb{hosts}"
""" for hosts in HEARTBEAT_HOSTS))
            if self.storm:
                for share in range(STORM_SHARES):
                    handle.write(f"""
[share.storm{share:02d}]
export = "//srv/storm{share:02d}"
cluster = "sim"
fs_path = "/storm{share:02d}"
credentials = "{w.secrets}/share.cred"
options = ["vers=3.1.1", "cache=none"]
""")
        self.token_store = os.path.join(self.state_dir, "tokens", "sim")
        self.env = {"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": self.config}
        # The same configuration with the journal and the metrics off (explicitly, so the
        # comparison holds where journald runs) and on (the bench's own journal listener, a
        # textfile in the scratch tree).
        os.makedirs(os.path.join(self.dir, "textfile"))
        self.metrics_file = os.path.join(self.dir, "textfile", "smbvol.prom")
        variants = {"off": 'journal_socket = ""\n',
                    "on": f'journal_socket = "{w.journal.path}"\nmetrics_file = "{self.metrics_file}"\n'}
        self.env_off = self._variant("observability-off", variants["off"])
        self.env_obs = self._variant("observability-on", variants["on"])

    def _variant(self, name, keys):
        path = os.path.join(self.dir, f"smbvol-{name}.toml")
        with open(self.config) as source, open(path, "w") as handle:
            handle.write(keys + source.read())
        return dict(self.env, SMBVOL_CONFIG=path)

    def local_env(self):
        """The configuration with this host's address: LOCAL_LEFTOVER is this host's own handle."""
        return self._variant("local", f'local_addresses = ["{LOCAL_ADDRESS}"]\n')

    # ---- the admin API

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

    def add_handles(self, handles):
        self.admin("POST", "/_sim/handles", handles)

    def add_stale_handles(self):
        self.add_handles([
            {"path": "/vmstore/stale01/disk0.qcow2", "location": location, "owner": "1001", "client_address": client,
             "num_byte_range_locks": 1}
            for location, client in zip(STALE_LOCATIONS, STALE_CLIENTS)])

    def add_local_leftover(self):
        try:
            self.add_handles([
                {"path": "/vmstore/local01/disk0.qcow2", "location": LOCAL_LEFTOVER, "owner": "1001",
                 "client_address": LOCAL_ADDRESS, "num_byte_range_locks": 1}])
        except urllib.error.HTTPError as error:
            # Still open: the last prepare reported it instead of closing it (a process whose
            # descriptors cannot be read, e.g. PID 1 of a sandbox, may hide a holder).
            if error.code != 400:
                raise

    # ---- qq and the shares

    def qq(self, *args):
        return [self.qq_bin, "--host", "127.0.0.1", "--port", str(self.port), "--credentials-store", self.qq_store, *args]

    def _qq_login(self):
        """qq logs in once; every qq call after uses the stored token."""
        login = subprocess.run(["timeout", "--kill-after=10s", "120s", *self.qq("login", "-u", "svc-smbvol", "-p", PASSWORD)],
                               capture_output=True, text=True)
        if login.returncode != 0:
            raise SystemExit("bench: qq login failed: " + login.stderr)

    def mount_points(self):
        out = subprocess.run(self.helper.argv("mounts", "--json"), env=self.env, capture_output=True, text=True, check=True)
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
