"""Redis, PostgreSQL or the API go away for a while: every submission still ends graded exactly once."""

import time

import httpx
import pytest
from helpers import sleeps_then_skips_training, untrained, wait_until, week1_template
from stack import Stack

pytestmark = pytest.mark.slow


def test_redis_restarted_during_a_burst_loses_nothing(stack: Stack) -> None:
    slow = stack.submit(sleeps_then_skips_training())
    before = [stack.submit(week1_template()), stack.submit(untrained())]
    busy = stack.busy_sandboxes(slow)
    stack.redis.stop()
    stack.wait_gone(busy)  # the slow grading finishes while Redis is away
    during = [stack.submit(untrained()), stack.submit(week1_template())]
    time.sleep(5)
    stack.redis.start()
    after = [stack.submit(week1_template())]
    everything = [slow, *before, *during, *after]
    stack.wait_final(everything, 180)
    stack.assert_each_final_once(
        {
            slow: ("graded", 6.0),
            before[0]: ("graded", 0.0),
            before[1]: ("graded", 6.0),
            during[0]: ("graded", 6.0),
            during[1]: ("graded", 0.0),
            after[0]: ("graded", 0.0),
        }
    )


def test_redis_losing_its_data_loses_no_submission(stack: Stack) -> None:
    slow = stack.submit(sleeps_then_skips_training())
    waiting = [stack.submit(week1_template()), stack.submit(untrained())]
    stack.busy_sandboxes(slow)  # the slow one runs; the other two wait in Redis
    stack.redis.forget_everything()
    stack.wait_final([slow, *waiting], 180)
    stack.assert_each_final_once(
        {slow: ("graded", 6.0), waiting[0]: ("graded", 0.0), waiting[1]: ("graded", 6.0)}
    )


def test_the_database_unreachable_for_a_few_seconds_loses_nothing(stack: Stack) -> None:
    slow = stack.submit(sleeps_then_skips_training())
    queued = stack.submit(untrained())
    busy = stack.busy_sandboxes(slow)
    stack.set_database_reachable(False)
    try:
        refused = httpx.get(f"{stack.url}/readyz", timeout=30)
        assert refused.status_code == 503 and refused.json()["checks"]["database"] is False
        stack.wait_gone(busy)  # the slow grading finishes while the database is away
        time.sleep(3)
    finally:
        stack.set_database_reachable(True)
    wait_until(lambda: httpx.get(f"{stack.url}/readyz", timeout=30).status_code == 200, 30, "ready again")
    after = stack.submit(week1_template())
    stack.wait_final([slow, queued, after], 180)
    stack.assert_each_final_once({slow: ("graded", 6.0), queued: ("graded", 6.0), after: ("graded", 0.0)})


def test_the_api_restarted_between_upload_and_grading_loses_nothing(stack: Stack) -> None:
    stack.kill_worker("worker-a")
    uploaded = [stack.submit(untrained()), stack.submit(week1_template())]
    stack.kill_api()
    stack.start_worker("worker-a")
    stack.start_api()
    stack.wait_final(uploaded, 120)
    stack.assert_each_final_once({uploaded[0]: ("graded", 6.0), uploaded[1]: ("graded", 0.0)})
    resent = stack.submit(untrained(), external_id=None)
    assert resent not in uploaded
