"""The upload form in a real browser: a refused upload keeps the chosen file, and the one message that
says when to submit again counts down."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import WEEK1, free_port, healthy, new_student, running, submit, tfgrade, wait_until
from playwright.sync_api import Page, expect

from workers.settings import Settings


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    """The API alone under uvicorn: no worker, so what is uploaded stays waiting."""
    env = {"TFGRADE_DATA_DIR": str(tmp_path), "TFGRADE_SECRET_KEY": "test-secret"}
    tfgrade(env, "migrate")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(env, tmp_path / "api.log", "api", "--port", str(port)):
        wait_until(lambda: healthy(url), 60, f"the API at {url}")
        yield url, Settings(data_dir=tmp_path, secret_key="test-secret")


def test_an_upload_refused_for_now_keeps_its_file_and_counts_down(
    page: Page, api: tuple[str, Settings], solution: bytes
) -> None:
    url, settings = api
    login = new_student(settings)
    page.goto(f"{url}/login")
    page.fill("input[name=email]", login.email)
    page.fill("input[name=password]", login.password)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{url}/assignments/{WEEK1}")
    expect(page).to_have_title(re.compile(r"^Week 1[^<]* · tfgrade$"))
    # Another tab's upload, after this page was loaded, starts the cooldown.
    submit(settings, login, solution)
    page.set_input_files(
        "input[name=notebook]",
        files=[{"name": "week1.ipynb", "mimeType": "application/x-ipynb+json", "buffer": solution}],
    )
    page.get_by_role("button", name="Submit for grading").click()

    message = page.locator("#upload-message [role=alert]")
    expect(message).to_have_text(re.compile(r"^You can submit this assignment again in \d+ seconds\.$"))
    expect(page.locator("[data-retry-after]")).to_have_count(1)
    expect(page.get_by_role("button", name="Submit for grading")).to_be_disabled()
    assert page.eval_on_selector("input[name=notebook]", "input => input.files[0].name") == "week1.ipynb"
    first = int(re.findall(r"\d+", message.inner_text())[0])
    expect(message).to_have_text(re.compile(rf"again in {first - 2} seconds"), timeout=5000)
    assert page.url == f"{url}/assignments/{WEEK1}"
