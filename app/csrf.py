import secrets
from typing import Annotated

from fastapi import Form, Request

from app.errors import CsrfRejected

SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def require_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    expected = request.session.get(SESSION_KEY)
    if not isinstance(expected, str) or not secrets.compare_digest(csrf_token, expected):
        raise CsrfRejected()
