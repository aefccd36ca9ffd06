"""Schema migrations, applied in order. The schema version is SQLite's `user_version`.

Never edit a migration that has shipped: add a new one. Each runs in its own transaction.
"""
from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        eval_name TEXT NOT NULL,
        eval_path TEXT,
        spec_json TEXT NOT NULL,
        scorers_json TEXT NOT NULL,
        repeats INTEGER NOT NULL,
        harness_version TEXT NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'incomplete', 'interrupted'))
    );
    CREATE TABLE run_suites (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        path TEXT NOT NULL,
        prompt_count INTEGER NOT NULL,
        PRIMARY KEY (run_id, name)
    );
    CREATE TABLE run_providers (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        label TEXT NOT NULL,
        model TEXT NOT NULL,
        config_json TEXT NOT NULL,
        identity_json TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        note TEXT,
        PRIMARY KEY (run_id, label)
    );
    CREATE TABLE samples (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        suite TEXT NOT NULL,
        prompt_id TEXT NOT NULL,
        category TEXT NOT NULL,
        provider TEXT NOT NULL,
        repeat INTEGER NOT NULL,
        prompt_json TEXT NOT NULL,
        UNIQUE (run_id, suite, prompt_id, provider, repeat)
    );
    CREATE INDEX samples_run_provider ON samples (run_id, provider);
    CREATE TABLE replies (
        sample_id INTEGER PRIMARY KEY REFERENCES samples(id) ON DELETE CASCADE,
        outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'provider_blocked', 'truncated', 'error')),
        text TEXT NOT NULL,
        reason TEXT,
        error_kind TEXT,
        finish_reason TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        latency_s REAL,
        ttft_s REAL,
        model_reported TEXT,
        attempts INTEGER NOT NULL,
        cost_usd REAL,
        raw_json TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE scores (
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        scorer TEXT NOT NULL,
        passed INTEGER,
        value REAL,
        label TEXT,
        explanation TEXT NOT NULL,
        evidence TEXT,
        severity TEXT,
        PRIMARY KEY (sample_id, scorer)
    );
    """,
    # 2: one writer per run. A process executing a run holds its lease (a random token, the holder's
    # process id and host, a heartbeat refreshed from a background thread); a second writer is refused
    # while the holder is alive, and a lease whose holder is dead (or silent too long) is taken over.
    """
    CREATE TABLE run_leases (
        run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
        token TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        command TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        heartbeat_at REAL NOT NULL
    );
    """,
    # 3: rescoring. A scoring is one pass of the scorers over a run's stored replies, made after the
    # run (harness rescore) with the rules and scorers of that moment; the scores written while the
    # run executed stay in `scores` (the original scoring) and are never overwritten.
    """
    CREATE TABLE scorings (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        scorers_json TEXT NOT NULL,
        rules_version TEXT,
        rules_hash TEXT,
        harness_version TEXT NOT NULL,
        judge_reused INTEGER NOT NULL DEFAULT 0,
        note TEXT
    );
    CREATE INDEX scorings_run ON scorings (run_id, id);
    CREATE TABLE scoring_scores (
        scoring_id INTEGER NOT NULL REFERENCES scorings(id) ON DELETE CASCADE,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        scorer TEXT NOT NULL,
        passed INTEGER,
        value REAL,
        label TEXT,
        explanation TEXT NOT NULL,
        evidence TEXT,
        severity TEXT,
        PRIMARY KEY (scoring_id, sample_id, scorer)
    );
    """,
    # 4: what the judge cost and how often it could not answer, per run and judge model. Each process
    # that judges (a run, a resume, a worker) adds its counts: harness/store/judge_usage.py.
    """
    CREATE TABLE judge_usage (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        judge TEXT NOT NULL,
        mode TEXT,
        calls INTEGER NOT NULL DEFAULT 0,
        cached INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        tokens_unknown INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        cost_unknown INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        verdicts INTEGER NOT NULL DEFAULT 0,
        unusable INTEGER NOT NULL DEFAULT 0,
        reasons_json TEXT NOT NULL DEFAULT '{}',
        start_error TEXT,
        PRIMARY KEY (run_id, judge)
    );
    """,
    # 5: live conversations (harness/runner/conversation.py). A conversation is one sample; each of its
    # assistant turns is stored as it arrives, as its own reply (turns) with its own scores
    # (turn_scores), so a killed run resumes at the next unsent turn. When the conversation ends, its
    # sample gets its reply (the conversation as a whole: summed tokens and cost, worst-turn scores) and
    # a conversations row: how many turns were planned and sent, how it ended, its first failing turns.
    """
    CREATE TABLE turns (
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        turn INTEGER NOT NULL,
        user_text TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'provider_blocked', 'truncated', 'error')),
        text TEXT NOT NULL,
        reason TEXT,
        error_kind TEXT,
        finish_reason TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        latency_s REAL,
        ttft_s REAL,
        model_reported TEXT,
        attempts INTEGER NOT NULL,
        cost_usd REAL,
        raw_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (sample_id, turn)
    );
    CREATE TABLE turn_scores (
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        turn INTEGER NOT NULL,
        scorer TEXT NOT NULL,
        passed INTEGER,
        value REAL,
        label TEXT,
        explanation TEXT NOT NULL,
        evidence TEXT,
        severity TEXT,
        PRIMARY KEY (sample_id, turn, scorer)
    );
    CREATE TABLE conversations (
        sample_id INTEGER PRIMARY KEY REFERENCES samples(id) ON DELETE CASCADE,
        planned_turns INTEGER NOT NULL,
        sent_turns INTEGER NOT NULL,
        ended TEXT NOT NULL CHECK (ended IN ('completed', 'error', 'blocked', 'empty_reply', 'simulator_failed')),
        ended_turn INTEGER,
        first_failing_turn INTEGER,
        first_critical_turn INTEGER,
        first_failing_json TEXT NOT NULL
    );
    """,
    # 6: the providers' batch APIs (harness/batch/). A batch row is written with its items and COMMITTED
    # before the provider is asked to create it (the intent: `token`, sent as the batch's tag); its
    # remote id is stored as soon as the provider accepts it, so a crash in between is reconciled by
    # finding the tag at the provider, never by a second paid submission. Samples of a batch not yet
    # `collected` are not pending for the live path; once its results are collected, the items with no
    # result (expired, cancelled) are pending again. `ignored_json` counts the result lines that were
    # ignored (an unknown custom id, a duplicate, a sample already answered).
    """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        provider TEXT NOT NULL,
        purpose TEXT NOT NULL CHECK (purpose IN ('reply', 'judge')),
        token TEXT NOT NULL UNIQUE,
        remote_id TEXT,
        state TEXT NOT NULL,
        collected INTEGER NOT NULL DEFAULT 0,
        counts_json TEXT NOT NULL DEFAULT '{}',
        ignored_json TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        submitted_at TEXT,
        expires_at TEXT,
        ended_at TEXT,
        note TEXT
    );
    CREATE INDEX batches_run ON batches (run_id, provider, collected);
    CREATE TABLE batch_items (
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        sample_id INTEGER NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
        custom_id TEXT NOT NULL,
        result TEXT,
        PRIMARY KEY (batch_id, custom_id)
    );
    CREATE INDEX batch_items_sample ON batch_items (sample_id);
    """,
]
