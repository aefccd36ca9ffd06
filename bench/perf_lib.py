"""Helpers for `bench/perf.py`: the benchmark server as a process, children measured with os.wait4,
suite / eval / transcript writers, machine info and the figure rows."""
from __future__ import annotations

import glob
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
KEY = "sk-bench-0000000000000000"
ENV = {**os.environ, "BENCH_KEY": KEY, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "COLUMNS": "200",
       "PYTHONPATH": str(REPO)}
# Children run in the work directory (so `python -m harness` finds the package through PYTHONPATH only).
CWD = {"dir": str(REPO)}


def snapshot(rev: str, dest: Path) -> str:
    """Extract the harness (and the prompts/ it reads) of commit `rev` into dest; returns the commit id.
    Benchmarks a commit, not a working tree others may be editing."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout.strip()
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "harness", "prompts"], cwd=REPO, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as err:
        raise MeasurementFailed(f"could not extract {rev}: {getattr(err, 'stderr', b'') or err}") from None
    (dest / "COMMIT").write_text(commit)
    return commit


def use_harness_from(src: Path, workdir: Path) -> None:
    """Benchmark the harness package found under `src` (default: this checkout)."""
    ENV["PYTHONPATH"] = str(src)
    CWD["dir"] = str(workdir)


# With vfork (Python's default where it can) a child's ru_maxrss starts at *this* process's peak RSS
# (the kernel keeps the pre-exec mm's high-water mark), so a driver that once held a big file would
# inflate every child's peak; fork copies only the current RSS, and the driver stays small.
if hasattr(subprocess, "_USE_VFORK"):
    subprocess._USE_VFORK = False


class MeasurementFailed(RuntimeError):
    """A measurement could not be made (a child failed, the server did not start)."""


# -- pinning ---------------------------------------------------------------------------------------
@dataclass
class Pinning:
    used: bool
    server_cpu: int | None = None
    client_cpu: int | None = None
    why_not: str = ""

    @classmethod
    def detect(cls, wanted: bool = True) -> "Pinning":
        if not wanted:
            return cls(False, why_not="--no-pin given")
        if not shutil.which("taskset"):
            return cls(False, why_not="taskset not found")
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if len(cpus) < 2:
            return cls(False, why_not=f"only {len(cpus)} CPU available")
        return cls(True, cpus[0], cpus[1])

    def server(self, cmd: list[str]) -> list[str]:
        return ["taskset", "-c", str(self.server_cpu), *cmd] if self.used else cmd

    def client(self, cmd: list[str]) -> list[str]:
        return ["taskset", "-c", str(self.client_cpu), *cmd] if self.used else cmd

    def describe(self) -> str:
        if self.used:
            return f"server on CPU {self.server_cpu}, clients on CPU {self.client_cpu} (taskset -c)"
        return f"no pinning ({self.why_not})"


# -- the benchmark server ---------------------------------------------------------------------------
class BenchServer:
    """`bench/perf_server.py` as its own (pinned) process; stats over GET /stats."""

    def __init__(self, workdir: Path, pin: Pinning, latency: float, rpm: float | None = None,
                 window: float = 60.0) -> None:
        self.ready = workdir / f"server-{time.monotonic_ns()}.port"
        cmd = [sys.executable, str(BENCH / "perf_server.py"), "--port", "0", "--latency", str(latency),
               "--ready-file", str(self.ready)]
        if rpm:
            cmd += ["--rpm", str(rpm), "--window", str(window)]
        self.log = open(workdir / "server.log", "ab")
        self.proc = subprocess.Popen(pin.server(cmd), stdout=self.log, stderr=self.log, cwd=REPO)
        deadline = time.monotonic() + 15
        while not self.ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise MeasurementFailed(f"benchmark server did not start (see {workdir / 'server.log'})")
            time.sleep(0.02)
        self.port = int(self.ready.read_text())
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _call(self, method: str, path: str) -> dict:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                     data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def reset(self) -> None:
        self._call("POST", "/reset")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self) -> "BenchServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -- children measured with wait4 -------------------------------------------------------------------
@dataclass
class Child:
    rc: int
    wall_s: float
    cpu_s: float           # user + sys of the child (taskset execs in place, so it is the Python process)
    maxrss_kib: int        # ru_maxrss, KiB on Linux
    started_mono: float
    stdout: str
    stderr: str
    killed: bool = False
    extra: dict = field(default_factory=dict)


def run_child(cmd: list[str], workdir: Path, *, env: dict | None = None, timeout: float = 900,
              stop_when: Any = None, poll_s: float = 0.05, grace_s: float = 30.0) -> Child:
    """Run cmd, reap it with os.wait4 (its own rusage). `stop_when()` -> True sends SIGTERM (SIGKILL
    `grace_s` later if it is still running)."""
    out_path, err_path = workdir / "child.out", workdir / "child.err"
    driver_rss = _rss_kib()  # a forked child's ru_maxrss cannot be below this (see _USE_VFORK above)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env or ENV, cwd=CWD["dir"])
        killed = False
        if stop_when is None:  # a blocking wait4: the wall time is not rounded up to a polling step
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            _, status, ru = os.wait4(proc.pid, 0)
            timer.cancel()
        else:
            term_at = None
            while True:
                pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if term_at is None and (stop_when() or time.monotonic() - started > timeout):
                    proc.send_signal(signal.SIGTERM)
                    killed, term_at = True, time.monotonic()
                elif term_at is not None and time.monotonic() - term_at > grace_s:
                    proc.kill()  # SIGTERM not honoured in time
                    term_at = float("inf")
                time.sleep(poll_s)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Child(proc.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, started,
                 _tail(out_path), _tail(err_path), killed, {"driver_rss_kib_at_spawn": driver_rss})


def _tail(path: Path, limit: int = 1 << 16) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - limit))
        return f.read().decode("utf-8", errors="replace")


def _rss_kib() -> int | None:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return None


def harness_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness", *args]


def check(child: Child, what: str, ok_codes: tuple[int, ...] = (0,)) -> Child:
    if child.rc not in ok_codes and not child.killed:
        tail = (child.stderr.strip() or child.stdout.strip())[-800:]
        raise MeasurementFailed(f"{what} exited {child.rc}: {tail}")
    return child


# -- inputs ----------------------------------------------------------------------------------------
def base_prompts() -> list[dict]:
    """The teen-safety and teen-helpfulness prompts (built-in categories, rules, metadata), as written."""
    rows = []
    for path in sorted(glob.glob(str(REPO / "prompts/teen_safety/*.yaml"))
                       + glob.glob(str(REPO / "prompts/teen_helpfulness/*.yaml"))):
        if path.endswith("suite.yaml"):
            continue
        for p in (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("prompts", []):
            rows.append({k: p[k] for k in ("id", "category", "input", "rules", "metadata") if k in p})
    if not rows:
        raise MeasurementFailed("no prompts found under prompts/teen_safety and prompts/teen_helpfulness")
    return rows


def write_suite(path: Path, n: int, *, text_only: bool = False) -> Path:
    """A JSONL suite of n prompts cycling through the built-in ones (unique ids and texts, target '42')."""
    base = base_prompts()
    if text_only:
        base = [p for p in base if isinstance(p["input"], str)]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            p = dict(base[i % len(base)])
            p["id"] = f"{p['id']}-{i}"
            p["target"] = "42"
            # Every request distinct: the harness's cache would otherwise answer a repeated prompt itself.
            tag = f" (#{i})"
            if isinstance(p["input"], str):
                p["input"] += tag
            else:
                p["input"] = [dict(m) for m in p["input"]]
                p["input"][-1]["content"] += tag
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    return path


def write_eval(path: Path, suite: Path, *, model: str = "openai/bench", base_url: str | None = None,
               concurrency: int = 64, scorers: list[str], stream: bool = False, rpm: float | None = None,
               params: dict | None = None, options: dict | None = None) -> Path:
    provider: dict[str, Any] = {"model": model}
    if base_url:
        provider.update(base_url=base_url, api_key_env="BENCH_KEY", concurrency=concurrency,
                        max_concurrency=concurrency, stream=stream)
    if rpm:
        provider["rpm"] = rpm
    if options:
        provider["options"] = options
    spec: dict[str, Any] = {"name": "perf", "suites": [str(suite)], "providers": [provider], "scorers": scorers}
    if params:
        spec["defaults"] = params
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def write_transcripts(path: Path, n: int) -> Path:
    """n rows of prompt / reply / category: gold prompts paired with gold and canned replies (refusals,
    compliant answers, harmful-looking ones), shuffled pairings so rows differ."""
    gold = []
    for name in ("dev.jsonl", "holdout.jsonl"):
        p = REPO / "prompts/gold/teen_safety" / name
        if p.exists():
            gold += [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    from perf_server import REPLIES  # noqa: E402  (bench/ is on sys.path when perf.py runs)

    if not gold:
        gold = [{"prompt": p["input"], "category": p["category"], "reply": REPLIES[i % len(REPLIES)]}
                for i, p in enumerate(base_prompts()) if isinstance(p["input"], str)]
    replies = [g["reply"] for g in gold] + REPLIES
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            g = gold[i % len(gold)]
            reply = replies[(i * 7 + i // len(gold)) % len(replies)]
            f.write(json.dumps({"id": f"r{i}", "prompt": g["prompt"], "reply": reply,
                                "category": g["category"]}, ensure_ascii=False) + "\n")
    return path


# -- reporting -------------------------------------------------------------------------------------
def machine_info(pin: Pinning) -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def git(*a: str) -> str | None:
        try:
            done = subprocess.run(["git", *a], cwd=ENV["PYTHONPATH"], capture_output=True, text=True, timeout=10)
            return done.stdout.strip() if done.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            return None

    marker = Path(ENV["PYTHONPATH"]) / "COMMIT"  # a snapshot() of a commit
    commit = marker.read_text().strip() if marker.exists() else git("rev-parse", "HEAD")
    dirty = False if marker.exists() else bool(git("status", "--porcelain", "--", "harness"))
    versions = {}
    for dist in ("openai", "httpx2", "httpx", "llama_cpp_python", "pydantic"):
        try:
            from importlib.metadata import version
            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001
            pass
    return {"cpu_model": cpu, "cores": os.cpu_count(),
            "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "python": sys.version.split()[0], "python_executable": sys.executable, "platform": platform.platform(),
            "harness_src": ENV["PYTHONPATH"], "harness_commit": commit, "harness_dirty": dirty,
            "packages": versions, "pinning": pin.used, "pinning_detail": pin.describe()}


def machine_busy_s() -> float | None:
    """CPU-seconds all processes have used since boot (/proc/stat), to tell how much others used meanwhile."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU-seconds of this driver and every child it reaped (servers, clients, harness runs)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def row(figure: str, measured: float | None, target: str, unit: str = "", *, ok: bool | None = None,
        fmt: str = "{:.2f}", note: str = "", status: str | None = None) -> dict:
    """One line of the figures table. ok=None: no target (info)."""
    if status is None:
        status = "info" if ok is None else ("PASS" if ok else "MISS")
    text = "" if measured is None else fmt.format(measured) + (f" {unit}" if unit else "")
    return {"figure": figure, "measured": text, "value": measured, "unit": unit, "target": target,
            "status": status, "note": note}


def not_measured(figure: str, target: str, why: str) -> dict:
    return {"figure": figure, "measured": f"not measured: {why}", "value": None, "unit": "", "target": target,
            "status": "not measured", "note": why}


def failed(figure: str, target: str, why: str) -> dict:
    return {"figure": figure, "measured": "FAILED", "value": None, "unit": "", "target": target,
            "status": "FAILED", "note": why}


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "-+-".join("-" * w for w in widths)
    out = [" | ".join(h.ljust(w) for h, w in zip(headers, widths)), line]
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)
