#!/usr/bin/env bash
# Line coverage of grader/, app/ and workers/ over the whole suite, the processes the tests start included
# (pyproject.toml, [tool.coverage.run]). Prints the report per module; arguments go to pytest.
#   ./scripts/coverage.sh                      # everything (about 30 minutes on 2 cores)
#   ./scripts/coverage.sh tests/grader -m "not slow"
set -euo pipefail
cd "$(dirname "$0")/.."

rm -rf .coverage-data
mkdir .coverage-data
# Every process writes its own file here, whatever folder it runs in.
export COVERAGE_FILE="$PWD/.coverage-data/coverage"
status=0
.venv/bin/coverage run -m pytest -q -p no:cacheprovider "$@" || status=$?
.venv/bin/coverage combine --quiet
.venv/bin/coverage report --sort=cover
exit "$status"
