"""What a figure declares: its id, title, what it runs, how its rows read, and its targets."""

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class Target:
    """A goal over the figure's own result. `check(result)` answers (value as text, met), or None
    when this run did not measure it. `alone_only`: checked only when the figure runs alone."""
    text: str
    check: Callable[[dict], Optional[tuple]]
    alone_only: bool = False


@dataclass(frozen=True)
class Row:
    """One table row: the figure number shown, the result entry, and the ratio column's text."""
    number: int
    key: str
    ratio: str = ""


@dataclass(frozen=True)
class Figure:
    id: str                 # what --only names
    key: str                # the figure's key in the results JSON
    title: str
    run: Callable           # run(session) -> result (a dict of entries and figure-wide fields)
    rows: Callable          # rows(result) -> [Row]
    targets: tuple = ()
    # The simulators it uses, by handles elsewhere on the cluster; skipped when none of them runs
    # (--quick leaves out 10 000 and 100 000).
    clusters: tuple = (10,)
