"""Running and measuring commands: wall time, CPU and the command's own peak RSS, round-robin groups.

Peak RSS is `ru_maxrss` from wait4(2) on the command's process. Linux counts into it the memory of
the process that started it, up to the exec (the copied pages of a fork, or the whole parent with
vfork, which is what subprocess uses): a command started straight from the bench reports at least
the bench's own peak — 314 MB once the bench had parsed a 100 000-handle listing. So every
measured command is started by `Runner`, a small process of its own that starts, times and waits
for it; what it adds is its own memory (about 10 MB), measured once per run as `floor_rss_kb`
(what /bin/true reports) and shown in the report.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable


def log(*args):
    print("bench:", *args, file=sys.stderr, flush=True)


@dataclass
class Sample:
    """One run of one command."""
    ms: float
    rss_kb: int
    status: int
    stderr: str
    cpu_ms: float


# The runner process: reads one JSON request per line, answers one JSON line per request. It
# starts each command with posix_spawn (vfork and exec, as subprocess does: the same start-up cost
# as before) and looks the program up in the command's own PATH, as subprocess does. Standard
# library only, and as little of it as possible: its memory is the peak RSS column's floor.
_RUNNER = r"""
import json, os, signal, sys, time
# Python ignores SIGPIPE and SIGXFSZ; a command gets them back at their defaults (as subprocess does).
DEFAULTS = (signal.SIGPIPE, signal.SIGXFSZ)
scratch = sys.argv[1]
devnull = os.open(os.devnull, os.O_RDWR)

def program(name, env):
    if "/" in name:
        return name
    for directory in os.get_exec_path(env):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return name

for line in sys.stdin:
    request = json.loads(line)
    argv = request["argv"]
    env = os.environ if request["env"] is None else request["env"]
    stdin = os.open(request["stdin"], os.O_RDONLY) if request["stdin"] else devnull
    err = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [(os.POSIX_SPAWN_DUP2, stdin, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, err, 2)]
    path = program(argv[0], env)
    start = time.perf_counter()
    try:
        pid = os.posix_spawn(path, argv, env, file_actions=actions, setsigdef=DEFAULTS)
    except OSError as error:
        pid = None
        os.write(err, ("cannot start %s: %s\n" % (path, error)).encode())
    if pid is None:
        status, utime, stime, maxrss = 127 << 8, 0.0, 0.0, 0
    else:
        _, status, usage = os.wait4(pid, 0)
        utime, stime, maxrss = usage.ru_utime, usage.ru_stime, usage.ru_maxrss
    elapsed = (time.perf_counter() - start) * 1000.0
    if stdin != devnull:
        os.close(stdin)
    os.lseek(err, 0, 0)
    text = os.read(err, 65536).decode("utf-8", "replace")
    os.close(err)
    sys.stdout.write(json.dumps({"ms": elapsed, "rss_kb": maxrss, "status": os.waitstatus_to_exitcode(status),
                                 "stderr": text, "cpu_ms": (utime + stime) * 1000.0}) + "\n")
    sys.stdout.flush()
"""


class Runner:
    """Starts measured commands from a small process of its own (see the module's docstring)."""

    def __init__(self, work):
        self.work = work
        self._inputs = {}
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _RUNNER, os.path.join(work, "runner.stderr")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.floor_rss_kb = self.run(["/bin/true"]).rss_kb

    def run(self, argv, stdin_path=None, env=None, stdin_bytes=None):
        """Runs argv (output discarded) and waits for it; stdin from a file, from bytes, or empty."""
        if stdin_bytes is not None:
            stdin_path = self._input_file(stdin_bytes)
        request = {"argv": [str(a) for a in argv], "env": env, "stdin": stdin_path}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise SystemExit("bench: the command runner exited")
        return Sample(**json.loads(answer))

    def _input_file(self, data):
        if data not in self._inputs:
            handle, path = tempfile.mkstemp(dir=self.work, prefix="stdin.")
            os.write(handle, data)
            os.close(handle)
            self._inputs[data] = path
        return self._inputs[data]

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


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


@dataclass(frozen=True)
class Smbvol:
    """One smbvol binary under measurement: the build measured, or the baseline beside it.
    `path` is the copy that runs (see `Session`), `source` the binary it was copied from."""
    path: str
    role: str  # "candidate" or "baseline"
    source: str = ""

    def argv(self, *args):
        return [self.path, *args]


@dataclass
class Command:
    """One command of a group. `run(smbvol)` makes one timed run and returns its fields: `ms`,
    optionally `rss_kb`, `cpu_ms`, `requests` and counts (mounts, locks, …). A smbvol command runs
    once per binary (candidate, and baseline when given); a peer (/bin/true, qq, fuser) once."""
    key: str
    label: str
    run: Callable[[Smbvol], dict]
    peer: bool = False


_SAMPLE_FIELDS = {"ms", "rss_kb", "cpu_ms", "requests"}


def _entry(label, values):
    entry = {"label": label, "ms": summarize([v["ms"] for v in values]), "samples_ms": [round(v["ms"], 3) for v in values]}
    if any("cpu_ms" in v for v in values):
        entry["cpu_ms"] = summarize([v["cpu_ms"] for v in values])
    if any("rss_kb" in v for v in values):
        entry["peak_rss_mb"] = summarize([v["rss_kb"] / 1024.0 for v in values])
    if any("requests" in v for v in values):
        counts = [v["requests"] for v in values]
        entry["requests"] = {"min": min(counts), "max": max(counts), "median": statistics.median(counts)}
    extras = sorted({name for v in values for name in v} - _SAMPLE_FIELDS)
    for name in extras:
        counts = [v[name] for v in values]
        entry[name] = {"min": min(counts), "max": max(counts)}
    return entry


@dataclass
class Group:
    """A group of commands measured round-robin (A B C A B C …) after warm-up runs of each, so every
    ratio is between runs made at the same moment on the same machine. With a baseline binary,
    each smbvol command runs right after itself with the baseline (A A' B B' …)."""
    title: str
    commands: list
    runs: int
    warmup: int
    binaries: list = field(default_factory=list)

    def measure(self):
        plan = [(command, binary) for command in self.commands
                for binary in (self.binaries[:1] if command.peer else self.binaries)]
        log(f"{self.title}: {self.warmup} warm-up + {self.runs} runs each of "
            + ", ".join(c.label + ("" if b.role == "candidate" else " [baseline]") for c, b in plan))
        for _ in range(self.warmup):
            for command, binary in plan:
                command.run(binary)
        samples = {(command.key, binary.role): [] for command, binary in plan}
        for _ in range(self.runs):
            for command, binary in plan:
                samples[(command.key, binary.role)].append(command.run(binary))
        figure = {}
        for command in self.commands:
            entry = _entry(command.label, samples[(command.key, "candidate")])
            if (command.key, "baseline") in samples:
                entry["baseline"] = _entry(command.label, samples[(command.key, "baseline")])
            figure[command.key] = entry
        return figure


def baseline_view(result):
    """The figure's result as the baseline binary measured it: every entry with a baseline twin
    replaced by the twin (peers and figure-wide fields stay)."""
    view = {}
    for key, value in result.items():
        if isinstance(value, dict) and "baseline" in value:
            view[key] = value["baseline"]
        elif key.startswith("baseline_"):
            continue
        else:
            view[key] = result.get("baseline_" + key, value)
    return view
