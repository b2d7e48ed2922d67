"""Figure 6, scaling: one prepare (no handle on the image) against clusters with 10, 1 000 and
100 000 handles elsewhere: requests must not change and time must stay flat."""

from ..harness import Command
from .base import Figure, Row, Target
from .prepare_vs_qq import prepare

SIZES = (10, 1000, 100000)


def key(size):
    return f"elsewhere_{size}"


def run(session):
    commands = []
    for size in SIZES:
        if not session.has_cluster(size):
            continue
        sim = session.cluster(size)
        xml = session.workspace.write_xml("web01", 1, f"{sim.mount_point()}/web01/disk0.qcow2", sim.dir)
        commands.append(Command(key(size), f"prepare, {size:,} handles elsewhere", prepare(session, sim, "web01", xml)))
    return session.group("6. scaling", commands)


def measured(result):
    return [size for size in SIZES if key(size) in result]


def rows(result):
    sizes = measured(result)
    first = result[key(sizes[0])]["ms"]["median"]
    return [Row(6, key(size), f"{result[key(size)]['ms']['median'] / first:.2f}× of {sizes[0]}") for size in sizes]


def flat(result):
    sizes = measured(result)
    counts = {result[key(s)]["requests"]["max"] for s in sizes} | {result[key(s)]["requests"]["min"] for s in sizes}
    growth = result[key(sizes[-1])]["ms"]["median"] / result[key(sizes[0])]["ms"]["median"]
    return f"requests {sorted(counts)}; time x{growth:.2f} from {sizes[0]} to {sizes[-1]}", len(counts) == 1 and growth <= 1.5


FIGURE = Figure(
    id="6", key="6_scaling", title="scaling", run=run, rows=rows, clusters=SIZES,
    targets=(Target("per-image cost flat in handles elsewhere (requests equal; time within 1.5x)", flat),))
