"""Unit tests of the bench's own machinery (no simulator, no root): python3 -m unittest discover bench/tests"""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from smbvolbench.figures import BY_ID, FIGURES  # noqa: E402
from smbvolbench.harness import Command, Group, Runner, Smbvol, baseline_view  # noqa: E402


class RunnerMeasuresTheCommandItself(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="smbvolbench-test.")
        self.runner = Runner(self.work)

    def tearDown(self):
        self.runner.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def test_peak_rss_is_not_the_bench_own_memory(self):
        ballast = bytearray(300 * 1024 * 1024)
        for offset in range(0, len(ballast), 4096):
            ballast[offset] = 1
        sample = self.runner.run(["/bin/true"])
        self.assertEqual(sample.status, 0)
        self.assertLess(sample.rss_kb, 50 * 1024, "the 300 MB of the process that asked for the run leaked into the column")
        del ballast

    def test_peak_rss_is_the_command_own_peak(self):
        sample = self.runner.run([sys.executable, "-c", "b = bytearray(120 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1"])
        self.assertEqual(sample.status, 0, sample.stderr)
        self.assertGreater(sample.rss_kb, 120 * 1024)
        self.assertLess(sample.rss_kb, 200 * 1024)

    def test_sigpipe_at_its_default(self):
        sample = self.runner.run(["sh", "-c", "grep SigIgn /proc/self/status >&2"])
        ignored = int(sample.stderr.split()[1], 16)
        self.assertFalse(ignored & (1 << (13 - 1)), "SIGPIPE ignored in the command")

    def test_status_stderr_and_stdin(self):
        sample = self.runner.run(["sh", "-c", "read line; echo \"got $line\" >&2; exit 3"], stdin_bytes=b"yes\n")
        self.assertEqual((sample.status, sample.stderr), (3, "got yes\n"))
        self.assertGreater(sample.ms, 0)


class GroupRunsRoundRobinWithTheBaselineBesideEachCommand(unittest.TestCase):
    def test_order_and_twins(self):
        calls = []

        def command(name):
            def run(binary):
                calls.append((name, binary.role))
                return {"ms": 1.0 if binary.role == "candidate" else 2.0, "requests": 3}
            return run

        binaries = [Smbvol("/new/smbvol", "candidate"), Smbvol("/old/smbvol", "baseline")]
        result = Group("t", [Command("a", "A", command("a")), Command("peer", "P", command("peer"), peer=True)],
                       runs=2, warmup=1, binaries=binaries).measure()
        round_ = [("a", "candidate"), ("a", "baseline"), ("peer", "candidate")]
        self.assertEqual(calls, round_ * 3)
        self.assertEqual(result["a"]["ms"]["median"], 1.0)
        self.assertEqual(result["a"]["baseline"]["ms"]["median"], 2.0)
        self.assertNotIn("baseline", result["peer"])
        view = baseline_view(dict(result, written=True, baseline_written=False))
        self.assertEqual((view["a"]["ms"]["median"], view["peer"]["ms"]["median"], view["written"]), (2.0, 1.0, False))
        self.assertNotIn("baseline_written", view)


class FiguresAreDeclaredOnce(unittest.TestCase):
    def test_ids_and_keys_unique_in_declared_order(self):
        self.assertEqual([f.id for f in FIGURES], ["1", "2", "4", "5", "6", "7", "8", "9", "10"])
        self.assertEqual(len({f.key for f in FIGURES}), len(FIGURES))
        self.assertEqual(set(BY_ID), {f.id for f in FIGURES})
        for figure in FIGURES:
            self.assertTrue(figure.targets, f"figure {figure.id} has no target")


if __name__ == "__main__":
    unittest.main()
