"""Shared fixtures: a tiny real GGUF written by the tests, and a way to run the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    from harness.testing.tiny_gguf import write_tiny_llama

    return write_tiny_llama(tmp_path_factory.mktemp("gguf") / "tiny-llama.gguf")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m harness ...` in a real subprocess, as a user would."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


# Shutdown dates in harness/providers/capabilities.yaml make model validation depend on the date: tests
# that name a model run as of the day they were written (harness.providers.resolve.today_date).
os.environ.setdefault("HARNESS_TODAY", "2026-12-07")


def pytest_sessionfinish(session, exitstatus):
    """HARNESS_REPORT_EVERY_RUN=1: after the tests, `harness report` (HTML, with charts) renders every run
    of every store the tests wrote under pytest's temporary directory; one that fails fails the session.
    Off by default (matplotlib on every run costs minutes); the lead's full run turns it on."""
    if os.environ.get("HARNESS_REPORT_EVERY_RUN") != "1":
        return
    from harness.report.html import render_html
    from harness.store import Store

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    failures, skipped, rendered = [], [], 0
    for db in sorted(Path(factory.getbasetemp()).rglob("harness.db")):
        try:
            store = Store(db)
            runs = store.runs()
        except Exception as err:  # noqa: BLE001 - a store a test corrupted on purpose: not a run
            skipped.append(f"{db}: {type(err).__name__}: {err}")
            continue
        try:
            for run in runs:
                notes: list[str] = []
                try:
                    render_html(store, [run["id"]], notes=notes)
                    rendered += 1
                    failures += [f"{db} {run['id']}: {n}" for n in notes]
                except Exception as err:  # noqa: BLE001 - collected and reported below
                    failures.append(f"{db} {run['id']}: {type(err).__name__}: {err}")
        finally:
            store.close()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"harness report rendered {rendered} runs with charts; {len(failures)} failures; "
                            f"{len(skipped)} stores that do not open skipped")
        for line in failures:
            reporter.write_line("  " + line)
    if failures and session.exitstatus == 0:
        session.exitstatus = 1
