#!/usr/bin/env bash
# Installs what tfgrade needs on a Debian machine and builds the project's virtual environment in .venv/.
# With --tests, also what only the tests use (scripts/test.sh passes it).
set -euo pipefail
trap 'echo "setup: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."

SANDBOX_USER=tfgrade-sandbox
# The sandbox: bubblewrap's namespaces, and setfacl to let the sandbox user reach the environment.
APT_PACKAGES=(bubblewrap acl)
# The tests: their own Redis and PostgreSQL servers, and a browser for the end-to-end tests.
TEST_APT_PACKAGES=(redis-server postgresql chromium)

usage() {
    echo "usage: $0 [--tests]" >&2
    exit 2
}
case "${1:-}" in
    "") ;;
    --tests) APT_PACKAGES+=("${TEST_APT_PACKAGES[@]}") ;;
    *) usage ;;
esac
[ $# -le 1 ] || usage

installed() {
    # `dpkg -s` also succeeds for a package removed with its configuration files left behind.
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

missing=()
for package in "${APT_PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! id "$SANDBOX_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$SANDBOX_USER"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# The lock pins every package with its hashes (README, "Dependencies"): pip installs exactly that, then the
# project itself. A failed install fails setup. A stamp in .venv records the lock (and pyproject.toml) it
# was built from, so an unchanged lock costs nothing.
lock=requirements/dev.lock
stamp=.venv/.tfgrade-lock.sha256
lock_hash=$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ] || [ ! -x .venv/bin/tfgrade ]; then
    echo "setup: installing $lock"
    rm -f "$stamp"
    pip=(.venv/bin/pip install -q --disable-pip-version-check --no-deps)
    # This machine's pip.conf names local package folders that may be absent; their warnings are noise.
    "${pip[@]}" --require-hashes -r "$lock" 2>&1 | { grep -v "^WARNING: Location" || true; }
    "${pip[@]}" -e . 2>&1 | { grep -v "^WARNING: Location" || true; }
    echo "$lock_hash" >"$stamp"
fi

# The grading runtimes that assignments name (`runtime =` in assignment.toml), each from its own lock.
./scripts/runtimes.sh

# The sandbox user starts bubblewrap itself and must be able to reach the interpreter and the
# environment it binds read-only; it gets traversal rights (not listing) on their parent folders.
base_prefix=$(.venv/bin/python -c 'import sys; print(sys.base_prefix)')
for target in "$base_prefix" "$PWD/.venv" "$PWD/.runtimes/." "$PWD/assignments"; do
    folder=$(dirname "$target")
    while [ "$folder" != "/" ]; do
        if ! runuser -u "$SANDBOX_USER" -- test -x "$folder" 2>/dev/null; then
            setfacl -m "u:$SANDBOX_USER:x" "$folder"
        fi
        folder=$(dirname "$folder")
    done
done
echo "setup: ready (.venv/bin/tfgrade)"
