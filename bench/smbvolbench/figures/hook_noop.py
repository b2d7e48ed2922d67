"""Figure 1, the hook no-op: `smbvol hook other prepare begin -` with a domain whose only disk is on
no configured share, against /bin/true and python3 -c pass (the floor of any hook in Python)."""

from ..harness import Command
from .base import Figure, Row, Target

SMBVOL = "smbvol"
TRUE = "true"
PYTHON = "python"


def run(session):
    sim = session.main
    noop_xml = session.workspace.noop_xml

    def hook(smbvol):
        sample = session.runner.run(smbvol.argv("hook", "other", "prepare", "begin", "-"), stdin_path=noop_xml, env=sim.env)
        session.check("hook no-op", sample)
        return {"ms": sample.ms, "rss_kb": sample.rss_kb, "cpu_ms": sample.cpu_ms}

    def true(_):
        return {"ms": session.runner.run(["/bin/true"], stdin_path=noop_xml, env=sim.env).ms}

    def python(_):
        return {"ms": session.runner.run(["python3", "-c", "pass"], stdin_path=noop_xml, env=sim.env).ms}

    sim.reset_requests()
    result = session.group("1. hook no-op", [
        Command(SMBVOL, "smbvol hook (no disk on a configured share)", hook),
        Command(TRUE, "/bin/true", true, peer=True),
        Command(PYTHON, "python3 -c pass", python, peer=True)])
    # Requests over every no-op run together (expected: none).
    requests = len(sim.state()["requests"])
    for entry in (result[SMBVOL], result[SMBVOL].get("baseline")):
        if entry is not None:
            entry["requests"] = {"min": requests, "max": requests, "median": requests}
    return result


def median(result, key):
    return result[key]["ms"]["median"]


def rows(result):
    return [Row(1, SMBVOL, f"+{median(result, SMBVOL) - median(result, TRUE):.1f} ms vs true"),
            Row(1, TRUE),
            Row(1, PYTHON, f"smbvol/python {median(result, SMBVOL) / median(result, PYTHON):.2f}")]


def above_true(result):
    above = median(result, SMBVOL) - median(result, TRUE)
    return f"{above:.1f} ms above", above <= 10


FIGURE = Figure(
    id="1", key="1_hook_noop", title="hook no-op", run=run, rows=rows,
    targets=(Target("hook no-op <= 10 ms above /bin/true (median)", above_true),))
