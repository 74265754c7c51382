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
    client = request.client.host if request.client else "unknown"
    with session_scope(settings.database_url) as session:
        wait = limits.retry_after(session, email, client)
    if wait is not None:
        error = f"Too many failed logins. Try again in {wait} seconds."
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": error, "email": email},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    found = authenticate_student(settings.database_url, email=email, password=password)
    with session_scope(settings.database_url) as session:
        if found is None:
            limits.record_failure(session, email, client)
        else:
            limits.forget_account(session, email)
    if found is None:
        return templates.TemplateResponse(
            request, "login.html", {"error": "Wrong email or password.", "email": email}, status_code=401
        )
    request.session.clear()
    request.session["student_id"] = found.student_id
    request.session["session_version"] = found.session_version
    return RedirectResponse("/account/password" if found.must_change_password else "/", status_code=303)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, settings: SettingsDep) -> Response:
    student_id = request.session.get("student_id")
    if isinstance(student_id, int):
        with session_scope(settings.database_url) as session:
            end_sessions(session, student_id)
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
    current_password: Annotated[str, Form()],
    new_password: Annotated[str, Form()],
) -> Response:
    try:
        change_password(session, student, current=current_password, new=new_password)
    except PasswordRefused as refusal:
        context = {"student": student, "error": str(refusal)}
        return templates.TemplateResponse(request, "password.html", context, status_code=422)
    session.commit()
    # Every other session of the student has ended; this one goes on under the new version.
    request.session["session_version"] = student.session_version
    return RedirectResponse("/", status_code=303)
