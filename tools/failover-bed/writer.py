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

  writer.py IMAGE HOST EPOCH [INTERVAL_MS] [--incoming]
"""
import os
import signal
import sys
import time

RECORD = 64
RING = 256
REGION = RECORD * RING


def record(host, epoch, seq):
    text = f"{host} {epoch} {seq} {time.time_ns()}"
    return (text.ljust(RECORD - 1) + "\n").encode()


def main():
    incoming = "--incoming" in sys.argv
    argv = [a for a in sys.argv if a != "--incoming"]
    image, host, epoch = argv[1], argv[2], int(argv[3])
    interval = int(argv[4]) / 1000 if len(argv) > 4 else 0.1
    base = epoch * REGION
    if incoming:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    fd = os.open(image, os.O_RDWR)
    if incoming:
        print("opened", flush=True)
        signal.sigwait({signal.SIGUSR1})
    os.pwrite(fd, record(host, epoch, 0), base)
    os.fsync(fd)
    print("started", flush=True)
    seq = 1
    while True:
        time.sleep(interval)
        try:
            os.pwrite(fd, record(host, epoch, seq), base + RECORD * (1 + (seq - 1) % (RING - 1)))
            os.fsync(fd)
            seq += 1
        except OSError as error:
            print(f"write error {error.errno}", flush=True)


if __name__ == "__main__":
    main()
