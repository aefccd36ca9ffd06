"""A loopback server that answers like Ollama, for the Llama Guard judge's tests (no Ollama needed).

What it imitates (Ollama's API docs, docs/api.md, and ollama/ollama#5544):
* ``GET /api/version`` -> ``{"version": "..."}``: how a client tells Ollama from another server.
* ``POST /api/show {"model"}`` -> the model's ``template`` (404 ``{"error": "model '...' not found"}``
  for a model that is not pulled).
* ``POST /api/generate`` unstreamed: with ``raw: true`` the prompt reaches the model as it is and the
  `answer` callable sees it; without ``raw`` the prompt is first wrapped in the model's template, as
  Ollama does, and `wrapped_answer` answers instead.
* ``GET /v1/models``: the models, ``"owned_by": "library"`` as Ollama lists them.
* With ``api_routes=False`` only /v1/ answers (Ollama behind a proxy that forwards /v1 alone).
* ``POST /v1/completions``: Ollama wraps these prompts in the model's template too, so `wrapped_answer`
  answers (by default ``safe``: Llama Guard judging our whole prompt as one user message against its
  default categories). That is the hazard the judge must avoid.

Every request is recorded in `requests` as (method, path, body).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LLAMA_GUARD_3_TEMPLATE = (
    "<|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in '{{ $role }}' "
    "messages in conversations according our safety policy with the below categories.\n\n"
    "<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\n...\n<END UNSAFE CONTENT CATEGORIES>\n\n"
    "<BEGIN CONVERSATION>\n\n{{ range .Messages }}...{{ end }}<END CONVERSATION>\n\n"
    "Provide your safety assessment for ONLY THE LAST {{ $role }} message in the above conversation:\n"
    " - First line must read 'safe' or 'unsafe'.\n"
    " - If unsafe, a second line must include a comma-separated list of violated categories."
    "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n")


class OllamaLikeServer:
    """``with OllamaLikeServer(models={"llama-guard3:1b": TEMPLATE}) as srv: srv.base_url`` ->
    ``http://127.0.0.1:PORT/v1`` (what an eval file names; the client finds /api/ from it)."""

    def __init__(self, models: dict[str, str] | None = None, *, version: str = "0.12.6",
                 answer: Callable[[str], str] | None = None, wrapped_answer: str = "safe",
                 api_routes: bool = True) -> None:
        self.models = dict(models if models is not None else {"llama-guard3:1b": LLAMA_GUARD_3_TEMPLATE})
        self.version = version
        self.answer = answer or (lambda prompt: "safe")
        self.wrapped_answer = wrapped_answer
        self.api_routes = api_routes  # False: only /v1/ reachable, as behind a proxy that forwards /v1 alone
        self.requests: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def paths(self) -> list[str]:
        with self._lock:
            return [path for _, path, _ in self.requests]

    def __enter__(self) -> OllamaLikeServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def _send(self, status: int, obj: Any) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                owner._record("GET", self.path, None)
                if self.path == "/api/version" and owner.api_routes:
                    self._send(200, {"version": owner.version})
                elif self.path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 0,
                                                                 "owned_by": "library"} for m in owner.models]})
                else:
                    self._send(404, {"error": "404 page not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except ValueError:
                    body = None
                owner._record("POST", self.path, body)
                if not isinstance(body, dict):
                    self._send(400, {"error": "invalid request body"})
                    return
                model = body.get("model")
                if self.path.startswith("/api/") and not owner.api_routes:
                    self._send(404, {"error": "404 page not found"})
                elif self.path in ("/api/show", "/api/generate", "/v1/completions") and model not in owner.models:
                    self._send(404, {"error": f"model '{model}' not found"})
                elif self.path == "/api/show":
                    self._send(200, {"template": owner.models[model], "details": {"family": "llama"},
                                     "model_info": {"general.architecture": "llama"}})
                elif self.path == "/api/generate":
                    prompt = str(body.get("prompt", ""))
                    text = owner.answer(prompt) if body.get("raw") is True else owner.wrapped_answer
                    self._send(200, {"model": model, "created_at": "2026-12-07T00:00:00Z", "response": text,
                                     "done": True, "done_reason": "stop", "prompt_eval_count": len(prompt) // 4,
                                     "eval_count": 3})
                elif self.path == "/v1/completions":
                    self._send(200, {"id": "cmpl-1", "object": "text_completion", "created": 0, "model": model,
                                     "choices": [{"index": 0, "text": owner.wrapped_answer, "finish_reason": "stop"}],
                                     "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}})
                else:
                    self._send(404, {"error": "404 page not found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def _record(self, method: str, path: str, body: Any) -> None:
        with self._lock:
            self.requests.append((method, path, body))

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
