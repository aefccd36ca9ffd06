"""Code that downloads (a dataset by name, a GGUF from the hub), exercised on files the tests make:
a local dataset folder through `datasets`, and a pre-filled Hugging Face cache read offline."""
from __future__ import annotations

import json
import shutil

import pytest

from harness.evalfile import SuiteRef
from harness.problems import InputError
from harness.providers.errors import ProviderError
from harness.providers.llama_local import download_gguf
from harness.suites.hub import load_hub_suite


def test_dataset_folder_loads_through_datasets_with_a_column_mapping(tmp_path):
    data = tmp_path / "qa"
    data.mkdir()
    rows = [{"qid": f"q{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(5)]
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ref = SuiteRef(hub=str(data), split="test", columns={"id": "qid", "input": "question", "target": "answer"},
                   category="sums", version="2024-01")
    suite = load_hub_suite(ref, tmp_path / "eval.yaml")
    assert [p.id for p in suite.prompts] == [f"q{i}" for i in range(5)]
    assert suite.prompts[3].messages[0].content == "What is 3 + 3?" and suite.prompts[3].target == "6"
    assert {p.category for p in suite.prompts} == {"sums"} and suite.version == "2024-01"
    assert suite.content_hash.startswith("sha256:")


def test_single_local_data_file_loads_through_datasets(tmp_path):
    path = tmp_path / "qa.csv"
    path.write_text("question,answer\nWhat is 1 + 1?,2\nWhat is 2 + 3?,5\n", encoding="utf-8")
    suite = load_hub_suite(SuiteRef(hub=str(path), columns={"input": "question", "target": "answer"}),
                           tmp_path / "eval.yaml")
    assert [(p.id, p.target) for p in suite.prompts] == [("0", "2"), ("1", "5")]


def test_dataset_mapping_to_a_missing_column_is_a_clear_error(tmp_path):
    data = tmp_path / "qa"
    data.mkdir()
    (data / "test.jsonl").write_text('{"question": "x"}\n', encoding="utf-8")
    ref = SuiteRef(hub=str(data), columns={"input": "prompt"})
    with pytest.raises(InputError, match="has no column 'prompt'; it has: question"):
        load_hub_suite(ref, tmp_path / "eval.yaml")


def test_unknown_dataset_offline_is_a_clear_error(tmp_path, tiny_gguf, cli):
    (tmp_path / "e.yaml").write_text(
        f"name: e\nsuites:\n  - {{hub: nobody/nothing, columns: {{input: q}}}}\nproviders: [llama/{tiny_gguf}]\n",
        encoding="utf-8")
    done = cli("run", str(tmp_path / "e.yaml"), "-r", str(tmp_path / "r"),
               env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")})
    assert done.returncode == 2
    assert "could not load dataset 'nobody/nothing'" in done.stderr
    assert not (tmp_path / "r").exists()


def test_gguf_from_the_hub_cache_offline(tmp_path, monkeypatch, tiny_gguf):
    """A GGUF fetched once is served from the Hugging Face cache with no network: the cache layout
    is written here the way huggingface_hub writes it."""
    cache = tmp_path / "hub"
    snapshot = cache / "models--meta-test--tiny-GGUF" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    shutil.copy(tiny_gguf, snapshot / "tiny.Q4_K_M.gguf")
    (cache / "models--meta-test--tiny-GGUF" / "refs").mkdir()
    (cache / "models--meta-test--tiny-GGUF" / "refs" / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = download_gguf("meta-test/tiny-GGUF", "tiny.Q4_K_M.gguf")
    assert path.read_bytes() == tiny_gguf.read_bytes()


def test_gguf_not_in_cache_offline_says_how_to_give_a_local_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ProviderError) as err:
        download_gguf("meta-test/absent-GGUF", "model.gguf")
    assert "give its local path instead: model: llama/path/to/model.gguf" in str(err.value)


def test_a_hub_model_that_cannot_be_fetched_skips_the_provider_with_one_line(tmp_path, monkeypatch, cli):
    (tmp_path / "s.yaml").write_text("name: s\nprompts:\n  - {id: a, input: hi}\n", encoding="utf-8")
    (tmp_path / "e.yaml").write_text(
        "name: e\nsuites: [s.yaml]\nproviders:\n  - llama/meta-test/absent-GGUF/model.gguf\n", encoding="utf-8")
    done = cli("run", str(tmp_path / "e.yaml"), "-r", str(tmp_path / "r"), "--no-progress",
               env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "empty")})
    # Its only provider was skipped: nothing was measured, exit 5, never a green 0 (issue 10, item 6).
    assert done.returncode == 5, done.stderr
    assert "model.gguf from meta-test/absent-GGUF is not in the local cache" in done.stderr
    assert "1 samples have no reply yet; resume with" in done.stderr
