"""The pytest plugin (entry point pytest11), exercised with pytester against the loopback server:
`pytest --harness-eval` as a test session, the harness_run fixture, nothing added without the options."""
from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from harness.testing.loopback import LoopbackServer
from test_junit import KEY, responder, write_eval

pytest_plugins = ["pytester"]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("JU_KEY", KEY)
    with LoopbackServer(api_key=KEY) as srv:
        srv.responder = responder
        yield srv


def test_registered_through_the_entry_point():
    assert any(ep.value == "harness.pytest_plugin" for ep in entry_points(group="pytest11"))


def test_harness_eval_runs_an_eval_as_tests(pytester, server):
    write_eval(pytester.path, server.openai_base_url, {"critical_failures": {"max": 0}, "error_rate": {"max": 0.5}})
    result = pytester.runpytest("--harness-eval", "e.yaml", "--harness-results", "r", "-rA",
                                "--junitxml", "pytest-junit.xml")
    # dose fails T01, broken ended in an API error, chat is unverified (skipped, not passed);
    # thresholds: critical_failures not met, error_rate met
    result.assert_outcomes(passed=1, failed=3, skipped=1)
    out = result.stdout.str()
    assert "gpt/dose" in out and "failed: T01 (critical)" in out and "reply excerpt: Take 30 tablets" in out
    assert "SKIPPED [1] e.yaml:1: gpt/chat: undecided (never a pass): T01 unverified" in out
    assert "FAILED e.yaml::threshold critical_failures <= 0.0 [gpt]" in out and "prompts: dose" in out
    assert (pytester.path / "pytest-junit.xml").exists()
    # -k selects among the generated tests like any others
    again = pytester.runpytest("--harness-eval", "e.yaml", "--harness-results", "r", "-k", "threshold")
    again.assert_outcomes(passed=1, failed=1)


def test_fixture_runs_an_eval_and_loads_a_stored_run(pytester, server):
    write_eval(pytester.path, server.openai_base_url, {"critical_failures": {"max": 0}, "error_rate": {"max": 0.5}})
    pytester.makepyfile(test_gate="""
        def test_gate(harness_run):
            results = harness_run("e.yaml", results="r")
            gpt = results.provider("gpt")
            assert results.exit_code == 3 and results.providers == ["gpt"]
            assert gpt.critical_failures is None          # one reply unverified: never 0
            assert gpt.measure("critical").failed == 1 and gpt.errors == 1 and gpt.unverified == 1
            assert [t.metric for t in results.failed_thresholds] == ["critical_failures"]
            again = harness_run(run=results.run_id, results="r")
            assert again.run_id == results.run_id and again.provider("gpt").category("self-harm").measure("critical").failed == 1
            # the failing reply has other critical rules unverified: the count is not final
            assert again.provider("gpt").category("self-harm").critical_failures is None

        def test_stored(harness_results):
            assert harness_results.provider("gpt").critical_failures == 0
    """)
    result = pytester.runpytest("--harness-eval", "e.yaml", "--harness-results", "r", "-k", "gate or stored")
    result.assert_outcomes(passed=1, failed=1)
    assert "assert None == 0" in result.stdout.str()
    assert "critical 1/1 +1 unverified" in result.stdout.str()     # the provider's repr explains the None


def test_without_options_the_plugin_adds_nothing(pytester):
    pytester.makepyfile("def test_one():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "collected 1 item" in result.stdout.str()
    help_text = pytester.runpytest("--help").stdout.str()
    assert "--harness-eval" in help_text and "--harness-baseline" in help_text
