"""The bench's scratch tree (the scripts/demo way): the stand-in mount program and the tree it
"mounts", share credentials, domain XML, a journal listener, and a process load."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading

from .simulator import POOL_DOMAINS, STORM_DOMAINS, STORM_PER_SHARE, PASSWORD, make_tls_material

UUID_BASE = "6f1c2a9e-3b4d-4e5f-8a6b-"


class JournalSink:
    """A stand-in for journald's native socket: receives and counts the entries."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "journal.socket")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        self.socket.settimeout(0.2)
        self.entries = 0
        self.stopped = False
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
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


class Workspace:
    """A scratch directory: TLS material, tools/mount.cifs (the stand-in), the tree it mounts from
    (cifs/srv/SHARE/...), secrets, the journal listener."""

    def __init__(self, root):
        self.root = root
        self.work = tempfile.mkdtemp(prefix="smbvol-bench.")
        self.certs = os.path.join(self.work, "certs")
        self.tools = os.path.join(self.work, "tools")
        self.secrets = os.path.join(self.work, "secrets")
        self.cifs = os.path.join(self.work, "cifs")
        self.mount_log = os.path.join(self.cifs, "mount.log")
        self.journal = None

    def set_up(self):
        self.journal = JournalSink(self.work)
        make_tls_material(self.root, self.certs)
        os.makedirs(self.tools)
        shutil.copy(os.path.join(self.root, "tools/fake-mount.cifs"), self.tools + "/mount.cifs")
        with open(self.tools + "/fake-cifs-root", "w") as handle:
            handle.write(self.cifs + "\n")
        images = [f"srv/vmstore/{name}" for name in ["web01", "stale01", "local01"]]
        images += [f"srv/pool/dom{index:02d}" for index in range(POOL_DOMAINS)]
        images += [f"srv/storm{index // STORM_PER_SHARE:02d}/vm{index:03d}" for index in range(STORM_DOMAINS)]
        for image in images:
            os.makedirs(f"{self.cifs}/{image}")
            open(f"{self.cifs}/{image}/disk0.qcow2", "w").close()
        os.makedirs(self.secrets, mode=0o700)
        for name, text in [("qumulo.password", PASSWORD + "\n"), ("share.cred", "username=svc-kvm\npassword=bench-secret\n")]:
            path = os.path.join(self.secrets, name)
            with open(path, "w") as handle:
                handle.write(text)
            os.chmod(path, 0o600)
        self.noop_xml = self.write_xml("other", 99, "/var/lib/libvirt/images/other.qcow2")

    def write_xml(self, name, number, image, where=""):
        """A running domain's XML with one disk, `image`, as libvirt hands it to the hook."""
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

    def mounts_of(self, prefix):
        """Mount calls the stand-in logged so far for exports starting with `prefix`."""
        try:
            with open(self.mount_log) as handle:
                return sum(1 for line in handle if line.startswith(prefix))
        except FileNotFoundError:
            return 0

    def clean_up(self):
        if self.journal:
            self.journal.stop()
        # The stand-in's mounts would vanish with the private namespace anyway; unmount them
        # (deepest first) so the scratch tree can be removed.
        with open("/proc/self/mountinfo") as handle:
            points = [line.split()[4] for line in handle if line.split()[4].startswith(self.work + "/")]
        for point in sorted(points, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.work, ignore_errors=True)
