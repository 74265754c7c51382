import hashlib
import os
import secrets
import threading

from pwdlib import PasswordHash

_passwords = PasswordHash.recommended()
# One Argon2 check takes about 0.1 s of CPU and 64 MB: a burst of logins runs as many at once as there
# are cores, not as many as the server has threads.
_password_checks = threading.BoundedSemaphore(os.cpu_count() or 1)


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    with _password_checks:
        return _passwords.verify(password, password_hash)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def new_api_token() -> str:
    return "tfg_" + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """Tokens carry 256 random bits, so a fast digest is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()
