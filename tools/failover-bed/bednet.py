"""Namespaces, links and the Samba server of the failover test bed (tools/failover-bed).

Every name the bed makes starts with PREFIX; teardown deletes exactly those names. The root
namespace's links and routes are never touched: the bridge lives inside the server's namespace,
and every veth is created with both ends already inside namespaces of the bed.
"""
import os
import signal
import subprocess
import time

PREFIX = "fob"
SERVER_NS = PREFIX + "-srv"
BRIDGE = "br0"
SUBNET = "203.0.113"
SERVER_ADDR = SUBNET + ".1"


def run(argv, timeout=20, check=True, input=None):
    """Every external command bounded: timeout --kill-after."""
    full = ["timeout", "--kill-after=5", str(timeout)] + list(argv)
    result = subprocess.run(full, input=input, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} -> {result.returncode}: {result.stderr.strip()}")
    return result


def host_ns(index):
    return f"{PREFIX}-h{index}"


def host_addr(index):
    return f"{SUBNET}.{10 + index}"


def existing_namespaces():
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.split()]


def teardown(hosts=8):
    """Deletes the bed's namespaces by name (their veths and the bridge go with them), after
    killing, by pid, what still runs in them after a killed run (heartbeats, writers, each
    host's libvirtd and its keeper connection)."""
    names = [SERVER_NS] + [host_ns(i) for i in range(1, hosts + 1)]
    present = set(existing_namespaces())
    for name in names:
        if name in present:
            pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGCONT)
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", name], check=False)


def setup_network(hosts):
    teardown(max(hosts, 8))
    run(["ip", "netns", "add", SERVER_NS])
    run(["ip", "-n", SERVER_NS, "link", "set", "lo", "up"])
    run(["ip", "-n", SERVER_NS, "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "-n", SERVER_NS, "addr", "add", SERVER_ADDR + "/24", "dev", BRIDGE])
    run(["ip", "-n", SERVER_NS, "link", "set", BRIDGE, "up"])
    for i in range(1, hosts + 1):
        ns = host_ns(i)
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"h{i}", "netns", SERVER_NS])
        run(["ip", "-n", ns, "addr", "add", host_addr(i) + "/24", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", SERVER_NS, "link", "set", f"h{i}", "master", BRIDGE])
        run(["ip", "-n", SERVER_NS, "link", "set", f"h{i}", "up"])


def set_host_link(index, up):
    run(["ip", "-n", host_ns(index), "link", "set", "eth0", "up" if up else "down"])


SMB_CONF = """[global]
  netbios name = FOBSRV
  workgroup = WORKGROUP
  server role = standalone server
  security = user
  map to guest = never
  smb ports = 445
  interfaces = {addr}/24 127.0.0.1
  bind interfaces only = yes
  disable netbios = yes
  pid directory = {d}/run
  lock directory = {d}/lock
  state directory = {d}/state
  cache directory = {d}/cache
  private dir = {d}/private
  ncalrpc dir = {d}/ncalrpc
  log file = {d}/log/log.%m
  max log size = 1000
  passdb backend = tdbsam:{d}/private/passdb.tdb
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2_02
  # A cut-off client's session goes after ~5+2*3 s, not the kernel's 2 h 11 min.
  socket options = TCP_NODELAY TCP_KEEPIDLE=5 TCP_KEEPINTVL=2 TCP_KEEPCNT=3
  include = {d}/hosts-deny.conf

[vmstore]
  path = {root}/vmstore
  read only = no
  force user = root
  force group = root
  include = {d}/vmstore-deny.conf
"""


class SambaServer:
    """smbd in the server's network namespace, port 445, in a PID namespace of its own (pids
    stay small, so srvsvc file ids (pid << 16 | share_file_id) fit 32 bits; killing the
    namespace's init kills smbd and the samba-dcerpcd it leaves behind)."""

    def __init__(self, directory, root, users):
        self.dir = directory
        self.root = root
        self.users = users  # [(name, password)]
        self.proc = None
        self.conf = os.path.join(directory, "smb.conf")

    def write_config(self):
        for sub in ["run", "lock", "state", "cache", "private", "log", "ncalrpc", "etc"]:
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        os.chmod(self.dir, 0o755)
        os.chmod(os.path.join(self.dir, "private"), 0o700)
        os.makedirs(os.path.join(self.root, "vmstore"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(SMB_CONF.format(d=self.dir, root=self.root, addr=SERVER_ADDR))
        for name in ["hosts-deny.conf", "vmstore-deny.conf"]:
            path = os.path.join(self.dir, name)
            if not os.path.exists(path):
                open(path, "w").close()
        with open("/etc/passwd") as f:
            passwd = f.read()
        with open("/etc/group") as f:
            group = f.read()
        uid = 61000
        for name, _ in self.users:
            if name == "root":
                continue
            passwd += f"{name}:x:{uid}:{uid}:bed user:/nonexistent:/usr/sbin/nologin\n"
            group += f"{name}:x:{uid}:\n"
            uid += 1
        with open(os.path.join(self.dir, "etc/passwd"), "w") as f:
            f.write(passwd)
        with open(os.path.join(self.dir, "etc/group"), "w") as f:
            f.write(group)

    def start(self, first=True):
        if first:
            self.write_config()
        log = open(os.path.join(self.dir, "log", "smbd.out"), "a")
        script = ('mount --bind "$0/etc/passwd" /etc/passwd && mount --bind "$0/etc/group" /etc/group && '
                  'smbd --foreground --no-process-group --debug-stdout --configfile="$0/smb.conf" & wait')
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", SERVER_NS, "unshare", "-m", "-p", "--kill-child", "--mount-proc",
             "--propagation", "private", "/bin/sh", "-c", script, self.dir],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 15
        while time.time() < deadline:
            r = run(["ip", "netns", "exec", SERVER_NS, "bash", "-c", f"exec 3<>/dev/tcp/{SERVER_ADDR}/445"],
                    timeout=2, check=False)
            if r.returncode == 0:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("smbd exited at start; see " + log.name)
            time.sleep(0.2)
        else:
            raise RuntimeError("smbd did not listen on 445")
        if first:
            for name, password in self.users:
                self.nsrun(["smbpasswd", "-c", self.conf, "-a", "-s", name], input=f"{password}\n{password}\n")
            self.nsrun(["net", "--configfile=" + self.conf, "groupmap", "add", "sid=S-1-5-32-544",
                        "unixgroup=root", "type=builtin"], check=False)

    def init_pid(self):
        """The pid (in the root pid namespace) of the server namespace's init (sh)."""
        if self.proc is None:
            return None
        try:
            children = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
        except OSError:
            return None
        # ip netns exec execs unshare; unshare forks the namespace's init.
        return int(children[0]) if children else None

    def nsrun(self, argv, timeout=20, check=True, input=None):
        pid = self.init_pid()
        return run(["nsenter", "-t", str(pid), "-m", "-n", "--"] + argv, timeout=timeout, check=check, input=input)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # unshare --fork ignores SIGTERM; SIGKILL of it makes --kill-child SIGKILL the
            # namespace's init, which takes every process of the PID namespace with it.
            self.proc.send_signal(signal.SIGKILL)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self):
        self.stop()
        self.start(first=False)
