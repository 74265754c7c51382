"""app.accounts on its own: reading a roster, importing it, changing and resetting passwords, ending
sessions. Each outcome exactly, on the embedded database."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import (
    PasswordRefused,
    RosterRefused,
    add_student,
    authenticate_student,
    change_password,
    end_sessions,
    import_roster,
    read_roster,
    reset_password,
)
from app.login_limits import LoginLimits, account_key
from workers.database import session_scope
from workers.models import LoginAttempt, Student
from workers.settings import Settings


def email() -> str:
    return f"{uuid.uuid4().hex}@example.com"


def student(settings: Settings, address: str) -> Student:
    with session_scope(settings.database_url) as session:
        return session.scalars(select(Student).where(Student.email == address)).one()


@pytest.mark.parametrize(
    ("roster", "students"),
    [
        ("email,name\na@example.com,Ada\n", {"a@example.com": "Ada"}),
        (
            " Name , EMAIL ,team\r\n Ada Lovelace ,A@Example.COM,1\r\n\r\n,,\r\n",
            {"a@example.com": "Ada Lovelace"},
        ),
        ('email,name\nb@example.com,"Hopper, Grace"\n', {"b@example.com": "Hopper, Grace"}),
        ("email,name\nc@example.com," + "x" * 200 + "\n", {"c@example.com": "x" * 200}),
        ("email,name\n", {}),
        ("email,name\n\n,\nd@example.com,Dee\n", {"d@example.com": "Dee"}),
    ],
    ids=[
        "plain",
        "reordered-spaced-extra-column",
        "quoted-comma",
        "longest-name",
        "header-only",
        "blank-first",
    ],
)
def test_a_roster_is_read_into_names_by_email(roster: str, students: dict[str, str]) -> None:
    assert read_roster(roster) == students


@pytest.mark.parametrize(
    ("roster", "problems"),
    [
        ("name\nAda\n", ["line 1: the header must name the columns email and name once each; it names name"]),
        (
            "email,name,Name\n",
            ["line 1: the header must name the columns email and name once each; it names email, name, name"],
        ),
        ("email,name\nx@example.com,Ada,extra\n", ["line 2: 3 columns where the header has 2"]),
        ("email,name\nx@example,Ada\n", ["line 2: 'x@example' is not an email address"]),
        ("email,name\nx y@example.com,Ada\n", ["line 2: 'x y@example.com' is not an email address"]),
        (
            "email,name\nx@example.com," + "x" * 201 + "\n",
            ["line 2: the name of x@example.com must be 1 to 200 printable characters"],
        ),
        (
            "email,name\nx@example.com,A\tB\n",
            ["line 2: the name of x@example.com must be 1 to 200 printable characters"],
        ),
        (
            "email,name\nx@example.com,  \n",
            ["line 2: the name of x@example.com must be 1 to 200 printable characters"],
        ),
        (
            "email,name\nx@example.com,A\n\nX@EXAMPLE.COM,B\n",
            ["line 4: x@example.com is already on an earlier line"],
        ),
        ('email,name\n"x@example.com\0",A\n', ["line 2: 'x@example.com\\x00' is not an email address"]),
        ("", ["line 1: the header must name the columns email and name once each; it names nothing"]),
        (
            "email,name\nx@example.com," + "y" * 200_000 + "\n",
            ["line 2: field larger than field limit (131072)"],
        ),
        (
            "email,name\nbad,A\ny@example.com,\n",
            [
                "line 2: 'bad' is not an email address",
                "line 3: the name of y@example.com must be 1 to 200 printable characters",
            ],
        ),
        (
            "email,name\nx@example.com\nbad,A\n",
            ["line 2: 1 columns where the header has 2", "line 3: 'bad' is not an email address"],
        ),
    ],
    ids=[
        "no-email",
        "repeated",
        "columns",
        "no-dot",
        "space",
        "long-name",
        "tab",
        "blank-name",
        "duplicate",
        "nul",
        "empty",
        "huge-field",
        "two-problems",
        "columns-then-more",
    ],
)
def test_a_bad_roster_is_refused_with_each_reason(roster: str, problems: list[str]) -> None:
    with pytest.raises(RosterRefused) as refused:
        read_roster(roster)
    assert refused.value.problems == problems
    assert str(refused.value) == "\n".join(problems)


def test_importing_counts_what_it_did_and_keeps_or_resets_passwords(settings: Settings) -> None:
    kept, renamed, new, kept_too, renamed_too = (email() for _ in range(5))
    with session_scope(settings.database_url) as session:
        first = import_roster(
            session, f"email,name\n{kept},Kept\n{renamed},Old\n{kept_too},K2\n{renamed_too},O2\n"
        )
    assert ([s.email for s in first.added], first.renamed, first.unchanged, first.new_passwords) == (
        [kept, renamed, kept_too, renamed_too],
        0,
        0,
        [],
    )
    passwords = {s.email: s.password for s in first.added}
    with session_scope(settings.database_url) as session:
        again = import_roster(
            session, f"email,name\n{kept},Kept\n{renamed},New\n{new},Third\n{kept_too},K2\n{renamed_too},N2\n"
        )
    assert ([s.email for s in again.added], again.renamed, again.unchanged, again.new_passwords) == (
        [new],
        2,
        2,
        [],
    )
    assert student(settings, renamed).name == "New"
    assert authenticate_student(settings.database_url, email=kept, password=passwords[kept]) is not None
    with session_scope(settings.database_url) as session:
        reset = import_roster(session, f"email,name\n{kept},Renamed too\n", reset_passwords=True)
    assert ([s.email for s in reset.new_passwords], reset.added, reset.renamed, reset.unchanged) == (
        [kept],
        [],
        0,
        0,
    )
    after = student(settings, kept)
    assert (after.name, after.must_change_password, after.session_version) == ("Renamed too", True, 1)
    assert authenticate_student(settings.database_url, email=kept, password=passwords[kept]) is None


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("wrong", "long enough password", "Your current password is not right."),
        (None, "too short", "Choose a new password of at least 10 characters."),
        (None, None, "Choose a new password that differs from the one you were given."),
    ],
    ids=["wrong-current", "nine-characters", "unchanged"],
)
def test_a_refused_password_change_changes_nothing(
    settings: Settings, current: str | None, new: str | None, message: str
) -> None:
    address = email()
    with session_scope(settings.database_url) as session:
        password = add_student(session, email=address, name="A", password="the first password").password
    with session_scope(settings.database_url) as session:
        own = session.scalars(select(Student).where(Student.email == address)).one()
        with pytest.raises(PasswordRefused, match=f"^{message}$"):
            change_password(session, own, current=current or password, new=new or password)
    assert student(settings, address).session_version == 0
    assert authenticate_student(settings.database_url, email=address, password=password) is not None


def test_a_password_change_ends_sessions_and_lifts_a_forced_change(settings: Settings) -> None:
    address = email()
    with session_scope(settings.database_url) as session:
        add_student(session, email=address, name="A")
        one_time = reset_password(session, address)
    assert one_time is not None
    with session_scope(settings.database_url) as session:
        own = session.scalars(select(Student).where(Student.email == address)).one()
        change_password(session, own, current=one_time.password, new="exactly 10")
    after = student(settings, address)
    assert (after.must_change_password, after.session_version) == (False, 2)
    assert authenticate_student(settings.database_url, email=address, password="exactly 10") is not None


def test_a_reset_gives_a_one_time_password_and_forgets_the_accounts_failed_attempts(
    settings: Settings,
) -> None:
    address, other = email(), email()
    limits = LoginLimits(per_account=5, per_client=30, window=timedelta(minutes=15))
    with session_scope(settings.database_url) as session:
        old = add_student(session, email=address, name="A").password
    for who in (address, address, other):
        limits.attempt(settings.database_url, who, "127.0.0.9")
    with session_scope(settings.database_url) as session:
        assert reset_password(session, "nobody-" + address) is None
        reset = reset_password(session, f" {address.upper()} ")
    assert reset is not None and reset.email == address and reset.password != old
    after = student(settings, address)
    assert (after.must_change_password, after.session_version) == (True, 1)
    found = authenticate_student(settings.database_url, email=address, password=reset.password)
    assert found is not None and found.must_change_password
    with session_scope(settings.database_url) as session:
        reset_password(session, address)
    assert student(settings, address).session_version == 2
    with session_scope(settings.database_url) as session:
        left = [
            session.scalar(
                select(func.count(LoginAttempt.id)).where(LoginAttempt.account == account_key(who))
            )
            for who in (address, other)
        ]
    assert left == [0, 1]


def test_sessions_end_only_when_asked_from_the_current_version(settings: Settings) -> None:
    address = email()
    with session_scope(settings.database_url) as session:
        add_student(session, email=address, name="A")
    own_id = student(settings, address).id
    with session_scope(settings.database_url) as session:
        end_sessions(session, own_id, 1)
        end_sessions(session, own_id + 10_000, 0)
    assert student(settings, address).session_version == 0
    with session_scope(settings.database_url) as session:
        end_sessions(session, own_id, 0)
    assert student(settings, address).session_version == 1
    with session_scope(settings.database_url) as session:
        end_sessions(session, own_id, 1)
    assert student(settings, address).session_version == 2
