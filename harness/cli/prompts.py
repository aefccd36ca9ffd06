"""`harness prompts validate|list|add`: working with prompt suites without writing Python."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.table import Table
from rich.text import Text

from harness.cli.common import table_console
from harness.problems import InputError, Problem
from harness.report.escape import terminal_text
from harness.scoring.rules import check_prompt_rules, default_ruleset
from harness.suites import add_prompt, load_suite
from harness.suites.categories import unmapped
from harness.suites.load import DATA_SUFFIXES

app = typer.Typer(no_args_is_help=True, help="Validate, list and add prompts.")


def _suite_paths(root: Path) -> list[Path]:
    """Suites under a directory: sub-directories with suite.yaml, and loose data files."""
    if not root.is_dir():
        return [root]
    if (root / "suite.yaml").exists():
        return [root]
    found = []
    for p in sorted(root.iterdir()):
        if p.is_dir() and (p / "suite.yaml").exists():
            found.append(p)
        elif p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith((".", "~$")):
            found.append(p)
    return found


@app.command("validate")
def validate(paths: list[Path] = typer.Argument(..., help="Suite files or directories.")) -> None:
    """Check suites and report every problem with its file and line. Exit code 2 if any."""
    problems: list[Problem] = []
    total = 0
    for root in paths:
        for path in _suite_paths(root):
            try:
                suite = load_suite(path, light=True)
                rule_problems = check_prompt_rules(suite.prompts)
                if rule_problems:
                    problems += [replace(p, file=str(path)) for p in rule_problems]
                    continue
                total += len(suite.prompts)
                typer.echo(f"ok  {path}: suite {suite.name} v{suite.version}, {len(suite.prompts)} prompts")
                for line in suite.warnings:
                    typer.echo(terminal_text(line))
                # Not an error here (the eval decides whether teen_safety scores them), but said now, with
                # the closest of our categories and what it means: an eval scoring teen_safety refuses them.
                for problem in unmapped(suite.prompts, suite.declared_categories, str(path)):
                    typer.echo(terminal_text(f"note: {path}: {problem.message}"))
            except InputError as err:
                problems += err.problems
    if problems:
        raise InputError(problems)
    typer.echo(f"{total} prompts valid")


@app.command("list")
def list_suites(root: Path = typer.Argument(Path("prompts"), help="Directory of suites.")) -> None:
    """Show the suites with their prompt counts per category."""
    table = Table()
    for col in ("suite", "version", "prompts", "categories", "path"):
        table.add_column(col)
    problems: list[Problem] = []
    for path in _suite_paths(root):
        try:
            s = load_suite(path, light=True)
        except InputError as err:
            problems += err.problems
            continue
        cats = ", ".join(f"{c} {n}" for c, n in s.categories().items())
        table.add_row(*(Text(v) for v in (s.name, s.version, str(len(s.prompts)), cats, str(path))))
    table_console().print(table)
    if problems:
        raise InputError(problems)


@app.command("add")
def add(
    suite: Path = typer.Argument(..., help="The suite file or directory to add to."),
    id: str = typer.Option(..., "--id", help="A stable, unique id for the prompt."),
    input: str = typer.Option(..., "--input", "-i", help="The user message."),
    category: Optional[str] = typer.Option(None, "--category", "-c"),
    target: Optional[list[str]] = typer.Option(None, "--target", "-t", help="Gold answer. Repeatable."),
    expect: Optional[list[str]] = typer.Option(None, "--expect", "-e",
                                               help="A check such as 'contains: Paris' or 'refuse'. Repeatable."),
    system: Optional[str] = typer.Option(None, "--system", help="A system message before the user message."),
    rule: Optional[list[str]] = typer.Option(None, "--rule", help="Teen-safety rule id that applies. Repeatable."),
    file: Optional[Path] = typer.Option(None, "--file", help="For a suite directory: which data file."),
) -> None:
    """Append one prompt to a suite (validated; an id already in use is refused)."""
    record: dict = {"id": id}
    record["input"] = ([{"role": "system", "content": system}, {"role": "user", "content": input}]
                       if system else input)
    if category:
        record["category"] = category
    if target:
        record["target"] = target[0] if len(target) == 1 else target
    if expect:
        items = []
        for e in expect:
            try:
                items.append(yaml.safe_load(e) if ":" in e else e.strip())
            except yaml.YAMLError:
                raise InputError.single(suite, f"cannot read --expect {e!r}; write e.g. 'contains: Paris'") from None
        record["expect"] = items
    if rule:
        known = default_ruleset().ids
        unknown = [r for r in rule if r not in known]
        if unknown:
            raise InputError.single(suite, f"unknown rule id {unknown[0]!r}; known: {', '.join(known)}", field="--rule")
        record["rules"] = rule
    written = add_prompt(suite, record, file)
    typer.echo(f"added {id!r} to {written}")
