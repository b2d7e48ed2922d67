"""The figures, in the one order they are declared, run and reported."""

from . import (boot_storm, concurrent_prepares, heartbeat_records, hook_noop, listing, local_openers, observability,
               prepare_vs_qq, scaling)

FIGURES = (
    hook_noop.FIGURE,
    prepare_vs_qq.FIGURE,
    listing.FIGURE,
    concurrent_prepares.FIGURE,
    scaling.FIGURE,
    observability.FIGURE,
    heartbeat_records.FIGURE,
    boot_storm.FIGURE,
    local_openers.FIGURE,
)

BY_ID = {figure.id: figure for figure in FIGURES}
