#!/usr/bin/env bash
# Builds every grading runtime (README, "Runtimes"): one virtual environment in .runtimes/NAME/ per lock
# requirements/runtimes/NAME.lock, for the assignments whose assignment.toml names it (`runtime = "NAME"`).
# setup.sh runs it once .venv exists; its pip installs each lock into a venv of the same base Python.
set -euo pipefail
trap 'echo "runtimes: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

mkdir -p .runtimes
for lock in requirements/runtimes/*.lock; do
    [ -e "$lock" ] || continue
    name=$(basename "$lock" .lock)
    runtime=.runtimes/$name
    # The grader compares this stamp with the lock's hash (grader/runtimes.py): a runtime that is absent,
    # half installed or older than its lock is not built, and its assignments are not graded.
    stamp=$runtime/.tfgrade-lock.sha256
    lock_hash=$(sha256sum <"$lock" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" = "$lock_hash" ] && [ -x "$runtime/bin/python" ]; then
        continue
    fi
    echo "runtimes: building $runtime from $lock"
    # From scratch, so that nothing the lock no longer names stays behind. Without pip of its own: the
    # sandbox binds the runtime's whole site-packages, which must hold exactly what the lock pins.
    rm -rf "$runtime"
    .venv/bin/python -m venv --without-pip "$runtime"
    # This machine's pip.conf names local package folders that may be absent; their warnings are noise.
    .venv/bin/python -m pip --python "$runtime/bin/python" install -q --disable-pip-version-check \
        --no-deps --require-hashes -r "$lock" 2>&1 | { grep -v "^WARNING: Location" || true; }
    echo "$lock_hash" >"$stamp"
done
