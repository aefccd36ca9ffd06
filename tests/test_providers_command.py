"""`harness providers`: the known kinds with SDK and key status; --check sends one tiny request each."""
from __future__ import annotations

import yaml

from harness.testing.loopback import LoopbackServer, Scripted

KEY = "sk-test-check-0000000000000"


def test_providers_lists_kinds_and_key_status(cli):
    done = cli("providers", env={"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": "", "ANTHROPIC_AUTH_TOKEN": ""})
    assert done.returncode == 0, done.stderr
    for kind in ("llama", "openai", "anthropic", "gemini", "gemini-legacy", "openai-compatible"):
        assert kind in done.stdout
    assert "set (OPENAI_API_KEY)" in done.stdout and "missing (ANTHROPIC_API_KEY" in done.stdout
    assert KEY not in done.stdout


def test_providers_check_reports_latency_or_the_exact_error(tmp_path, tiny_gguf, cli):
    (tmp_path / "s.yaml").write_text("name: s\nprompts:\n  - {id: a, input: hi}\n", encoding="utf-8")
    with LoopbackServer(api_key=KEY) as srv:
        srv.push(Scripted(text="OK"), protocol="openai")
        spec = {"name": "chk", "suites": ["s.yaml"], "providers": [
            {"model": "openai/ok-model", "label": "good", "base_url": srv.openai_base_url, "api_key_env": "CHK_KEY"},
            {"model": "anthropic/m", "label": "wrong-key", "base_url": srv.url, "api_key_env": "WRONG_KEY"},
            {"model": "gemini/m", "label": "no-key", "api_key_env": "UNSET_CHECK_KEY"},
            {"model": f"llama/{tiny_gguf}", "label": "local"},
        ]}
        (tmp_path / "e.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        done = cli("providers", str(tmp_path / "e.yaml"), "--check",
                   env={"CHK_KEY": KEY, "WRONG_KEY": "sk-ant-not-the-key-0000"})
        sent = len(srv.requests)
    assert done.returncode == 1 and "check failed for: wrong-key" in done.stderr, done.stderr   # never exit 0
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines()
            if line.startswith("│") and line.split("│")[1].strip() in ("good", "wrong-key", "no-key", "local")}
    assert "│ ok " in rows["good"] and "answered" in rows["good"]
    assert "error" in rows["wrong-key"] and "auth" in rows["wrong-key"]
    assert "not configured" in rows["no-key"] and "UNSET_CHECK_KEY" in rows["no-key"]
    assert "│ ok " in rows["local"]
    assert sent == 2  # one tiny request per configured cloud provider
