#!/usr/bin/python3
"""The bed's stand-in for qemu: opens its image over the SMB mount read-write (as qemu does, no
O_APPEND) and, while it runs, writes records "host epoch seq time_ns" of 64 bytes.

Each start (epoch) writes in its own region of the image, so two writers never overwrite each
other's evidence: slot 0 of the region is written once at start, slots 1..RING-1 are a ring of
the latest records. A failed write is retried on the next tick (an EIO does not stop it): any way
back to the image that the SMB client finds is exercised.

With --incoming it stands in for the destination qemu of a live migration: it opens the image
(as qemu -incoming does), prints "opened" and writes nothing until SIGUSR1 (the migration's
hand-over: the source is paused, the destination resumes); then it starts as usual.

With --domain NAME it obeys that libvirt domain (a test-driver domain of the host's libvirtd,
--uri): it follows the domain's lifecycle events (`virsh event --loop --domain NAME --event
lifecycle`), writes nothing while it is Suspended, writes again on Resumed and exits on
Stopped/Shutdown/Crashed/Undefined. A model of qemu, whose vCPUs stop at the pause itself: here
the writer reacts to the event within a few milliseconds. Every state change is printed with its
time ("domain suspended TIME_NS"), which the bed reads.

  writer.py IMAGE HOST EPOCH [INTERVAL_MS] [--incoming] [--domain NAME [--uri URI]]
"""
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

RECORD = 64
RING = 256
REGION = RECORD * RING


def record(host, epoch, seq):
    text = f"{host} {epoch} {seq} {time.time_ns()}"
    return (text.ljust(RECORD - 1) + "\n").encode()


def die_with_parent():
    """PR_SET_PDEATHSIG: the event watcher ends with the writer (killed or exited)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class Domain:
    """The libvirt domain this writer obeys: its state as its lifecycle events tell it."""

    def __init__(self, name, uri):
        self.name = name
        self.uri = uri
        self.running = threading.Event()
        self.running.set()

    def say(self, what):
        print(f"domain {what} {time.time_ns()}", flush=True)

    def apply(self, event):
        if event in ("Suspended",):
            self.running.clear()
            self.say("suspended")
        elif event in ("Resumed", "Started"):
            self.running.set()
            self.say("resumed")
        elif event in ("Stopped", "Shutdown", "Crashed", "Undefined"):
            self.say("ended")
            os._exit(0)

    def follow(self):
        """From now on, every lifecycle event of the domain; and its state once the watcher has
        subscribed (a pause between the writer's start and the subscription is not missed)."""
        watch = subprocess.Popen(["virsh", "-q", "-c", self.uri, "event", "--loop", "--domain", self.name,
                                  "--event", "lifecycle"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, preexec_fn=die_with_parent)
        threading.Thread(target=self.read, args=(watch,), daemon=True).start()
        threading.Thread(target=self.check_state, daemon=True).start()

    def check_state(self):
        time.sleep(0.3)  # the watcher has subscribed by now
        state = subprocess.run(["timeout", "--kill-after=2", "10", "virsh", "-q", "-c", self.uri, "domstate",
                                self.name], capture_output=True, text=True).stdout.strip()
        if state == "paused":
            self.apply("Suspended")
        elif state in ("shut off", "crashed"):
            self.apply("Stopped")

    def read(self, watch):
        for line in watch.stdout:
            # "event 'lifecycle' for domain 'NAME': Suspended Paused"
            if "'lifecycle'" in line and ":" in line:
                self.apply(line.rsplit(":", 1)[1].split()[0] if line.rsplit(":", 1)[1].split() else "")
        # libvirtd gone (as qemu, the writer goes on; the host is being torn down or crashed)
        self.say("unwatched")


def main():
    incoming = "--incoming" in sys.argv
    argv = [a for a in sys.argv if a != "--incoming"]
    domain = None
    if "--domain" in argv:
        at = argv.index("--domain")
        name = argv[at + 1]
        del argv[at:at + 2]
        uri = "test+unix:///default"
        if "--uri" in argv:
            at = argv.index("--uri")
            uri = argv[at + 1]
            del argv[at:at + 2]
        domain = Domain(name, uri)
    image, host, epoch = argv[1], argv[2], int(argv[3])
    interval = int(argv[4]) / 1000 if len(argv) > 4 else 0.1
    base = epoch * REGION
    if incoming:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    fd = os.open(image, os.O_RDWR)
    if incoming:
        print("opened", flush=True)
        signal.sigwait({signal.SIGUSR1})
    if domain:
        domain.follow()
        domain.running.wait()
    os.pwrite(fd, record(host, epoch, 0), base)
    os.fsync(fd)
    print("started", flush=True)
    seq = 1
    while True:
        time.sleep(interval)
        if domain and not domain.running.is_set():
            domain.running.wait()
            continue
        try:
            os.pwrite(fd, record(host, epoch, seq), base + RECORD * (1 + (seq - 1) % (RING - 1)))
            os.fsync(fd)
            seq += 1
        except OSError as error:
            print(f"write error {error.errno}", flush=True)


if __name__ == "__main__":
    main()
