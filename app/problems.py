from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from app.errors import LoginRequired, PasswordChangeRequired

PROBLEM_JSON = "application/problem+json"


def problem(status: int, detail: Any, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def wants_problem(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def install_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if wants_problem(request):
            return problem(error.status_code, error.detail, error.headers)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": error.status_code, "detail": error.detail},
            status_code=error.status_code,
            headers=error.headers,
        )

    async def on_validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        if wants_problem(request):
            return problem(422, errors)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": 422, "detail": "; ".join(e["msg"] for e in errors)},
            status_code=422,
        )

    async def on_login_required(request: Request, _: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    async def on_password_change_required(request: Request, _: Exception) -> Response:
        return RedirectResponse("/account/password", status_code=303)

    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(PasswordChangeRequired, on_password_change_required)
