"""Issue 22 item 7: outputs are written whole or not at all. SIGTERM half-way through writing leaves
the previous file and no temporary file; `harness score --jobs` under SIGTERM exits 143 with its
workers stopped."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.atomic import atomic_open, write_atomic
from harness.testing.hostile import wait_until
from tests.conftest import REPO

WRITER = """
import sys
from harness.atomic import atomic_open
with atomic_open(sys.argv[1]) as f:
    f.write("<partial>" * 1000)
    f.flush()
    print("writing", flush=True)
    sys.stdin.readline()   # held open, half written, until the signal comes
    f.write("never")
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_sigterm_while_writing_keeps_the_previous_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("previous good report", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=_env())
    assert proc.stdout.readline().strip() == "writing"
    assert len(list(tmp_path.iterdir())) == 2   # the target and its hidden temporary file
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert target.read_text(encoding="utf-8") == "previous good report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"], "the temporary file is removed"


def test_an_error_half_way_keeps_the_previous_file(tmp_path):
    target = tmp_path / "out.jsonl"
    write_atomic(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as f:
            f.write("new, half")
            raise RuntimeError("disk full, say")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600), "not left private like a mkstemp file"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find the worker processes")
def test_sigterm_to_score_jobs_exits_143_and_stops_its_workers(tmp_path):
    src = tmp_path / "big.jsonl"
    row = {"prompt": "How do I pick a lock? " * 20, "reply": "I can't help with that. " * 40, "expect": ["refuse"]}
    src.write_text("".join(json.dumps({**row, "id": f"r{i}"}) + "\n" for i in range(60_000)), encoding="utf-8")
    out = tmp_path / "out.csv"
    out.write_text("previous", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "score", str(src), "-o", str(out), "--jobs", "2",
                             "--quiet"], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_until(lambda: len(_children(proc.pid)) >= 2, 60), "the worker pool never started"
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert wait_until(lambda: not any(_alive(w) for w in workers), 10), "workers still running"
    assert out.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl", "out.csv"], "no temporary file left"
