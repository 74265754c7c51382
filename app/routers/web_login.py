from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.accounts import authenticate_student
from app.csrf import require_csrf
from app.deps import SettingsDep
from app.templating import templates

router = APIRouter(include_in_schema=False)


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
    student_id = authenticate_student(settings.database_url, email=email, password=password)
    if student_id is None:
        return templates.TemplateResponse(
            request, "login.html", {"error": "Wrong email or password.", "email": email}, status_code=401
        )
    request.session.clear()
    request.session["student_id"] = student_id
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
