"""A run under a seeded mix of injected faults completes: every sample ends as a reply or as an error
of a named kind, none is lost or duplicated, and the retry cap bounds the attempts.

The fault for attempt k of prompt p is a pure function of (seed, p, k), so the expected outcome of
every sample can be computed independently of thread scheduling.
"""
from __future__ import annotations

import random
import sqlite3
import threading
from collections import Counter

import pytest
import yaml

from harness.providers.base import MALFORMED_MAX_ATTEMPTS
from harness.testing.loopback import LoopbackServer, Scripted
from harness.types import ErrorKind

KEY = "sk-test-faults-0123456789"
N_PROMPTS = 60
MAX_ATTEMPTS = 4
SEED = 20261125

# fault name -> (scripted response, error kind if it is the last attempt)
FAULTS = {
    "429-retry-after": (lambda: Scripted(kind="error", status=429, headers={"retry-after": "0.05"}), ErrorKind.RATE_LIMIT),
    "429-bare": (lambda: Scripted(kind="error", status=429), ErrorKind.RATE_LIMIT),
    "500": (lambda: Scripted(kind="error", status=500), ErrorKind.SERVER),
    "503": (lambda: Scripted(kind="error", status=503), ErrorKind.SERVER),
    "529": (lambda: Scripted(kind="error", status=529), ErrorKind.SERVER),
    "timeout": (lambda: Scripted(kind="hang", delay_s=1.0), ErrorKind.TIMEOUT),
    "malformed": (lambda: Scripted(kind="malformed"), ErrorKind.MALFORMED),
    "drop": (lambda: Scripted(kind="drop"), ErrorKind.CONNECTION),
}


def fault_for(prompt: int, attempt: int) -> str | None:
    """None means a normal reply. About half of all attempts fail."""
    rng = random.Random(f"{SEED}-{prompt}-{attempt}")
    return rng.choice(sorted(FAULTS)) if rng.random() < 0.5 else None


def expected(prompt: int) -> tuple[str, int, ErrorKind | None]:
    """(outcome, attempts, error kind) the harness must arrive at for this prompt."""
    for attempt in range(MAX_ATTEMPTS):
        fault = fault_for(prompt, attempt)
        if fault is None:
            return "answered", attempt + 1, None
        if fault == "malformed" and attempt + 1 >= MALFORMED_MAX_ATTEMPTS:
            return "error", attempt + 1, ErrorKind.MALFORMED  # a broken reply is retried at most twice
    return "error", MAX_ATTEMPTS, FAULTS[fault_for(prompt, MAX_ATTEMPTS - 1)][1]


class FaultResponder:
    def __init__(self) -> None:
        self.attempts: Counter[int] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request) -> Scripted:
        prompt = int(request.body["messages"][-1]["content"].rsplit(" ", 1)[1])
        with self.lock:
            attempt = self.attempts[prompt]
            self.attempts[prompt] += 1
        fault = fault_for(prompt, attempt)
        return Scripted(text=f"answer {prompt}") if fault is None else FAULTS[fault][0]()


@pytest.mark.parametrize("stream", [False, True])
def test_seeded_fault_mix_completes_with_every_sample_accounted_for(tmp_path, cli, stream):
    suite = {"name": "faults", "prompts": [{"id": f"p{i}", "input": f"question {i}"} for i in range(N_PROMPTS)]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    responder = FaultResponder()
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        spec = {"name": "faults", "suites": ["suite.yaml"], "scorers": ["contains"],
                "providers": [{"model": "openai/loopback-model", "base_url": srv.openai_base_url,
                               "api_key_env": "FAULT_KEY", "concurrency": 8, "timeout_s": 0.3, "stream": stream,
                               "retry": {"max_attempts": MAX_ATTEMPTS, "base_delay_s": 0.01, "max_delay_s": 0.05,
                                         "max_total_wait_s": 5}}]}
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        done = cli("run", str(tmp_path / "eval.yaml"), "--results", str(tmp_path / "r"), "--no-progress",
                   "--no-cache", env={"FAULT_KEY": KEY})
    assert done.returncode == 0, done.stderr
    db = sqlite3.connect(tmp_path / "r" / "harness.db")
    rows = db.execute("SELECT s.prompt_id, p.outcome, p.attempts, p.error_kind, p.text, COUNT(*) FROM samples s"
                      " LEFT JOIN replies p ON p.sample_id = s.id GROUP BY s.id").fetchall()
    assert len(rows) == N_PROMPTS, "no sample lost"
    assert all(r[5] == 1 for r in rows), "no sample duplicated"
    kinds = {k.value for k in ErrorKind}
    outcomes = Counter()
    for pid, outcome, attempts, error_kind, text, _ in rows:
        prompt = int(pid[1:])
        want_outcome, want_attempts, want_kind = expected(prompt)
        assert (outcome, attempts) == (want_outcome, want_attempts), (pid, outcome, attempts, error_kind)
        if outcome == "error":
            assert error_kind in kinds and error_kind == want_kind.value, (pid, error_kind, want_kind)
        else:
            assert text == f"answer {prompt}"
        outcomes[outcome] += 1
        # The retry cap holds: the server saw exactly the attempts the policy allows, no more.
        assert responder.attempts[prompt] == want_attempts <= MAX_ATTEMPTS, "attempts seen by the server"
    assert outcomes["answered"] > 0 and outcomes["error"] > 0, outcomes
