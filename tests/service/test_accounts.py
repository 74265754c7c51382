"""Sessions the server can end, passwords students can change, and logins that neither reveal who has an
account nor allow endless guessing. Each test gets its own database, so failed logins never add up."""

import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple

import pytest
from fastapi.testclient import TestClient
from helpers import Login, csrf_from, log_in, new_student

from app.accounts import reset_password
from app.main import create_app
from workers.database import session_scope
from workers.settings import Settings

WINDOW_SECONDS = 900


@pytest.fixture
def accounts_settings(settings: Settings) -> Settings:
    """This test's own database (SQLite or PostgreSQL), with small limits."""
    return settings.model_copy(
        update={
            "login_failures_per_account": 3,
            "login_failures_per_client": 6,
            "login_failure_window_seconds": WINDOW_SECONDS,
        }
    )


@pytest.fixture
def browsers(accounts_settings: Settings) -> Iterator[list[TestClient]]:
    """Two browsers on one app, at two addresses: what one does must reach, or spare, the other."""
    app = create_app(accounts_settings)
    with (
        TestClient(app, client=("127.0.0.2", 50000)) as first,
        TestClient(app, client=("127.0.0.3", 50000)) as second,
    ):
        yield [first, second]


def attempt(client: TestClient, email: str, password: str) -> int:
    token = csrf_from(client.get("/login").text)
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False).status_code


def home(client: TestClient) -> str:
    """Where the home page sends this browser: itself when logged in, else the login or password page."""
    response = client.get("/", follow_redirects=False)
    return "/" if response.status_code == 200 else response.headers["location"]


def change_password(client: TestClient, current: str, new: str) -> int:
    token = csrf_from(client.get("/account/password").text)
    data = {"current_password": current, "new_password": new, "csrf_token": token}
    return client.post("/account/password", data=data, follow_redirects=False).status_code


def test_a_cookie_saved_before_logout_opens_nothing_after_it(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    browser, thief = browsers
    log_in(browser, new_student(accounts_settings))
    thief.cookies.set("tfgrade_session", browser.cookies["tfgrade_session"])
    assert home(thief) == "/"
    token = csrf_from(browser.get("/").text)
    assert browser.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert home(thief) == "/login"


def test_a_password_change_ends_every_other_session_and_keeps_this_one(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    laptop, phone = browsers
    email, password = astuple(new_student(accounts_settings))
    log_in(laptop, Login(email, password))
    log_in(phone, Login(email, password))
    assert change_password(laptop, password, "a much better password") == 303
    assert (home(laptop), home(phone)) == ("/", "/login")
    assert attempt(phone, email, password) == 401
    assert attempt(phone, email, "a much better password") == 303


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("wrong", "a much better password", "Your current password is not right."),
        (None, "short", "at least 10 characters"),
    ],
    ids=["wrong-current-password", "too-short"],
)
def test_a_refused_password_change_changes_nothing(
    browsers: list[TestClient], accounts_settings: Settings, current: str | None, new: str, message: str
) -> None:
    browser, other = browsers
    email, password = astuple(new_student(accounts_settings))
    log_in(browser, Login(email, password))
    token = csrf_from(browser.get("/account/password").text)
    data = {"current_password": current or password, "new_password": new, "csrf_token": token}
    response = browser.post("/account/password", data=data, follow_redirects=False)
    assert (response.status_code, message in response.text) == (422, True)
    assert home(browser) == "/"
    assert attempt(other, email, password) == 303


def test_after_a_reset_old_sessions_end_and_every_page_asks_for_a_new_password(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    before, after = browsers
    email, password = astuple(new_student(accounts_settings))
    log_in(before, Login(email, password))
    with session_scope(accounts_settings.database_url) as session:
        reset = reset_password(session, email)
    assert reset is not None
    assert home(before) == "/login"
    assert attempt(after, email, password) == 401
    assert attempt(after, email, reset.password) == 303
    assert home(after) == "/account/password"
    assert after.get("/assignments/c1w1-housing-prices", follow_redirects=False).headers["location"] == (
        "/account/password"
    )
    assert change_password(after, reset.password, "my own password") == 303
    assert home(after) == "/"


def test_guessing_one_account_is_stopped_from_that_address_only(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    guesser, owner = browsers
    email, password = astuple(new_student(accounts_settings))
    assert [attempt(guesser, email, "guess") for _ in range(3)] == [401, 401, 401]
    token = csrf_from(guesser.get("/login").text)
    locked = guesser.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert locked.status_code == 429
    assert WINDOW_SECONDS - 5 <= int(locked.headers["retry-after"]) <= WINDOW_SECONDS
    assert "Too many failed attempts" in locked.text
    assert attempt(owner, email, password) == 303
    assert attempt(guesser, *astuple(new_student(accounts_settings))) == 303


def test_guesses_sent_at_the_same_moment_count_against_each_other(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    guesser, _ = browsers
    email, _ = astuple(new_student(accounts_settings))
    token = csrf_from(guesser.get("/login").text)
    data = {"email": email, "password": "guess", "csrf_token": token}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: guesser.post("/login", data=data).status_code, range(8)))
    # Attempts still being checked count too, so fewer than the limit may get through; never more.
    assert sorted(answers) == [401] * answers.count(401) + [429] * (8 - answers.count(401))
    assert answers.count(401) <= 3


def test_a_client_is_stopped_after_too_many_failures_across_accounts(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    client, other = browsers
    assert [attempt(client, f"nobody{n}@example.com", "guess") for n in range(6)] == [401] * 6
    email, password = astuple(new_student(accounts_settings))
    assert attempt(client, email, password) == 429
    assert attempt(other, email, password) == 303


def test_a_reset_lets_the_one_time_password_in_despite_earlier_guesses(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    guesser, _ = browsers
    email, _ = astuple(new_student(accounts_settings))
    assert [attempt(guesser, email, "guess") for _ in range(3)] == [401, 401, 401]
    with session_scope(accounts_settings.database_url) as session:
        reset = reset_password(session, email)
    assert reset is not None
    assert attempt(guesser, email, reset.password) == 303


def test_guessing_the_current_password_on_the_password_page_is_limited(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    browser, _ = browsers
    email, password = astuple(new_student(accounts_settings))
    log_in(browser, Login(email, password))
    answers = [change_password(browser, "guess", "a much better password") for _ in range(4)]
    assert answers == [422, 422, 422, 429]


def test_a_dead_cookie_cannot_log_anyone_out(browsers: list[TestClient], accounts_settings: Settings) -> None:
    thief, owner = browsers
    email, password = astuple(new_student(accounts_settings))
    log_in(thief, Login(email, password))
    token = csrf_from(thief.get("/").text)
    log_in(owner, Login(email, password))
    assert change_password(owner, password, "a much better password") == 303
    assert thief.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert home(owner) == "/"


def test_a_login_takes_as_long_for_an_unknown_email_as_for_a_known_one(
    browsers: list[TestClient], accounts_settings: Settings
) -> None:
    client, _ = browsers

    def seconds(email: str) -> float:
        started = time.perf_counter()
        assert attempt(client, email, "wrong password") == 401
        return time.perf_counter() - started

    known = [new_student(accounts_settings).email for _ in range(3)]
    known_times = [seconds(email) for email in known]
    unknown_times = [seconds(f"nobody{n}@example.com") for n in range(3)]
    ratio = statistics.median(unknown_times) / statistics.median(known_times)
    assert 0.5 < ratio < 2.0, (known_times, unknown_times)
