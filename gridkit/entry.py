"""The ``gridkit`` program's entry point.

Ctrl-C or SIGTERM while Python is still loading the libraries (seconds on a busy machine) ends it
with the same one line and exit code as later on (:mod:`gridkit.console`), not a traceback.
"""

from __future__ import annotations

import os
import signal
import sys


def _stopped_while_loading(signum, _frame) -> None:
    how = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    sys.stderr.write(f"gridkit: interrupted ({how}): nothing was written; the previous "
                     "output is intact\n")
    sys.stderr.flush()
    os._exit(128 + signum)


def main() -> None:
    """Run the command line (``gridkit ...``)."""
    signal.signal(signal.SIGINT, _stopped_while_loading)
    signal.signal(signal.SIGTERM, _stopped_while_loading)
    from gridkit import console
    from gridkit.cli import main as cli

    console.AS_PROGRAM = True
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        cli()
    finally:
        # The command has finished (its output written or left as it was, and said so): a
        # signal landing while the interpreter shuts down must not turn that into a kill
        # with no word (exit -2) or a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Arrow objects still referenced (by an error's traceback) must be freed while Arrow
        # is alive: freed in the interpreter's teardown, their reader threads abort the
        # process ("terminate called without an active exception", exit 134, apache/arrow
        # issue 34314) after the command has already said how it ended.
        import gc

        gc.collect()
