"""Output files written whole or not at all.

A report, an export or a JUnit file written in place is destroyed the moment writing starts: a
SIGTERM (CI cancelling a job), Ctrl-C or a full disk half-way leaves a truncated file where the
previous good one was, and a CI dashboard then reads half an XML document. Every output file is
therefore written to a hidden temporary file in the same directory (same file system, so the rename
is atomic) and renamed over the target only when complete. While the file is being written, SIGTERM
is turned into an exception (exit 143) so that the temporary file is removed on the way out; the
previous file is never touched.
"""
from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: Exit status of a process stopped by SIGTERM (128 + 15), as the shell reports it.
EXIT_SIGTERM = 143


def _raise_terminated(signum, frame) -> None:
    raise SystemExit(EXIT_SIGTERM)


@contextlib.contextmanager
def sigterm_held() -> Iterator[None]:
    """SIGTERM held back (blocked) inside, delivered on the way out. For forking worker pools: a
    SIGTERM that lands in os.fork's at-fork hooks has its exception swallowed ("Exception ignored"),
    and the process would go on as if nothing came. Children inherit the block: they unblock it."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit(143) in the main thread: `finally` blocks run (worker
    pools stopped, temporary files removed) instead of the process vanishing mid-write."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def atomic_open(path: str | Path, *, newline: str | None = None) -> Iterator[IO[str]]:
    """A text file (UTF-8) that replaces `path` only when the block ends without an exception."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sigterm_raises():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as f:
                yield f
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes it private; give it the usual permissions
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_atomic(path: str | Path, text: str, *, newline: str | None = None) -> None:
    with atomic_open(path, newline=newline) as f:
        f.write(text)
