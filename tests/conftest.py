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
