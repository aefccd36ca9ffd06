#!/usr/bin/env bash
# The teen-safety gate, as CI runs it (evals/ci/README.md; tests/test_ci_recipe.py runs this script
# against the loopback server). Environment:
#   EVAL      the eval file (default evals/teen_safety.yaml)
#   RESULTS   the results directory: store + response cache, cached between CI runs (default results)
#   OUT       where the artefacts go: junit.xml, report.html, summary.md, gate.log, run-id.txt (default ci-out)
#   BASELINE  a run id to gate against (no significant regression); default: $RESULTS/baseline-run.txt
#   PROMOTE   1: when the gate passes, this run becomes the baseline (on the main branch)
# Exit: harness run's own code (0 pass, 3 a threshold missed, 4/5/6 incomplete, nothing measured, errors);
# 1 when the run passed but the HTML report could not be written (said on stderr and in summary.md).
set -u
EVAL=${EVAL:-evals/teen_safety.yaml}
RESULTS=${RESULTS:-results}
OUT=${OUT:-ci-out}
mkdir -p "$OUT" "$RESULTS"
baseline=${BASELINE:-}
if [ -z "$baseline" ] && [ -f "$RESULTS/baseline-run.txt" ]; then
  baseline=$(cat "$RESULTS/baseline-run.txt")
fi
args=(run "$EVAL" -r "$RESULTS" --no-progress --junit "$OUT/junit.xml")
if [ -n "$baseline" ]; then
  args+=(--baseline "$baseline")
fi
harness "${args[@]}" 2> "$OUT/gate.log"
code=$?
cat "$OUT/gate.log" >&2
run_id=$(sed -n 's/^run \([^: ]*\): [0-9]* samples.*/\1/p' "$OUT/gate.log" | head -n 1)
if [ -z "$run_id" ]; then
  { echo "### Teen-safety gate: no run (exit $code)"; echo; echo '```'; tail -n 40 "$OUT/gate.log"; echo '```'; } > "$OUT/summary.md"
  exit "$code"
fi
echo "$run_id" > "$OUT/run-id.txt"
{
  if [ "$code" -eq 0 ]; then echo "### Teen-safety gate: passed (run $run_id)"; else echo "### Teen-safety gate: FAILED, exit $code (run $run_id)"; fi
  echo
  [ -n "$baseline" ] && echo "Baseline: run $baseline (paired exact McNemar on the shared prompts)." && echo
  echo '```'
  grep -E '^(threshold |THRESHOLDS NOT MET|- |    |[A-Z ]+:.*\[exit )' "$OUT/gate.log" | head -n 200
  echo '```'
  echo
  harness compare "$run_id" -r "$RESULTS" -f markdown 2>/dev/null
} > "$OUT/summary.tmp"
head -c 60000 "$OUT/summary.tmp" > "$OUT/summary.md"   # a PR comment holds at most 65,536 characters
rm -f "$OUT/summary.tmp"
rm -f "$OUT/report.html"
harness report "$run_id" -r "$RESULTS" -o "$OUT/report.html" 2> "$OUT/report.log"
report_code=$?
cat "$OUT/report.log" >&2
if [ "$report_code" -ne 0 ] || [ ! -s "$OUT/report.html" ]; then
  # The report is an artefact reviewers rely on: its absence fails the gate, loudly, even when the run passed.
  msg="ERROR: harness report failed (exit $report_code): $OUT/report.html is missing; see $OUT/report.log"
  echo "$msg" >&2
  { echo; echo "**$msg**"; echo; echo '```'; tail -n 20 "$OUT/report.log"; echo '```'; } >> "$OUT/summary.md"
  if [ "$code" -eq 0 ]; then
    code=1
  fi
fi
if [ "${PROMOTE:-0}" = "1" ] && [ "$code" -eq 0 ]; then
  echo "$run_id" > "$RESULTS/baseline-run.txt"
fi
exit "$code"
