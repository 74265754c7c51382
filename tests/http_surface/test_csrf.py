"""Forms are accepted only with the token of the session that showed them."""

import re

from fastapi.testclient import TestClient
from helpers import csrf_from, new_student

from workers.settings import Settings

EXPIRED = "The form expired or did not come from this site. Reload it."


def test_a_form_token_is_43_url_safe_characters_and_stays_for_the_session(client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 random bytes
    assert csrf_from(client.get("/login").text) == token


def test_a_form_with_another_sessions_token_is_refused(client: TestClient, settings: Settings) -> None:
    login = new_student(settings)
    other = TestClient(client.app)
    foreign = csrf_from(other.get("/login").text)
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": login.email, "password": login.password, "csrf_token": foreign},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert EXPIRED in response.text


def test_a_form_from_a_browser_without_a_session_is_refused(client: TestClient, settings: Settings) -> None:
    login = new_student(settings)
    response = client.post(
        "/login",
        data={"email": login.email, "password": login.password, "csrf_token": "anything"},
        follow_redirects=False,
    )
    assert response.status_code == 403
