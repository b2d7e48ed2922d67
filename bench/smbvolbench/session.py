"""One bench run: the binaries, the scratch tree, the command runner, the simulators, and the
figures run one after another in the order they are declared."""

import datetime
import os
import shutil
import subprocess

from .harness import Group, Runner, Smbvol
from .simulator import Simulator
from .workspace import Workspace

MAIN_CLUSTER = 10          # handles elsewhere on the simulator most figures use (it also has the storm shares)
QUICK_LEAVES_OUT = 10000   # --quick: no simulator with this many handles elsewhere or more


class Session:
    def __init__(self, args, root):
        self.args = args
        bin_dir = os.path.abspath(args.bin_dir)
        self.candidate = Smbvol(os.path.join(bin_dir, "smbvol"), "candidate")
        self.baseline = Smbvol(os.path.join(os.path.abspath(args.baseline_bin_dir), "smbvol"), "baseline") \
            if args.baseline_bin_dir else None
        self.binaries = [self.candidate] + ([self.baseline] if self.baseline else [])
        self.qumulo_sim = os.path.abspath(args.qumulo_sim or os.path.join(bin_dir, "qumulo-sim"))
        self.qq = os.path.abspath(args.qq)
        for path in [binary.path for binary in self.binaries] + [self.qumulo_sim]:
            if not os.access(path, os.X_OK):
                raise SystemExit(f"bench: {path} is not an executable")
        self.workspace = Workspace(root)
        # Every smbvol runs from a fresh copy in the scratch tree: a binary just written by the
        # linker sits in the page cache in small pieces and took ~0.5 ms more per start than a
        # copy of itself (more page faults), which made a fresh build look slower than a copied
        # baseline. Copies of both compare the code, not how the file was written.
        self.candidate = self._copied(self.candidate)
        self.baseline = self._copied(self.baseline) if self.baseline else None
        self.binaries = [self.candidate] + ([self.baseline] if self.baseline else [])
        self.runner = None
        self.sims = {}
        self.failures = []

    def _copied(self, binary):
        directory = os.path.join(self.workspace.work, "bin-" + binary.role)
        os.makedirs(directory, exist_ok=True)
        copy = os.path.join(directory, "smbvol")
        shutil.copyfile(binary.path, copy)
        os.chmod(copy, 0o755)
        return Smbvol(copy, binary.role, source=binary.path)

    # ---- what figures use

    def has_cluster(self, elsewhere):
        return elsewhere in self.sims

    def cluster(self, elsewhere):
        return self.sims[elsewhere]

    @property
    def main(self):
        return self.sims[MAIN_CLUSTER]

    def check(self, label, sample):
        """A run counts as failed on a non-zero exit or anything on stderr."""
        if sample.status != 0 or sample.stderr.strip():
            self.failures.append(f"{label}: exit {sample.status}: {sample.stderr.strip()[:300]}")

    def group(self, title, commands, runs=None, warmup=None):
        return Group(title, commands, runs=runs or self.args.runs,
                     warmup=self.args.warmup if warmup is None else warmup, binaries=self.binaries).measure()

    # ---- the run

    def clusters_for(self, figures):
        wanted = {MAIN_CLUSTER} | {size for figure in figures for size in figure.clusters}
        return sorted(size for size in wanted if not (self.args.quick and size >= QUICK_LEAVES_OUT))

    def run(self, figures):
        """Runs `figures` in order; returns (results by figure key, skipped figures, start, end)."""
        # The runner first: every measured command is started by it, not by the bench (peak RSS).
        self.runner = Runner(self.workspace.work)
        self.workspace.set_up()
        started = datetime.datetime.now(datetime.timezone.utc)
        for size in self.clusters_for(figures):
            self.sims[size] = Simulator(self.workspace, self.qumulo_sim, self.qq, self.candidate, f"sim-{size}", size,
                                        storm=(size == MAIN_CLUSTER))
        # The share is mounted once before the figures (prepare figures measure "already mounted").
        for sim in self.sims.values():
            xml = self.workspace.write_xml("web01", 1, f"{sim.mount_point()}/web01/disk0.qcow2", sim.dir)
            with open(xml, "rb") as stdin:
                done = subprocess.run(self.candidate.argv("hook", "web01", "prepare", "begin", "-"), stdin=stdin,
                                      env=sim.env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"bench: the first prepare failed on {sim.name}: {done.stderr}")
        results, skipped = {}, []
        for figure in figures:
            if not any(self.has_cluster(size) for size in figure.clusters):
                skipped.append(figure)
                continue
            results[figure.key] = figure.run(self)
        finished = datetime.datetime.now(datetime.timezone.utc)
        return results, skipped, started, finished

    def close(self):
        for sim in self.sims.values():
            sim.stop()
        if self.runner:
            self.runner.close()
        self.workspace.clean_up()
