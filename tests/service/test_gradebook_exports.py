import pytest
from fastapi.testclient import TestClient
from helpers import WEEK1, Login, finish_grading, submit

from app.accounts import add_student
from workers.database import session_scope
from workers.settings import Settings

TITLE = "Week 1: Housing prices with a single neuron"


def enrol(settings: Settings, email: str, name: str) -> Login:
    with session_scope(settings.database_url) as session:
        created = add_student(session, email=email, name=name)
    return Login(created.email, created.password)


@pytest.fixture
def small_class(settings: Settings, solution: bytes) -> None:
    """Ada's best attempt counts (9, of 9 and 5), a name that reads as a formula scored 7.5, Cy never
    submitted."""
    ada = enrol(settings, "ada@example.com", "Lovelace, Ada")
    formula = enrol(settings, "bob@example.com", '=HYPERLINK("http://x")')
    enrol(settings, "cy@example.com", "Cy")
    first, second = submit(settings, ada, solution), submit(settings, ada, solution)
    finish_grading(settings, first, 9)
    finish_grading(settings, second, 5)
    finish_grading(settings, submit(settings, formula, solution), 7.5)


def export(instructor: TestClient, format: str) -> str:
    response = instructor.get(f"/api/v1/assignments/{WEEK1}/scores", params={"format": format})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return response.text


@pytest.mark.usefixtures("small_class")
def test_canvas_export_is_a_gradebook_import_file(instructor: TestClient) -> None:
    disposition = instructor.get(f"/api/v1/assignments/{WEEK1}/scores?format=canvas").headers
    assert disposition["content-disposition"] == f'attachment; filename="{WEEK1}-canvas.csv"'
    assert export(instructor, "canvas") == (
        f"Student,ID,SIS User ID,SIS Login ID,Section,{TITLE}\r\n"
        "Points Possible,,,,,10\r\n"
        '"Lovelace, Ada",,,ada@example.com,,9\r\n'
        '"\'=HYPERLINK(""http://x"")",,,bob@example.com,,7.5\r\n'
        "Cy,,,cy@example.com,,\r\n"
    )


@pytest.mark.usefixtures("small_class")
def test_moodle_export_is_a_gradebook_import_file(instructor: TestClient) -> None:
    assert export(instructor, "moodle") == (
        f"Email address,{TITLE}\r\nada@example.com,9\r\nbob@example.com,7.5\r\ncy@example.com,\r\n"
    )


@pytest.mark.usefixtures("small_class")
def test_plain_csv_keeps_names_from_reading_as_formulas(instructor: TestClient) -> None:
    lines = export(instructor, "csv").splitlines()
    assert lines[2].startswith('bob@example.com,"\'=HYPERLINK(""http://x"")",7.5,10.0,1,')


def test_an_unknown_format_is_refused_with_the_allowed_ones(instructor: TestClient) -> None:
    response = instructor.get(f"/api/v1/assignments/{WEEK1}/scores", params={"format": "blackboard"})
    assert response.status_code == 422
    assert all(allowed in response.text for allowed in ("'json'", "'csv'", "'canvas'", "'moodle'"))
