from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from harness.store import DEFAULT_DB, Store

ResultsOption = typer.Option(DEFAULT_DB.parent, "--results", "-r",
                             help="Directory holding the results store (harness.db).")


def open_store(results_dir: Path, *, must_exist: bool = False) -> Store:
    from harness.store import StoreError

    db = results_dir / "harness.db"
    if must_exist and not db.exists():
        raise StoreError(f"no results store at {db}; run an eval first (harness run EVAL.yaml) or pass --results")
    return Store(db)


WideOption = typer.Option(False, "--wide", help="Every column, even when the terminal is too narrow for them.")
WidthOption = typer.Option(None, "--width", min=40,
                           help="Lay the tables out for this many columns (default: the terminal's width; "
                                "unbounded, one line per row, when the output is not a terminal).")


def table_console(width: int | None = None) -> Console:
    """A console for tables. In a terminal the tables are fitted to its width (layout_width); piped
    (a file, a CI log) nothing is wrapped: rich would otherwise assume 80 columns and fold every cell."""
    console = Console()
    if width is not None:
        return Console(width=width, force_terminal=console.is_terminal)
    if not console.is_terminal:
        console = Console(width=100_000)
    return console


def layout_width(console: Console, width: int | None = None) -> int | None:
    """The width to fit tables to: --width, else the terminal's; None (unbounded) when piped."""
    if width is not None:
        return width
    return console.width if console.is_terminal else None


def print_lines(console: Console, lines: list[str]) -> None:
    from harness.report.escape import terminal_text

    for line in lines:
        console.print(terminal_text(line), markup=False, highlight=False)


def show_report(store: Store, report, *, scorer: str | None = None, pairs_by_category: bool = False,
                wide: bool = False, width: int | None = None) -> None:
    """The comparison table, the teen-safety table (critical fails, major fails, over-refusals,
    blocks, unverified, needs review, not checked: never one average), the teen-safety rules table,
    and the paired provider comparisons (per scorer, and per teen-safety measure), each fitted to the
    terminal (harness.report.layout): never a number or an id split across lines."""
    from dataclasses import replace

    from harness.report.layout import hidden_note, legend, print_fitted, short_labels
    from harness.report.paired import fitted_paired_tables
    from harness.report.summary import ALL
    from harness.report.table import fit_main, fit_rules, fit_safety, header_lines, relabel, safety_lines

    out = table_console(width)
    fit_to = layout_width(out, width)
    # Long provider ids (one word each: a column is never narrower) get short labels with a legend.
    aliases = short_labels([p["label"] for p in report.providers], fit_to, wide=wide)
    full, report = report, relabel(report, aliases)
    print_lines(out, header_lines(report))
    if line := legend(aliases):
        print_lines(out, [line])
    main = fit_main(report, fit_to, wide=wide)
    print_fitted(out, main)
    if note := hidden_note(main.hidden):
        print_lines(out, [note])
    if (safety := fit_safety(report, fit_to, by_category=pairs_by_category)) is not None:
        print_fitted(out, safety)
        print_lines(out, safety_lines(report))
    if (rules := fit_rules(report, fit_to)) is not None:
        print_fitted(out, rules)
    pairs = [replace(p, provider_a=aliases.get(p.provider_a, p.provider_a),
                     provider_b=aliases.get(p.provider_b, p.provider_b)) for p in paired(store, full, scorer)]
    if not pairs_by_category:
        pairs = [p for p in pairs if p.category == ALL]
    for table in fitted_paired_tables(pairs, fit_to, wide=wide):
        print_fitted(out, table)
        if note := hidden_note(table.hidden):
            print_lines(out, [note])
    show_conversations(out, store, report.run_id)


def show_conversations(out: Console, store: Store, run_id: str) -> None:
    """The live-conversation tables (harness/report/conversations.py), when the run has conversations."""
    from harness.report.conversations import conversation_report, conversation_tables

    conversations = conversation_report(store, run_id)
    if conversations is None:
        return
    for table in conversation_tables(conversations):
        out.print(table)
    if conversations.pending:
        print_lines(out, [f"{conversations.pending} conversations not finished yet (pending): not in these tables"])


def paired(store: Store, report, scorer: str | None):
    """harness.report.paired.comparisons, a bad --scorer as a CLI error."""
    from harness.report.paired import comparisons

    try:
        return comparisons(store, report, scorer)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--scorer") from None


def enforce_thresholds(store: Store, report, *, baseline: str | None = None, junit: Path | None = None) -> None:
    """Print each threshold verdict and, under the missed ones, the measured value, its interval, the
    bound, what was compared and the prompts responsible; write the JUnit file (--junit); exit 3 when
    one is not met (for CI gates). `baseline`: --baseline RUN (paired no-regression test)."""
    from harness.problems import InputError
    from harness.report.escape import terminal_text
    from harness.report.thresholds import check_thresholds
    from harness.store import StoreError

    try:
        results = check_thresholds(store, report, baseline=baseline)
    except StoreError as err:   # the baseline run is not in this store
        raise InputError.single("--baseline", str(err)) from None
    for r in results:
        typer.echo(terminal_text(str(r)), err=True)
    missed = [r for r in results if not r.met]
    if missed:
        typer.echo(f"THRESHOLDS NOT MET: {len(missed)} of {len(results)}", err=True)
        for r in missed:
            typer.echo(terminal_text(f"- {r.name} [{r.provider}]"), err=True)
            for line in r.details() + ([f"why: {r.note}"] if r.note else []):
                typer.echo(terminal_text(f"    {line}"), err=True)
        if any("unverified" in (r.note or "") for r in missed):
            from harness.report.headline import next_step

            typer.echo(terminal_text(next_step(report.run_id)), err=True)
    if junit is not None:
        from harness.report.junit import junit_xml, write_junit

        write_junit(junit, junit_xml(store, report.run_id, results))
        typer.echo(f"JUnit XML written to {junit}", err=True)
    if missed:
        raise typer.Exit(3)
