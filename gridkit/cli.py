"""The ``gridkit`` command line: a thin layer over the library.

Every command turns options into a library call, prints a summary (or one JSON object with
``--json``) and maps user mistakes to a one-line message and exit code 2.
"""

from __future__ import annotations

import click

from gridkit import __version__
from gridkit.acceptance.cli import accuracy, sample
from gridkit.codes.cli import codes
from gridkit.components.cli import census
from gridkit.console import GridkitGroup
from gridkit.events.cli import events
from gridkit.export.cli import export
from gridkit.grids.cli import grids
from gridkit.partition.cli import partition
from gridkit.pipeline import run
from gridkit.report.cli import report
from gridkit.responsibility.cli import group


@click.group(cls=GridkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gridkit")
def main() -> None:
    """gridkit: unit grids, responsibility grids and component census for urban grid
    management (网格化城市管理).

    \b
    Example, the whole pipeline on the bundled sample district:
        gridkit run
    """


main.add_command(partition)
main.add_command(grids)
main.add_command(group)
main.add_command(codes)
# The spot check (acceptance) belongs to the census: gridkit census sample / accuracy.
census.add_command(sample)
census.add_command(accuracy)
main.add_command(census)
main.add_command(events)
main.add_command(export)
main.add_command(report)
main.add_command(run)
