#!/usr/bin/env bash
# Sets up everything from a fresh clone, then runs the whole service on embedded defaults (SQLite database,
# Celery over SQLite): migrates, loads the bundled assignments, prints the URL, a demo instructor token
# and a demo student login. Arguments go to `tfgrade serve` (for example --port 8080 --concurrency 2).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/tfgrade serve --demo "$@"
