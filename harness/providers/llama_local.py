"""The local Llama, in process, on llama-cpp-python.

The model is `llama/PATH.gguf` (a local file) or `llama/OWNER/REPO/FILE.gguf` (a file in a Hugging Face
repo, downloaded once with huggingface_hub and cached). The run records the GGUF's sha256, its
quantisation and the chat template actually used, so that two runs of "the same" local model are
provably the same model.

llama.cpp's `Llama` has no internal lock, so one instance serves all samples, one at a time.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from harness.problems import Problem
from harness.providers.base import GenerationParams, Provider, ProviderConfig
from harness.providers.errors import ProviderError
from harness.providers.reasoning import finish_reasoning, split_think
from harness.types import ErrorKind, Message, Outcome, Reply, Usage

GGUF_MAGIC = b"GGUF"
# general.file_type values (llama.cpp's LLAMA_FTYPE) for the common quantisations.
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
              11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
              17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}
OPTIONS = frozenset({"n_ctx", "n_threads", "n_gpu_layers", "chat_format", "chat_template", "revision", "model_path",
                     "price"})


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def check_gguf(path: Path) -> str | None:
    """A reason the file cannot be a GGUF model, or None."""
    if not path.exists():
        return "GGUF file not found"
    if path.is_dir():
        return "is a directory, expected a .gguf file"
    with path.open("rb") as f:
        head = f.read(4)
    if head != GGUF_MAGIC:
        return "is not a GGUF file (bad magic bytes); re-download it or check the path"
    return None


def _hub_parts(name: str) -> tuple[str, str] | None:
    """`owner/repo/file.gguf` -> ("owner/repo", "file.gguf")."""
    parts = name.split("/")
    if len(parts) >= 3 and name.endswith(".gguf") and not Path(name).exists():
        return "/".join(parts[:2]), "/".join(parts[2:])
    return None


def download_gguf(repo_id: str, filename: str, revision: str | None = None) -> Path:
    """Fetch a GGUF from the hub once; later calls (and offline runs) use the local cache."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as err:
        raise ProviderError(ErrorKind.OTHER, "downloading a GGUF needs huggingface_hub: "
                            "pip install 'chatbot-eval-harness[llama]'", retryable=False) from err
    # Environment read at call time (huggingface_hub reads it once, at import).
    cache_dir = os.environ.get("HF_HUB_CACHE") or None
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    try:
        # The cache first: a file fetched once needs no network, not even a HEAD request.
        return Path(hf_hub_download(repo_id=repo_id, filename=filename, revision=revision,
                                    cache_dir=cache_dir, local_files_only=True))
    except Exception:
        if offline:
            raise ProviderError(
                ErrorKind.CONNECTION,
                f"{filename} from {repo_id} is not in the local cache and HF_HUB_OFFLINE is set; download the "
                f"file elsewhere and give its local path instead: model: llama/path/to/{Path(filename).name}",
                retryable=False) from None
    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename, revision=revision, cache_dir=cache_dir))
    except Exception as err:  # offline, unknown repo, gated model: all end the same way for the user
        raise ProviderError(
            ErrorKind.CONNECTION,
            f"could not fetch {filename} from {repo_id} ({type(err).__name__}); with no network, download the "
            f"file elsewhere and give its local path instead: model: llama/path/to/{Path(filename).name}",
            retryable=False) from None


class LlamaLocalProvider(Provider):
    kind = "llama"
    reply_deadline = False   # in-process generation: not a server's to stall (see Provider.reply_deadline)
    known_options = OPTIONS

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self._llm: Any = None
        self._lock = asyncio.Lock()
        self._identity: dict[str, Any] = {"provider": "llama", "model": config.model_name}
        self.path: Path | None = None

    # -- before the run ------------------------------------------------------------------------
    def local_path(self) -> Path | None:
        """The GGUF on disk, if the model names a local file (set by the eval loader or as given)."""
        given = self.config.options.get("model_path") or self.config.model_name
        return None if _hub_parts(str(given)) and not Path(given).exists() else Path(given)

    def preflight(self) -> list[Problem]:
        problems = super().preflight()
        if self.config.options.get("chat_format") and self.config.options.get("chat_template"):
            problems.append(Problem(file="eval file", field=f"providers: {self.config.display}: options",
                                    message="give chat_format (a llama-cpp-python format name) or chat_template "
                                    "(a Jinja template), not both"))
        path = self.local_path()
        reason = check_gguf(path) if path is not None else None
        if reason:
            problems.append(Problem(file=str(path), field=f"providers: {self.config.model}", message=reason))
        return problems

    async def start(self) -> None:
        path = self.local_path()
        if path is None:
            repo, filename = _hub_parts(self.config.model_name)  # type: ignore[misc]
            path = await asyncio.to_thread(download_gguf, repo, filename, self.config.options.get("revision"))
        reason = check_gguf(path)
        if reason:
            raise ProviderError(ErrorKind.BAD_REQUEST, f"{path}: {reason}", retryable=False)
        self.path = path
        self._llm, self._identity = await asyncio.to_thread(self._load, path)

    def _load(self, path: Path) -> tuple[Any, dict[str, Any]]:
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise ProviderError(ErrorKind.OTHER, "the local Llama needs llama-cpp-python: "
                                "pip install 'chatbot-eval-harness[llama]'", retryable=False) from err
        opts = self.config.options
        digest = sha256_file(path)
        try:
            llm = Llama(model_path=str(path), n_ctx=int(opts.get("n_ctx", 2048)), n_threads=opts.get("n_threads"),
                        n_gpu_layers=int(opts.get("n_gpu_layers", 0)), chat_format=opts.get("chat_format"),
                        seed=self.config.params.seed if self.config.params.seed is not None else 0xFFFFFFFF,
                        verbose=False)
        except (ValueError, RuntimeError) as err:
            raise ProviderError(ErrorKind.BAD_REQUEST, f"llama.cpp could not load {path}: {err}",
                                retryable=False) from None
        template = opts.get("chat_template")
        if template:
            # The eval's own Jinja template replaces the GGUF's: the fix for a model whose embedded
            # template is wrong, which would otherwise skew its scores silently.
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            eos_id, bos_id = llm.token_eos(), llm.token_bos()
            llm.chat_handler = Jinja2ChatFormatter(
                template=template,
                eos_token=llm._model.token_get_text(eos_id) if eos_id != -1 else "",
                bos_token=llm._model.token_get_text(bos_id) if bos_id != -1 else "",
                stop_token_ids=[eos_id],
            ).to_chat_handler()
        meta = dict(llm.metadata)
        file_type = meta.get("general.file_type")
        identity = {
            "provider": "llama",
            "model": self.config.model_name,
            "gguf_path": str(path),
            "gguf_sha256": digest,
            "gguf_size_bytes": path.stat().st_size,
            "gguf_name": meta.get("general.name"),
            "architecture": meta.get("general.architecture"),
            "quantisation": FILE_TYPES.get(int(file_type), f"file_type {file_type}") if file_type is not None else None,
            "chat_format": "eval file template" if template else llm.chat_format,
            "chat_template_source": "eval file" if template or opts.get("chat_format") else "gguf",
            "chat_template": template or (None if opts.get("chat_format") else meta.get("tokenizer.chat_template")),
            "n_ctx": llm.n_ctx(),
            "llama_cpp_python": _version("llama_cpp_python"),
        }
        return llm, identity

    def identity(self) -> dict[str, Any]:
        return self._identity

    async def aclose(self) -> None:
        if self._llm is not None:
            await asyncio.to_thread(self._llm.close)
            self._llm = None

    # -- one sample ----------------------------------------------------------------------------
    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._llm is None:
            raise ProviderError(ErrorKind.OTHER, "the model is not loaded (start() was not called)", retryable=False)
        chat = ([{"role": "system", "content": params.system_prompt}] if params.system_prompt else [])
        chat += [{"role": m.role, "content": m.content} for m in messages]
        kwargs: dict[str, Any] = {"messages": chat, "stream": False}
        if params.temperature is not None:
            kwargs["temperature"] = params.temperature
        if params.max_tokens is not None:
            kwargs["max_tokens"] = params.budget()
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.stop:
            kwargs["stop"] = params.stop
        first_token: list[float] = []

        def mark_first_token(input_ids, scores):
            # Called before each token is sampled: the first call is when the prompt has been
            # processed and the first token's logits exist, i.e. the time to first token, measured
            # without streaming (which would lose the exact token usage).
            if not first_token:
                first_token.append(time.perf_counter())
            return scores

        from llama_cpp import LogitsProcessorList

        kwargs["logits_processor"] = LogitsProcessorList([mark_first_token])
        async with self._lock:
            started = time.perf_counter()
            try:
                out = await asyncio.to_thread(self._llm.create_chat_completion, **kwargs)
            except ValueError as err:
                kind = ErrorKind.CONTEXT if "context window" in str(err) else ErrorKind.BAD_REQUEST
                raise ProviderError(kind, str(err), retryable=False) from None
            latency = time.perf_counter() - started
        choice = out["choices"][0]
        finish = choice.get("finish_reason")
        usage = out.get("usage") or {}
        # A local reasoning model's inline <think>...</think> is split off: stored apart, never scored.
        text, thought = split_think(choice["message"].get("content") or "")
        return finish_reasoning(Reply(
            text=text,
            outcome=Outcome.TRUNCATED if finish == "length" else Outcome.ANSWERED,
            reason="stopped at max_tokens" if finish == "length" else None,
            finish_reason=finish,
            usage=Usage(input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens")),
            latency_s=latency,
            ttft_s=first_token[0] - started if first_token else None,
            model_reported=self._identity.get("gguf_name") or self.config.model_name,
            raw={"id": out.get("id"),
                 "sent": {k: v for k, v in kwargs.items() if k not in ("messages", "stream", "logits_processor")}},
        ), thought)


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None
