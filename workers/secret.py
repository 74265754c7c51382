"""The secret that signs session cookies when none is configured: random, made once per data folder."""

import os
import secrets
import tempfile
from pathlib import Path

SECRET_FILE = "secret_key"


def stored_secret(data_dir: Path) -> str:
    """The data folder's secret; the first process to need it writes it (mode 0600), all others read it.

    It is written to a scratch file and linked into place, so that no process reads a half-written one."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor, scratch = tempfile.mkstemp(dir=data_dir, prefix=".secret-")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(scratch)
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds no usable secret; delete it and a new one is made")
    return secret
