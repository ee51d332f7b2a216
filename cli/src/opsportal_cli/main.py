"""The ``opsportal`` command: its options, its subcommands, and its one rule for failures:
one line on stderr beginning ``opsportal:``, a non-zero exit status, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from opsportal_cli.client import Failure
from opsportal_cli.context import TOKEN_VARIABLE, URL_VARIABLE, Portal
from opsportal_cli.endpoints import endpoints
from opsportal_cli.incidents import incidents
from opsportal_cli.jobs import jobs
from opsportal_cli.shifts import shift
from opsportal_cli.waiting import EXIT_CODES_HELP

PROG = "opsportal"
USAGE = 2
INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.option(
    "--url",
    envvar=URL_VARIABLE,
    default="",
    metavar="URL",
    help=f"The portal's address, e.g. https://opsportal.example.com (or {URL_VARIABLE}).",
)
@click.option(
    "--token",
    envvar=TOKEN_VARIABLE,
    default="",
    metavar="TOKEN",
    help=f"Your API token (or {TOKEN_VARIABLE}, which keeps it out of the process list).",
)
@click.pass_context
def cli(ctx: click.Context, url: str, token: str) -> None:
    """The Ops Portal from the command line: endpoints, traffic shifts, batch transform jobs
    and incidents, with your own API token and role."""
    portal = Portal(url.strip(), token.strip())
    ctx.obj = portal
    ctx.call_on_close(portal.close)


cli.add_command(endpoints)
cli.add_command(shift)
cli.add_command(jobs)
cli.add_command(incidents)


def fail(message: str) -> None:
    click.echo(f"{PROG}: {message}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    try:
        status = cli.main(
            args=list(argv) if argv is not None else None, prog_name=PROG, standalone_mode=False
        )
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.format_message(), err=True)
        return USAGE
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else PROG
        fail(f"{error.format_message()} (see '{command} --help')")
        return USAGE
    except click.ClickException as error:
        fail(error.format_message())
        return error.exit_code
    except Failure as error:
        fail(error.message)
        return error.exit_code
    except click.Abort:
        fail("interrupted")
        return INTERRUPTED
    except BrokenPipeError:
        # The reader (head, grep -m) stopped reading: nothing more to say to it.
        return 0
    except Exception as error:  # a bug still gets one line, not a traceback
        fail(f"unexpected error: {type(error).__name__}: {error}")
        return 1
    return status if isinstance(status, int) else 0


def run() -> None:
    """The console script."""
    sys.exit(main())
