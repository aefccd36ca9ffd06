"""Planning a run and executing it: asyncio, bounded concurrency per provider, results as they arrive."""
from harness.runner.plan import PlannedRun, plan_run
from harness.runner.execute import RunSummary, execute_run

__all__ = ["PlannedRun", "RunSummary", "execute_run", "plan_run"]
