"""How the Llama Guard prompt reaches the model, and which Llama Guard it is.

Why a raw completion: the model's own chat template would insert Meta's default categories, so the
exact string (harness/scoring/llamaguard_format.py) is sent as a plain completion.
* In process (llama-cpp-python): tokenized once with special tokens parsed and no added BOS (the
  string starts with it), so the model sees exactly one BOS; at start every special token the format
  uses must be ONE token of the model's vocabulary, or the judge refuses (a Llama Guard 4 given Llama 3
  headers would read them as plain text).
* A server's ``/v1/completions`` (vLLM, llama.cpp server) through the openai SDK; the server adds the
  BOS itself, so the leading BOS is dropped.
* Ollama wraps even ``/v1/completions`` prompts in the model's own template (ollama/ollama#5544):
  the judge would read our prompt as one user message against Meta's default categories. So at start
  the server is asked ``GET /api/version``; an Ollama is then asked ``POST /api/show`` for the model
  (missing: refused with ``ollama pull``), and every call goes to ``POST /api/generate`` with
  ``raw: true``, which sends the prompt as it is.

Which version: `judge_format: llama-guard-1|2|3|4` when given; else the version in the model's name
(``Llama-Guard-3-1B``, ``llama-guard3:8b``, ``LlamaGuard-7b`` is 1); else the GGUF's name or chat
template (in process) or Ollama's template; else the judge refuses to start and says which setting to
add. Nothing is guessed.
"""
from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from harness.providers.base import GenerationParams, ProviderConfig
from harness.providers.errors import ProviderError, body_message
from harness.providers.llama_local import LlamaLocalProvider
from harness.providers.openai_compatible import OpenAICompatibleProvider
from harness.scoring.llamaguard_format import FORMATS
from harness.types import ErrorKind, Message, Outcome, Reply, Usage

_NAME_VERSION = re.compile(r"guard[-_ ]?([1-4])(?![0-9])", re.IGNORECASE)
_GUARD_1 = re.compile(r"llama[-_ ]?guard[-_ ]?7b", re.IGNORECASE)


def version_from_name(*names: str | None) -> int | None:
    """The Llama Guard version a model or file name states, or None."""
    for name in names:
        if not name:
            continue
        m = _NAME_VERSION.search(name)
        if m:
            return int(m.group(1))
        if _GUARD_1.search(name):
            return 1
    return None


def version_from_template(template: str | None) -> int | None:
    """The version a model's own chat template reveals (GGUF or Ollama), or None."""
    if not template or "unsafe" not in template.lower():
        return None
    if "<|header_start|>" in template:
        return 4
    if "<|start_header_id|>" in template:
        return 3
    if "[INST]" in template:
        return 1 if re.search(r"\bO1:", template) else 2
    return None


def unknown_version(model: str) -> ProviderError:
    return ProviderError(ErrorKind.BAD_REQUEST, f"cannot tell which Llama Guard {model!r} is (its name, file and "
                         "template do not say): set judge_format: llama-guard-3 (or llama-guard-1, -2, -4) in the "
                         "eval file, or --judge-format", retryable=False)


class LlamaGuardLocalProvider(LlamaLocalProvider):
    """llama-cpp-python in process; `_generate` sends the last message's content as a raw prompt."""

    def __init__(self, config: ProviderConfig, version: int | None = None) -> None:
        super().__init__(config)
        self.requested_version = version
        self.version: int | None = version or version_from_name(config.model_name)

    async def start(self) -> None:
        await super().start()
        ident = self._identity
        self.version = (self.requested_version or version_from_name(self.config.model_name, ident.get("gguf_name"))
                        or version_from_template(ident.get("chat_template"))
                        or (4 if ident.get("architecture") == "llama4" else None))
        missing = [] if self.version is None else [
            t for t in FORMATS[self.version].special
            if len(self._llm.tokenize(t.encode("utf-8"), add_bos=False, special=True)) != 1]
        if self.version is None or missing:
            await self.aclose()  # refused: the model is not kept loaded
        if self.version is None:
            raise unknown_version(self.config.model)
        if missing:
            raise ProviderError(ErrorKind.BAD_REQUEST, f"{self.config.model} has no special token "
                                f"{', '.join(missing)} in its vocabulary, so it is not a Llama Guard "
                                f"{self.version}: set judge_format: llama-guard-N to the model's version", retryable=False)

    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._llm is None:
            raise ProviderError(ErrorKind.OTHER, "the model is not loaded (start() was not called)", retryable=False)
        raw = messages[-1].content
        tokens = self._llm.tokenize(raw.encode("utf-8"), add_bos=False, special=True)
        n_ctx = self._llm.n_ctx()
        if len(tokens) + (params.max_tokens or 0) > n_ctx:
            raise ProviderError(ErrorKind.CONTEXT, f"the Llama Guard prompt is {len(tokens)} tokens and the answer "
                                f"needs {params.max_tokens}, over n_ctx {n_ctx}: raise options: n_ctx",
                                retryable=False)
        kwargs: dict[str, Any] = {"prompt": tokens, "max_tokens": params.max_tokens,
                                  "temperature": params.temperature or 0.0, "seed": params.seed,
                                  "stop": list(params.stop or [])}
        async with self._lock:
            started = time.perf_counter()
            try:
                out = await asyncio.to_thread(self._llm.create_completion, **kwargs)
            except ValueError as err:
                raise ProviderError(ErrorKind.BAD_REQUEST, str(err), retryable=False) from None
            latency = time.perf_counter() - started
        choice = out["choices"][0]
        finish = choice.get("finish_reason")
        usage = out.get("usage") or {}
        return Reply(text=choice.get("text") or "",
                     outcome=Outcome.TRUNCATED if finish == "length" else Outcome.ANSWERED,
                     reason="stopped at max_tokens" if finish == "length" else None, finish_reason=finish,
                     usage=Usage(input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens")),
                     latency_s=latency, model_reported=self._identity.get("gguf_name") or self.config.model_name,
                     raw={"id": out.get("id"), "prompt_tokens_sent": len(tokens)})

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "api": "create_completion (raw Llama Guard prompt)",
                "llama_guard_version": self.version}


class LlamaGuardServerProvider(OpenAICompatibleProvider):
    """A server's raw completion endpoint, always unstreamed (the answer is a few tokens):
    Ollama's ``/api/generate`` with ``raw: true``, else ``/v1/completions``."""

    def __init__(self, config: ProviderConfig, version: int | None = None) -> None:
        super().__init__(config)
        self.requested_version = version
        self.version: int | None = version or version_from_name(config.model_name)
        self.ollama: dict[str, Any] | None = None  # {"version", "template"} when the server is Ollama

    def _root(self) -> str:
        base = (self.config.base_url or "").rstrip("/")
        return base[:-3] if base.endswith("/v1") else base

    async def start(self) -> None:
        await super().start()
        self.ollama = await self._probe_ollama()
        if self.version is None:
            self.version = version_from_template((self.ollama or {}).get("template"))
        if self.version is None:
            raise unknown_version(self.config.model)

    async def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        """JSON from the server's root (not under /v1), through the SDK's own HTTP client; errors
        become ProviderError like every other call's."""
        import openai

        url = f"{self._root()}{path}"
        try:
            if method == "GET":
                return await self._client.get(url, cast_to=object)
            return await self._client.post(url, body=body, cast_to=object)
        except openai.APIError as exc:  # status errors, connection errors and timeouts alike
            err = self._map_error(exc)
            err.message = self._scrub(err.message)
            raise err from exc

    async def _probe_ollama(self) -> dict[str, Any] | None:
        """{"version", "template"} when the server answers Ollama's /api/version, else None."""
        try:
            data = await self._call("GET", "/api/version")
        except ProviderError:
            data = None
        if not (isinstance(data, dict) and isinstance(data.get("version"), str)):
            if await self._ollama_behind_v1():
                raise ProviderError(ErrorKind.BAD_REQUEST, f"{self.config.base_url} is an Ollama /v1 endpoint without "
                                    "Ollama's /api/ routes: its /v1/completions wraps the Llama Guard prompt in the "
                                    "model's own template. Point base_url at Ollama itself (http://HOST:11434/v1, so "
                                    "that /api/generate with raw: true is reachable)", retryable=False)
            return None  # not Ollama, or not reachable (a dead server fails on the first call)
        name = self.config.model_name
        try:
            info = await self._call("POST", "/api/show", {"model": name})
        except ProviderError as err:
            if err.status == 404:
                raise ProviderError(ErrorKind.BAD_REQUEST, f"Ollama at {self._root()} has no model {name!r}: run "
                                    f"`ollama pull {name}` (or name a model `ollama list` shows)",
                                    retryable=False) from None
            raise
        template = info.get("template") if isinstance(info, dict) else None
        return {"version": data["version"], "template": template if isinstance(template, str) else None}

    async def _ollama_behind_v1(self) -> bool:
        """Whether /v1/models answers as Ollama does (models "owned_by": "library" or "ollama")."""
        try:
            data = await self._call("GET", "/v1/models")
        except ProviderError:
            return False
        models = data.get("data") if isinstance(data, dict) else None
        return isinstance(models, list) and any(isinstance(m, dict) and m.get("owned_by") in ("library", "ollama")
                                                for m in models)

    async def _generate(self, messages: list[Message], params: GenerationParams) -> Reply:
        if self._client is None:
            await self.start()
        raw = messages[-1].content
        bos = FORMATS[self.version or 3].bos
        prompt = raw.removeprefix(bos)  # the server adds the BOS token itself
        if self.ollama is not None:
            return await self._ollama_generate(prompt, params)
        kwargs: dict[str, Any] = {"model": self.config.model_name, "prompt": prompt,
                                  "temperature": params.temperature or 0.0, "max_tokens": params.max_tokens}
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.stop:
            kwargs["stop"] = list(params.stop)
        started = time.perf_counter()
        try:
            resp = await self._client.completions.create(**kwargs)
        except ProviderError:
            raise
        except Exception as exc:
            err = self._map_error(exc)
            err.message = self._scrub(err.message)
            err.args = (err.message,)
            raise err from exc
        latency = time.perf_counter() - started
        if isinstance(resp, str) or not getattr(resp, "choices", None):
            raise ProviderError(ErrorKind.MALFORMED, f"HTTP 200 without completion choices: "
                                f"{body_message(resp, 120)!r}", status=200, retryable=True)
        choice = resp.choices[0]
        usage = resp.usage
        return self._reply(text=getattr(choice, "text", None) or "", refusal=None, finish=choice.finish_reason,
                           usage=Usage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)
                           if usage else Usage(), model=getattr(resp, "model", None),
                           response_id=getattr(resp, "id", None), latency=latency, ttft=None)

    async def _ollama_generate(self, prompt: str, params: GenerationParams) -> Reply:
        """Ollama's /api/generate with raw: true (the prompt is not wrapped in the model's template)."""
        options: dict[str, Any] = {"temperature": params.temperature or 0.0, "num_predict": params.max_tokens}
        if params.seed is not None:
            options["seed"] = params.seed
        if params.stop:
            options["stop"] = list(params.stop)
        body = {"model": self.config.model_name, "prompt": prompt, "raw": True, "stream": False, "options": options}
        started = time.perf_counter()
        data = await self._call("POST", "/api/generate", body)
        latency = time.perf_counter() - started
        if not isinstance(data, dict) or not isinstance(data.get("response"), str):
            raise ProviderError(ErrorKind.MALFORMED, f"HTTP 200 without a response from Ollama's /api/generate: "
                                f"{body_message(data, 120)!r}", status=200, retryable=True)
        finish = "length" if data.get("done_reason") == "length" else "stop"
        return self._reply(text=data["response"], refusal=None, finish=finish,
                           usage=Usage(input_tokens=data.get("prompt_eval_count"),
                                       output_tokens=data.get("eval_count")),
                           model=data.get("model"), response_id=None, latency=latency, ttft=None)

    def identity(self) -> dict[str, Any]:
        ident = {**super().identity(), "stream": False, "llama_guard_version": self.version}
        if self.ollama is not None:
            return {**ident, "api": "ollama /api/generate raw (raw Llama Guard prompt)",
                    "server": "ollama", "ollama_version": self.ollama["version"]}
        return {**ident, "api": "completions (raw Llama Guard prompt)"}


def guard_provider(config: ProviderConfig, version: int | None = None) -> LlamaGuardLocalProvider | LlamaGuardServerProvider:
    if config.kind == "llama":
        return LlamaGuardLocalProvider(config, version)
    if config.kind == "openai-compatible":
        return LlamaGuardServerProvider(config, version)
    raise ValueError(f"a Llama Guard judge runs as llama/FILE.gguf (in process) or openai-compatible/MODEL "
                     f"with base_url (a server's /v1/completions or Ollama), not {config.model!r}")
