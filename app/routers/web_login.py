from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts import PasswordRefused, authenticate_student, change_password, end_sessions
from app.csrf import require_csrf
from app.deps import LoggedInStudent, SessionDep, SettingsDep
from app.login_limits import LoginLimits
from app.templating import templates
from workers.database import session_scope
from workers.settings import Settings

router = APIRouter(include_in_schema=False)


def login_limits(settings: Settings) -> LoginLimits:
    return LoginLimits(
        per_account=settings.login_failures_per_account,
        per_client=settings.login_failures_per_client,
        window=timedelta(seconds=settings.login_failure_window_seconds),
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def too_many_attempts(request: Request, template: str, context: dict[str, object], wait: int) -> Response:
    error = f"Too many failed attempts. Try again in {wait} seconds."
    return templates.TemplateResponse(
        request, template, {**context, "error": error}, status_code=429, headers={"Retry-After": str(wait)}
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", dependencies=[Depends(require_csrf)])
def login(
    request: Request,
    settings: SettingsDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    limits = login_limits(settings)
    client = client_address(request)
    attempt, wait = limits.attempt(settings.database_url, email, client)
    if wait is not None:
        return too_many_attempts(request, "login.html", {"email": email}, wait)
    found = authenticate_student(settings.database_url, email=email, password=password)
    if found is None:
        with session_scope(settings.database_url) as session:
            limits.failed(session, attempt)
        return templates.TemplateResponse(
            request, "login.html", {"error": "Wrong email or password.", "email": email}, status_code=401
        )
    with session_scope(settings.database_url) as session:
        limits.succeeded(session, email, client)
    request.session.clear()
    request.session["student_id"] = found.student_id
    request.session["session_version"] = found.session_version
    return RedirectResponse("/account/password" if found.must_change_password else "/", status_code=303)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, settings: SettingsDep) -> Response:
    student_id, version = request.session.get("student_id"), request.session.get("session_version")
    if isinstance(student_id, int) and isinstance(version, int):
        with session_scope(settings.database_url) as session:
            end_sessions(session, student_id, version)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, student: LoggedInStudent) -> Response:
    return templates.TemplateResponse(request, "password.html", {"student": student, "error": None})


@router.post("/account/password", dependencies=[Depends(require_csrf)])
def password_change(
    request: Request,
    student: LoggedInStudent,
    session: SessionDep,
    settings: SettingsDep,
    current_password: Annotated[str, Form()],
    new_password: Annotated[str, Form()],
) -> Response:
    limits = login_limits(settings)
    client = client_address(request)
    attempt, wait = limits.attempt(settings.database_url, student.email, client)
    if wait is not None:
        return too_many_attempts(request, "password.html", {"student": student}, wait)
    try:
        change_password(session, student, current=current_password, new=new_password)
    except PasswordRefused as refusal:
        limits.failed(session, attempt)
        session.commit()
        context = {"student": student, "error": str(refusal)}
        return templates.TemplateResponse(request, "password.html", context, status_code=422)
    limits.succeeded(session, student.email, client)
    session.commit()
    # Every other session of the student has ended; this one goes on under the new version.
    request.session["session_version"] = student.session_version
    return RedirectResponse("/", status_code=303)
