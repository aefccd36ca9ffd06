"""Performance figures of the harness against their targets (GitHub issue 14): one table, one JSON file.

    python bench/perf.py                       # default sizes (several minutes on 2 cores)
    python bench/perf.py --quick               # small sizes: a smoke run of a minute or two
    python bench/perf.py --only throughput,score --json out.json

Every figure runs the harness as a user would, as a subprocess (``python -m harness run EVAL.yaml
--results DIR --no-progress``), against ``bench/perf_server.py`` (a lean asyncio OpenAI-compatible server
answering after a fixed latency), with the eval's provider ``openai/bench`` pointed at it. The server is
pinned to one CPU and the clients to another (``taskset -c``) where possible. Sections:

* throughput -- req/s at each concurrency: bare ``openai`` SDK (bench/perf_client.py) vs harness with the
  light scorer ``contains`` vs harness with ``teen_safety`` + ``refusal``, repetitions interleaved; CPU
  per request of each child from ``os.wait4`` (figures 1 and 2).
* startup -- ``python -m harness --help`` wall time; process start to first request at the server (3).
* cache -- a cached rerun of the same eval (cache on, a new run) timed as a whole process (4).
* score -- ``harness score FILE --scorer teen_safety --scorer refusal -o OUT``, replies/s (5).
* memory -- peak RSS and time to first request for large evals (6).
* ratelimit -- the server enforces rpm (sliding window, 429 + retry-after); the eval sets ``rpm`` (7).
* llama -- tokens/s through the harness vs llama-cpp-python directly on the same GGUF (8).

Exit status: 0 when every section ran (a missed target prints MISS, still 0); 1 when a measurement
failed to run; "not measured: why" rows (no taskset, no llama_cpp) do not fail the run.
"""
from __future__ import annotations

import argparse
import datetime
import json
import re
import resource
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perf_lib import (BENCH, REPO, BenchServer, MeasurementFailed, Pinning, check, failed, harness_cmd,  # noqa: E402
                      machine_busy_s, machine_info, median, own_cpu_s, row, run_child, snapshot, table, use_harness_from, write_eval,
                      write_suite, write_transcripts)

SECTIONS = ("throughput", "startup", "cache", "score", "memory", "ratelimit", "llama")
ALIASES = {"cpu": "throughput", "rss": "memory", "rate": "ratelimit", "start": "startup", "llm": "llama"}
LIGHT, TEEN = ["contains"], ["teen_safety", "refusal"]
CLIENTS = {"bare": "bare openai SDK", "light": "harness, contains", "teen": "harness, teen_safety+refusal"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Harness performance figures vs targets (issue 14).",
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run (~1-2 min)")
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ", ".join(SECTIONS))
    ap.add_argument("--json", type=Path, default=None, help="default: bench/results/perf-<date>.json")
    ap.add_argument("--no-pin", action="store_true", help="do not pin server and clients to CPUs")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--harness-src", type=Path, default=None, help="benchmark the harness package under this "
                    "directory (default: this checkout's working tree)")
    ap.add_argument("--harness-rev", default=None, help="benchmark this commit (e.g. HEAD): its harness/ and "
                    "prompts/ are extracted with git archive, so edits in progress are left out")
    g = ap.add_argument_group("throughput / CPU")
    g.add_argument("--requests", type=int, help="requests per run (default 2000; quick 200)")
    g.add_argument("--concurrency", default="64,256")
    g.add_argument("--reps", type=int, help="interleaved repetitions (default 3; quick 1)")
    g.add_argument("--latency", type=float, default=0.1, help="server latency, seconds")
    g.add_argument("--stream", action="store_true", help="stream replies (SSE) in both bare SDK and harness")
    g = ap.add_argument_group("other sections")
    g.add_argument("--startup-reps", type=int, help="default 5; quick 3")
    g.add_argument("--cache-samples", type=int, help="default 10000; quick 2000")
    g.add_argument("--cache-scorers", default="contains", help="scorers of the cached-rerun eval")
    g.add_argument("--score-rows", type=int, help="default 20000; quick 1000")
    g.add_argument("--score-budget", type=float, help="seconds: score fewer rows when the asked number would "
                   "take longer at the rate of a 1,000-row pilot (default 90; quick 20)")
    g.add_argument("--memory-sizes", help="eval sizes (default 20000,100000; quick 2000,10000)")
    g.add_argument("--memory-requests", type=int, help="stop (SIGTERM) once this many requests arrived "
                   "(default 3000; quick 300)")
    g.add_argument("--stall-s", type=float, default=60.0, help="memory runs: stop and fail when no request "
                   "arrives for this long")
    g.add_argument("--rpm", type=float, default=600)
    g.add_argument("--rl-window", type=float, default=10.0, help="server sliding window, seconds "
                   "(limit rpm*window/60 per window)")
    g.add_argument("--rl-seconds", type=float, help="length of the rate-limited run (default 40; quick 12)")
    g.add_argument("--gguf", type=Path, help="a GGUF for the llama figure (default: the tiny test model)")
    g.add_argument("--llama-prompts", type=int, help="default 60 (8 with --gguf); quick 20 (4 with --gguf)")
    g.add_argument("--llama-max-tokens", type=int, help="default 256 (128 with --gguf)")
    g.add_argument("--llama-n-ctx", type=int, default=512)
    a = ap.parse_args(argv)
    q = a.quick
    for name, full, quick in (("requests", 2000, 200), ("reps", 3, 1), ("startup_reps", 5, 3),
                              ("cache_samples", 10000, 2000), ("score_rows", 20000, 1000),
                              ("memory_sizes", "20000,100000", "2000,10000"), ("memory_requests", 3000, 300),
                              ("score_budget", 90.0, 20.0),
                              ("rl_seconds", 40.0, 20.0),
                              ("llama_prompts", 8 if a.gguf else 60, 4 if a.gguf else 20),
                              ("llama_max_tokens", 128 if a.gguf else 256, 128 if a.gguf else 256)):
        if getattr(a, name) is None:
            setattr(a, name, quick if q else full)
    a.concurrency = [int(c) for c in str(a.concurrency).split(",") if c.strip()]
    a.memory_sizes = [int(s) for s in str(a.memory_sizes).split(",") if s.strip()]
    a.sections = []
    for s in a.only.split(","):
        s = ALIASES.get(s.strip(), s.strip())
        if s and s not in SECTIONS:
            ap.error(f"unknown section {s!r}; known: {', '.join(SECTIONS)}")
        if s and s not in a.sections:
            a.sections.append(s)
    return a


# -- 1, 2: throughput and CPU per request ------------------------------------------------------------
def sec_throughput(a, pin, work: Path, detail: dict) -> list[dict]:
    n, cs = a.requests, a.concurrency
    suite, one = write_suite(work / "tp.jsonl", n), write_suite(work / "tp1.jsonl", 1)
    runs: list[dict] = []
    startup: dict[str, list[float]] = {k: [] for k in CLIENTS}
    with BenchServer(work, pin, a.latency) as srv:
        def once(client: str, c: int, prompts: Path, expect: int, tag: str) -> dict:
            srv.reset()
            if client == "bare":
                cmd = [sys.executable, str(BENCH / "perf_client.py"), "--base-url", srv.base_url,
                       "--concurrency", str(c), "--prompts", str(prompts)] + (["--stream"] if a.stream else [])
                child = check(run_child(pin.client(cmd), work), "bare SDK client")
                out = json.loads(child.stdout.strip().splitlines()[-1])
                if out["errors"]:
                    raise MeasurementFailed(f"bare SDK client: {out['errors']} requests failed")
            else:
                ev = write_eval(work / f"tp-{client}-{c}-{tag}.yaml", prompts, base_url=srv.base_url,
                                concurrency=c, scorers=LIGHT if client == "light" else TEEN, stream=a.stream)
                results = work / f"r-{client}-{c}-{tag}"
                child = check(run_child(pin.client(harness_cmd("run", str(ev), "--results", str(results),
                                                               "--no-progress")), work), f"harness run ({client})")
                shutil.rmtree(results, ignore_errors=True)
            st = srv.stats()
            if st["ok"] != expect or st["requests"] != expect:
                raise MeasurementFailed(f"{client}, C={c}: server saw {st['requests']} requests, {st['ok']} "
                                        f"answered, expected {expect}")
            window = st["last_done_mono"] - st["first_mono"]
            return {"client": client, "C": c, "requests": expect, "wall_s": child.wall_s, "cpu_s": child.cpu_s,
                    "maxrss_kib": child.maxrss_kib, "server_window_s": window,
                    "rps_server": expect / window if window > 0 else None, "rps_wall": expect / child.wall_s,
                    "ttfr_s": st["first_mono"] - child.started_mono, "max_in_flight": st["max_in_flight"],
                    "connections": st["connections"], "server_cpu_s": st["cpu_s"],
                    "server_busy": st["cpu_s"] / window if window > 0 else None}

        for rep in range(a.reps):  # start-up-only runs (1 request), interleaved like the others
            for client in CLIENTS:
                startup[client].append(once(client, cs[0], one, 1, f"s{rep}")["cpu_s"])
        for c in cs:
            for rep in range(a.reps):
                for client in CLIENTS:
                    r = once(client, c, suite, n, str(rep))
                    r["rep"] = rep
                    runs.append(r)
                    print(f"  throughput C={c} rep {rep + 1}/{a.reps} {client:5}: {r['rps_server']:7.1f} req/s "
                          f"(server window), {r['rps_wall']:7.1f} req/s (wall), {r['cpu_s'] / n * 1000:.2f} ms CPU/req",
                          file=sys.stderr, flush=True)
    startup_cpu = {k: median(v) for k, v in startup.items()}
    for r in runs:
        r["cpu_ms_per_req"] = r["cpu_s"] / n * 1000
        r["cpu_ms_per_req_minus_startup"] = (r["cpu_s"] - startup_cpu[r["client"]]) / max(1, n - 1) * 1000
    detail["throughput"] = {"requests": n, "latency_s": a.latency, "stream": a.stream, "reps": a.reps,
                            "startup_only_cpu_s": startup_cpu, "runs": runs}

    def pick(client: str, c: int | None = None, key: str = "rps_server") -> list[float]:
        return [r[key] for r in runs if r["client"] == client and (c is None or r["C"] == c)]

    rows, tp_rows = [], []
    for c in cs:
        bare_s, bare_w = median(pick("bare", c)), median(pick("bare", c, "rps_wall"))
        for client in CLIENTS:
            s, w = pick(client, c), pick(client, c, "rps_wall")
            tp_rows.append([CLIENTS[client], str(c), f"{median(s):.1f}", f"{min(s):.1f}-{max(s):.1f}",
                            f"{median(s) / bare_s:.3f}", f"{median(w):.1f}", f"{median(w) / bare_w:.3f}",
                            f"{median(pick(client, c, 'cpu_ms_per_req')):.2f}"])
        for client, target in (("teen", True), ("light", False)):
            ratio = median(pick(client, c)) / bare_s
            rows.append(row(f"1. throughput ratio {CLIENTS[client]} / bare SDK, C={c} (server window)", ratio,
                            ">= 0.90" if target else "(info)", ok=(ratio >= 0.90) if target else None, fmt="{:.3f}",
                            note=f"{median(pick(client, c)):.0f} vs {bare_s:.0f} req/s; wall-time ratio "
                                 f"{median(pick(client, c, 'rps_wall')) / bare_w:.3f}"))
    detail["throughput"]["table"] = tp_rows
    bare_w, bare_s = median(pick("bare", key="cpu_ms_per_req")), median(pick("bare", key="cpu_ms_per_req_minus_startup"))
    for client in ("teen", "light"):
        whole = median(pick(client, key="cpu_ms_per_req")) - bare_w
        net = median(pick(client, key="cpu_ms_per_req_minus_startup")) - bare_s
        note = f"harness {net + bare_s:.2f} - SDK {bare_s:.2f} ms/req"
        # With few requests the start-up run's CPU (which varies by tens of ms) swamps the work measured.
        noisy = n < 1000 or bare_s <= 0 or net + bare_s <= 0
        rows.append(row(f"2. CPU/request beyond SDK, {CLIENTS[client]} (start-up run subtracted)", net,
                        "<= 0.3 ms", "ms", ok=net <= 0.3, status="unreliable" if noisy else None,
                        note=note + ("; too few requests for a start-up subtraction (>= 1000 needed)"
                                     if noisy else "")))
        rows.append(row(f"2. CPU/request beyond SDK, {CLIENTS[client]} (whole process / N)", whole,
                        "<= 0.3 ms", "ms", ok=whole <= 0.3, note=f"harness {whole + bare_w:.2f} - SDK {bare_w:.2f} ms/req"))
    return rows


# -- 3: start-up -------------------------------------------------------------------------------------
def sec_startup(a, pin, work: Path, detail: dict) -> list[dict]:
    helps = [check(run_child(pin.client(harness_cmd("--help")), work), "harness --help").wall_s
             for _ in range(a.startup_reps)]
    suite = write_suite(work / "st.jsonl", 10)
    ttfr, bare = [], []
    with BenchServer(work, pin, 0.01) as srv:
        for rep in range(a.startup_reps):
            for client in ("teen", "bare"):
                srv.reset()
                if client == "bare":
                    cmd = [sys.executable, str(BENCH / "perf_client.py"), "--base-url", srv.base_url,
                           "--concurrency", "4", "--prompts", str(suite)]
                else:
                    ev = write_eval(work / "st.yaml", suite, base_url=srv.base_url, concurrency=4, scorers=TEEN)
                    cmd = harness_cmd("run", str(ev), "--results", str(work / f"r-st{rep}"), "--no-progress")
                child = check(run_child(pin.client(cmd), work), f"start-up run ({client})")
                (bare if client == "bare" else ttfr).append(srv.stats()["first_mono"] - child.started_mono)
    detail["startup"] = {"help_wall_s": helps, "ttfr_s": ttfr, "bare_sdk_ttfr_s": bare, "eval_prompts": 10}
    return [row("3. start-up: python -m harness --help (median wall)", median(helps), "(info)", "s", ok=None,
                note=f"min {min(helps):.2f} s over {len(helps)}"),
            row("3. start-up: process start -> first request, 10-prompt eval", median(ttfr), "(info)", "s", ok=None,
                note=f"bare SDK script: {median(bare):.2f} s")]


# -- 4: cached rerun ------------------------------------------------------------------------------------
def sec_cache(a, pin, work: Path, detail: dict) -> list[dict]:
    n = a.cache_samples
    scorers = [s.strip() for s in a.cache_scorers.split(",") if s.strip()]
    suite, results = write_suite(work / "cache.jsonl", n), work / "r-cache"
    with BenchServer(work, pin, 0.0) as srv:
        ev = write_eval(work / "cache.yaml", suite, base_url=srv.base_url, concurrency=256, scorers=scorers)
        fill = check(run_child(pin.client(harness_cmd("run", str(ev), "--results", str(results), "--no-progress")),
                               work), "cache fill run")
        filled = srv.stats()["ok"]
        if filled != n:
            raise MeasurementFailed(f"the cache-fill run of {n} samples made {filled} requests")
        srv.reset()
        rerun = check(run_child(pin.client(harness_cmd("run", str(ev), "--results", str(results), "--no-progress")),
                                work), "cached rerun")
        sent = srv.stats()["requests"]
    m = re.search(r"(\d+) replies from the cache", rerun.stderr)
    hits = int(m.group(1)) if m else None
    detail["cache"] = {"samples": n, "scorers": scorers, "fill_wall_s": fill.wall_s, "fill_requests": filled,
                       "rerun_wall_s": rerun.wall_s, "rerun_cpu_s": rerun.cpu_s, "rerun_requests_sent": sent,
                       "rerun_cache_hits": hits, "rerun_maxrss_kib": rerun.maxrss_kib}
    if sent:
        note = f"WARNING: the rerun still sent {sent} requests"
    else:
        note = f"0 requests sent, {hits} from the cache; fill run {fill.wall_s:.1f} s"
    return [row(f"4. cached rerun of {n:,} samples ({'+'.join(scorers)}), whole process", rerun.wall_s, "< 3 s",
                "s", ok=rerun.wall_s < 3 and not sent, note=note + ("" if n >= 10000 else "; target is for 10,000"))]


# -- 5: harness score ------------------------------------------------------------------------------------
def sec_score(a, pin, work: Path, detail: dict) -> list[dict]:
    n = a.score_rows

    def score(rows: int, tag: str):
        path, out = write_transcripts(work / f"score{tag}.jsonl", rows), work / f"score{tag}.out.jsonl"
        child = check(run_child(pin.client(harness_cmd("score", str(path), "--scorer", "teen_safety", "--scorer",
                                                       "refusal", "-o", str(out))), work), "harness score")
        with open(out, "rb") as f:  # streamed: the driver stays small (see perf_lib on ru_maxrss)
            wrote = sum(1 for line in f if line.strip())
        out.unlink()
        if wrote != rows:
            raise MeasurementFailed(f"harness score wrote {wrote} rows for {rows}")
        return child

    one = score(1, "1")
    pilot_n = min(n, 1000)
    full = pilot = score(pilot_n, "pilot")
    rate = (pilot_n - 1) / max(1e-6, pilot.wall_s - one.wall_s)
    size, capped = pilot_n, ""
    if n > pilot_n:  # a time budget: the rate is the figure, not how long a slow scorer can be watched
        size = n if n / rate <= 1.5 * a.score_budget else max(pilot_n, int(rate * a.score_budget))
        if size < n:
            capped = (f"; {n:,} rows would take ~{n / rate:.0f} s at the pilot's rate, so {size:,} were scored "
                      f"(--score-budget {a.score_budget:g} s)")
        if size > pilot_n:
            full = score(size, "")
    net = full.wall_s - one.wall_s
    detail["score"] = {"rows_asked": n, "rows": size, "wall_s": full.wall_s, "cpu_s": full.cpu_s,
                       "one_row_wall_s": one.wall_s, "pilot_rows": pilot_n, "pilot_wall_s": pilot.wall_s,
                       "maxrss_kib": full.maxrss_kib}
    return [row(f"5. harness score {size:,} rows, teen_safety+refusal (wall, start-up included)", size / full.wall_s,
                ">= 5000/s", "replies/s", ok=size / full.wall_s >= 5000, fmt="{:,.0f}",
                note=f"wall {full.wall_s:.1f} s{capped}"),
            row(f"5. harness score {size:,} rows (minus a 1-row run's {one.wall_s:.2f} s)",
                (size - 1) / net if net > 0 else None, ">= 5000/s", "replies/s",
                ok=net > 0 and (size - 1) / net >= 5000, fmt="{:,.0f}")]


# -- 6: peak RSS and time to first request for big evals ---------------------------------------------------
def sec_memory(a, pin, work: Path, detail: dict) -> list[dict]:
    rows, detail["memory"] = [], []
    with BenchServer(work, pin, 0.005) as srv:
        for size in a.memory_sizes:
            big = size >= 100000
            try:
                rows += one_size(a, pin, work, detail, srv, size, big)
            except MeasurementFailed as err:  # the other sizes still run
                rows.append(failed(f"6. peak RSS / first request, {size:,}-sample eval",
                                   "< 300 MB; <= 2 s" if big else "(info)", str(err)))
    return rows


def one_size(a, pin, work: Path, detail: dict, srv: BenchServer, size: int, big: bool) -> list[dict]:
    suite = write_suite(work / f"mem{size}.jsonl", size)
    ev = write_eval(work / f"mem{size}.yaml", suite, base_url=srv.base_url, concurrency=64, scorers=TEEN)
    stop_at = min(size, a.memory_requests)
    srv.reset()
    last, seen, stalled = [0.0], [0, time.monotonic()], []

    def enough() -> bool:  # poll the server at most every 0.2 s
        now = time.monotonic()
        if now - last[0] < 0.2:
            return False
        last[0] = now
        ok = srv.stats()["ok"]
        if ok != seen[0]:
            seen[:] = [ok, now]
        elif ok and now - seen[1] > a.stall_s:
            stalled.append(ok)
            return True
        return stop_at < size and ok >= stop_at

    child = run_child(pin.client(harness_cmd("run", str(ev), "--results", str(work / f"r-mem{size}"),
                                             "--no-progress")), work, stop_when=enough)
    shutil.rmtree(work / f"r-mem{size}", ignore_errors=True)
    check(child, f"harness run of {size} samples")
    st = srv.stats()
    if not st["first_mono"]:
        raise MeasurementFailed(f"{size} samples: no request reached the server")
    ttfr, mb = st["first_mono"] - child.started_mono, child.maxrss_kib * 1024 / 1e6
    detail["memory"].append({"samples": size, "requests_answered": st["ok"], "stopped_with_sigterm": child.killed,
                             "stalled": bool(stalled), "maxrss_kib": child.maxrss_kib, "ttfr_s": ttfr,
                             "wall_s": child.wall_s, "rc": child.rc, **child.extra})
    if stalled:
        raise MeasurementFailed(f"the harness stalled: no request for {a.stall_s:g} s after {stalled[0]} replies "
                                f"(peak RSS by then {mb:.0f} MB, first request after {ttfr:.1f} s)")
    how = f"SIGTERM after {st['ok']:,} replies" if child.killed else f"ran to the end ({st['ok']:,} replies)"
    return [row(f"6. peak RSS, {size:,}-sample eval (teen scorers)", mb, "< 300 MB" if big else "(info)",
                "MB", ok=(mb < 300) if big else None, fmt="{:.0f}",
                note=f"{how}; MB = 10^6 bytes ({child.maxrss_kib / 1024:.0f} MiB)"),
            row(f"6. time to first request, {size:,}-sample eval", ttfr, "<= 2 s" if big else "(info)",
                "s", ok=(ttfr <= 2) if big else None)]


# -- 7: rate-limit efficiency ----------------------------------------------------------------------------
def sec_ratelimit(a, pin, work: Path, detail: dict) -> list[dict]:
    n = max(2, int(a.rpm * a.rl_seconds / 60))
    suite = write_suite(work / "rl.jsonl", n)
    with BenchServer(work, pin, 0.05, rpm=a.rpm, window=a.rl_window) as srv:
        ev = write_eval(work / "rl.yaml", suite, base_url=srv.base_url, concurrency=8, scorers=LIGHT, rpm=a.rpm)
        child = check(run_child(pin.client(harness_cmd("run", str(ev), "--results", str(work / "r-rl"),
                                                       "--no-progress")), work), "rate-limited run")
        st = srv.stats()
    if st["ok"] != n:
        raise MeasurementFailed(f"the rate-limited run of {n} samples got {st['ok']} replies "
                                f"({st['rejected_429']} 429s)")
    span = st["last_accepted_mono"] - st["first_mono"]
    achieved = (st["ok"] - 1) / span * 60 if span > 0 else None
    share429 = st["rejected_429"] / st["requests"] if st["requests"] else None
    detail["ratelimit"] = {"rpm": a.rpm, "window_s": a.rl_window, "limit_per_window": st.get("limit"),
                           "samples": n, **{k: st[k] for k in ("requests", "ok", "rejected_429")},
                           "accepted_span_s": span, "achieved_rpm": achieved, "wall_s": child.wall_s}
    how = (f"server: sliding {a.rl_window:g} s window, <= {a.rpm * a.rl_window / 60:g} accepted per window; "
           f"{st['ok']} accepted in {span:.1f} s")
    return [row(f"7. achieved rate / rpm {a.rpm:g} (first -> last accepted request)",
                achieved / a.rpm * 100 if achieved else None, ">= 95 %", "%", ok=bool(achieved)
                and achieved / a.rpm >= 0.95, fmt="{:.1f}", note=how),
            row("7. share of requests answered 429", share429 * 100 if share429 is not None else None, "< 2 %", "%",
                ok=share429 is not None and share429 < 0.02, fmt="{:.2f}",
                note=f"{st['rejected_429']} of {st['requests']} requests")]


from perf_llama import sec_llama  # noqa: E402  (figure 8, next to the direct llama-cpp-python script)

RUNNERS = {"throughput": sec_throughput, "startup": sec_startup, "cache": sec_cache, "score": sec_score,
           "memory": sec_memory, "ratelimit": sec_ratelimit, "llama": sec_llama}


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="harness-perf-"))
    src = (a.harness_src or REPO).resolve()
    if a.harness_rev:
        try:
            snapshot(a.harness_rev, work / "src")
        except MeasurementFailed as err:
            print(err, file=sys.stderr)
            return 2
        src = work / "src"
    if not (src / "harness" / "__main__.py").exists():
        print(f"no harness package under {src}", file=sys.stderr)
        return 2
    use_harness_from(src, work)
    pin = Pinning.detect(not a.no_pin)
    started = datetime.datetime.now()
    busy0, own0, mono0 = machine_busy_s(), own_cpu_s(), time.monotonic()
    info = machine_info(pin)
    detail: dict = {}
    rows: list[dict] = []
    print(f"bench/perf.py: sections {', '.join(a.sections)}{' (quick)' if a.quick else ''}; {pin.describe()}; "
          f"work dir {work}", file=sys.stderr, flush=True)
    try:
        for name in a.sections:
            t = time.monotonic()
            print(f"[{name}] ...", file=sys.stderr, flush=True)
            try:
                rows += RUNNERS[name](a, pin, work, detail)
            except Exception as err:  # noqa: BLE001 - reported as FAILED, the other sections still run
                msg = f"{type(err).__name__}: {err}"
                if not isinstance(err, MeasurementFailed):
                    traceback.print_exc()
                rows.append(failed(f"{name}", "-", msg[:300]))
            detail.setdefault("section_seconds", {})[name] = time.monotonic() - t
            print(f"[{name}] {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    total = (datetime.datetime.now() - started).total_seconds()
    out = a.json or BENCH / "results" / f"perf-{started:%Y-%m-%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    info["driver_peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    busy1 = machine_busy_s()
    # Other processes' CPU meanwhile: the figures are only as clean as the machine was quiet.
    others = (busy1 - busy0) - (own_cpu_s() - own0) if busy0 is not None and busy1 is not None else None
    info["other_processes_cpu_s"] = others
    info["other_processes_share"] = others / ((time.monotonic() - mono0) * (info["cores"] or 1)) if others else None
    out.write_text(json.dumps({"date": started.isoformat(timespec="seconds"), "total_s": total, "quick": a.quick,
                               "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
                               "machine": info, "figures": rows, "detail": detail}, indent=1, default=str))
    print(f"\nharness performance ({'quick' if a.quick else 'default'} sizes) -- {info['cpu_model']}, "
          f"{info['cores']} cores, Python {info['python']}, harness "
          + (f"{info['harness_commit'][:10]}{' + uncommitted changes' if info['harness_dirty'] else ''}"
             if info["harness_commit"] else f"from {info['harness_src']} (commit unknown)") + f"; {pin.describe()}")
    if info["other_processes_share"] is not None:
        share = info["other_processes_share"]
        print(f"other processes used {max(0.0, info['other_processes_cpu_s']):.0f} CPU-s during the run "
              f"({max(0.0, share) * 100:.0f}% of the machine)" + ("; WARNING: a busy machine, the figures are noisy"
                                                              if share > 0.1 else ""))
    notes = []
    for r in rows:
        if r["note"]:
            notes.append(" ".join(str(r["note"]).split()))
            r["ref"] = str(len(notes))
    print(table(["figure", "measured", "target", "status", "note"],
                [[r["figure"], r["measured"], r["target"], r["status"], r.get("ref", "")] for r in rows]))
    print("\n".join(f"  [{i}] {n}" for i, n in enumerate(notes, 1)))
    if "throughput" in detail and "table" in detail["throughput"]:
        tp = detail["throughput"]
        print(f"\nthroughput: {tp['requests']} requests per run, server latency {tp['latency_s'] * 1000:.0f} ms, "
              f"{'streamed' if tp['stream'] else 'not streamed'}, median of {tp['reps']} interleaved runs; req/s = "
              "requests / (first request arrives -> last reply sent, at the server): the steady state; wall = "
              "requests / whole process time (start-up included); the server's own CPU was at most "
              f"{max(r['server_busy'] or 0 for r in tp['runs']) * 100:.0f}% of its core during a run window")
        print(table(["client", "C", "req/s", "spread (min-max)", "ratio", "req/s wall", "ratio wall", "CPU ms/req"],
                    tp["table"]))
    print(f"\n{total:.0f} s; JSON: {out}")
    return 1 if any(r["status"] == "FAILED" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
