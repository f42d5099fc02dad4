"""Errors a user can cause, each carrying the exit code the CLI turns it into."""


class GridkitError(Exception):
    """Bad usage or unreadable input: the CLI prints the message on one line, exits 2."""

    exit_code = 2


class CheckFailed(GridkitError):
    """A check or an acceptance failed: exit 1."""

    exit_code = 1
