"""``python -m gridkit.report``: the report command on its own, with gridkit's one-line errors."""

import sys

import click

from gridkit.report.cli import report


def main() -> None:
    """``python -m gridkit.report``: the report command alone, with gridkit's one-line errors."""
    try:
        # Without standalone mode click returns an exit code from ctx.exit instead of
        # raising it, and leaves usage errors to us (one line, as gridkit prints them).
        code = report.main(prog_name="gridkit report", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.UsageError as exc:
        click.echo(f"gridkit: error: {exc.format_message()} (see 'gridkit report --help')",
                   err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(1)


if __name__ == "__main__":
    main()
