#!/usr/bin/env bash
# Sets up everything from a fresh clone and runs the whole test suite: lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --tests

echo "== ruff"
.venv/bin/ruff check grader app workers tests bench assignments
echo "== mypy"
.venv/bin/mypy
# The slow stage (faults under real processes) runs first, so that the run's closing lines are those of
# the main suite. Its tests mostly wait for processes to start, die and recover, each on a service of its
# own, so two run at once. pytest exits 5 when a stage selects no test; that stage has nothing to fail.
status=0
echo "== slow tests (faults)"
.venv/bin/pytest -q -m slow -p no:cacheprovider -n 2 "$@" || { code=$?; [ "$code" -eq 5 ] || status=$code; }
echo "== tests"
.venv/bin/pytest -q -m "not slow" -p no:cacheprovider "$@" || status=$?
exit "$status"
