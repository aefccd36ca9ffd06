"""The results store: one SQLite file with runs, samples, replies and scores."""
from harness.store.db import DEFAULT_DB, Lease, LeaseHeld, Store, StoreError

__all__ = ["DEFAULT_DB", "Lease", "LeaseHeld", "Store", "StoreError"]
