"""Running gridkit's parallel work on a Dask cluster (``--scheduler`` / ``--workers``).

Dask is an optional extra (``pip install gridkit[dask]``): nothing else in gridkit imports it,
and without ``--scheduler``, ``--workers`` or ``GRIDKIT_SCHEDULER`` nothing changes.

Only work that is independent by construction goes to the cluster (cut planning per street,
grouping per street, the row checks of census blocks, locating components tile by tile in a
spatial partitioning of the unit grids); everything that makes results agree across those
parts (noding, merging, serial allocation, duplicates, writing the GeoPackage) stays on the
client, so the output is the same as on one machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from gridkit.errors import GridkitError, InputError, mention

ENV = "GRIDKIT_SCHEDULER"
CONNECT_TIMEOUT = "10s"


def _dask():
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise GridkitError(f"{mention('scheduler')}/{mention('workers')} need Dask: pip install "
                           "gridkit[dask]") from None
    return Client, LocalCluster


@contextmanager
def cluster_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client`` for ``scheduler`` or a local cluster; None when not asked.

    ``scheduler`` (or ``$GRIDKIT_SCHEDULER``) is an address; ``workers`` a number of local
    processes.
    """
    if workers is not None and workers < 1:
        raise InputError(f"{mention(workers=workers)}: give at least 1", parameter="workers")
    if scheduler and workers:
        raise InputError(f"give {mention('scheduler')} or {mention('workers')}, not both",
                         parameter="workers")
    if not scheduler and not workers:
        scheduler = os.environ.get(ENV, "").strip() or None
    if not scheduler and not workers:
        yield None
        return
    Client, LocalCluster = _dask()
    if workers:
        # One thread per process: the work is GEOS/Python and holds the GIL much of the time.
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None,
                          # The scheduler's health endpoint would try port 8787 (and warn
                          # when another cluster has it); any free loopback port will do.
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as local, \
                Client(local) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        raise GridkitError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    with client:
        yield client


def map_ordered(client: Any, function: Callable, items: Sequence, *shared: Any) -> list:
    """``[function(item, *shared) for item in items]``, on the cluster when ``client`` is set.

    ``shared`` values go to every worker once (scattered), not once per task; the results
    come back in the order of ``items`` whatever order the workers finish in.
    """
    if client is None or not items:
        return [function(item, *shared) for item in items]
    # hash=False: naming data by its content would mean hashing all of it, which took
    # longer than sending it (11 s for the adjacency of 67,000 unit grids).
    futures = client.scatter(list(shared), broadcast=True, hash=False) if shared else []
    # Scattered, not embedded in the task graph: items can be blocks of a census file.
    placed = client.scatter(list(items), hash=False)
    tasks = client.map(function, placed, *[[f] * len(items) for f in futures], pure=False)
    return client.gather(tasks)


def cluster_options(command: Callable) -> Callable:
    """``--scheduler`` and ``--workers`` on a click command."""
    command = click.option(
        "--workers", type=int,
        help="Start a local Dask cluster of N worker processes for the parallel work.")(command)
    return click.option(
        # Not click's envvar: an explicit --workers must win over a $GRIDKIT_SCHEDULER.
        "--scheduler", metavar="ADDRESS",
        help=f"Dask scheduler (tcp://host:8786) to run the parallel work on (or ${ENV}); "
             "needs pip install gridkit[dask].")(command)
