"""The `harness` command. Each sub-command lives in its own module; this one wires them up and turns
bad input into exit code 2 with the problems listed, and anything else into a redacted message."""
from __future__ import annotations

import sqlite3
import sys

import typer

from harness.cli import cache, prompts, providers, results, run
from harness.cli import score
from harness.cli import judge
from harness.cli import rescore
from harness.cli import scorers
from harness.cli import report
from harness.cli import diff as diff_cli
from harness.cli import categories as categories_cli
from harness.cli import batches as batches_cli
from harness.problems import InputError
from harness.redact import redact
from harness.runner.execute import Terminated
from harness.store import LeaseHeld, StoreError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Run prompt suites against model providers, score the replies, compare providers.")
app.command("run")(run.run)
app.command("compare")(results.compare)
app.command("runs")(results.runs)
app.command("export")(results.export)
app.command("providers")(providers.providers)
app.command("score")(score.score)
app.command("rescore")(rescore.rescore)
app.command("scorers")(scorers.scorers)
app.command("report")(report.report)
app.command("diff")(diff_cli.diff)
app.command("categories")(categories_cli.categories)
app.command("batches")(batches_cli.batches)
app.add_typer(prompts.app, name="prompts")
app.add_typer(cache.app, name="cache")
app.add_typer(judge.app, name="judge")


def _stdout_closed() -> None:
    """The reader of our stdout went away (`harness compare | head`): not an error. Point stdout at
    devnull so the interpreter's final flush does not fail again, and exit 0."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(0)


def _stdout_is_devnull() -> bool:
    import os

    try:
        here, null = os.fstat(sys.stdout.fileno()), os.stat(os.devnull)
    except (OSError, ValueError, AttributeError):
        return False
    return (here.st_dev, here.st_ino) == (null.st_dev, null.st_ino)


def main() -> None:
    was_devnull = _stdout_is_devnull()
    try:
        app()
    except BrokenPipeError:
        _stdout_closed()
    except SystemExit as exc:
        # A closed pipe (`compare | head` under `set -o pipefail`) must not fail the command. rich handles
        # it by pointing stdout at devnull and exiting 1; click by wrapping stdout and exiting 1.
        if exc.code == 1 and (type(sys.stdout).__name__ == "PacifyFlushWrapper"
                              or (not was_devnull and _stdout_is_devnull())):
            _stdout_closed()
        raise
    except InputError as err:
        for problem in err.problems:
            typer.echo(f"error: {redact(str(problem))}", err=True)
        sys.exit(2)
    except LeaseHeld as err:   # another live process executes this run: one writer per run
        typer.echo(f"error: {redact(str(err))}", err=True)
        sys.exit(run.EXIT_LOCKED)
    except StoreError as err:
        typer.echo(f"error: {redact(str(err))}", err=True)
        sys.exit(2)
    except sqlite3.DatabaseError as err:   # damaged pages found mid-command: like other corruption, exit 2
        typer.echo(f"error: a results file is damaged or unwritable ({redact(str(err))}). A cache: harness cache "
                   "clear [--judge] --results DIR, or --no-cache. The results store (harness.db): check it with "
                   "sqlite3 harness.db 'PRAGMA integrity_check' and rescue it with sqlite3's .recover", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(run.EXIT_SIGINT)
    except Terminated:
        sys.exit(run.EXIT_SIGTERM)
    except Exception as err:  # keep secrets out of tracebacks: print a redacted summary only
        typer.echo(f"internal error: {type(err).__name__}: {redact(str(err))}", err=True)
        typer.echo("please report this with the command you ran", err=True)
        sys.exit(1)
