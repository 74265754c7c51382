#!/usr/bin/env bash
# Installs what tfgrade needs on a Debian machine and builds the project's virtual environment in .venv/.
set -euo pipefail
cd "$(dirname "$0")/.."

SANDBOX_USER=tfgrade-sandbox
APT_PACKAGES=(bubblewrap acl redis-server chromium)

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
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
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true

# The sandbox user starts bubblewrap itself and must be able to reach the interpreter and the
# environment it binds read-only; it gets traversal rights (not listing) on their parent folders.
base_prefix=$(.venv/bin/python -c 'import sys; print(sys.base_prefix)')
for target in "$base_prefix" "$PWD/.venv" "$PWD/assignments"; do
    folder=$(dirname "$target")
    while [ "$folder" != "/" ]; do
        if ! runuser -u "$SANDBOX_USER" -- test -x "$folder" 2>/dev/null; then
            setfacl -m "u:$SANDBOX_USER:x" "$folder"
        fi
        folder=$(dirname "$folder")
    done
done
echo "setup: ready (.venv/bin/tfgrade)"
