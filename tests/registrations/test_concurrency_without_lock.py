"""Proof that the concurrency test can fail: with the meeting lock switched off, its checks do.

The rush of test_concurrency.py runs against tests/registrations/unlocked_app.py, the app with
`_lock_meeting` replaced by a lock-free queue number, under the same gunicorn set-up; the same
checks must then fail for the reason the lock exists: requests count the seats taken while others
have not committed theirs yet, so more members get a seat than the meeting has.

PostgreSQL only. SQLite has one write lock for the whole database, which a registration takes with
its first write, before it counts the seats, so SQLite cannot overbook even without the meeting
lock (tried: 20 of 20 seats in every run). The churn scenario is not part of the proof: without
the lock its promotions pick the head of the queue again and again, which mostly heals the race,
so its checks fail only in some runs (tried: 1 run in 3), and a proof that fails sometimes proves
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import is_postgres
from tests.registrations.crowd import (
    RUSH_SEATS,
    Crowd,
    Server,
    check_rush,
    run_rush,
    serving,
)

pytestmark = pytest.mark.skipif(
    not is_postgres(),
    reason="SQLite's database-wide write lock already serialises the seat counts; the PostgreSQL "
    "run in CI executes this proof",
)


@pytest.fixture(scope="module")
def unlocked_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app with its registration lock switched off, under gunicorn, on a fresh database."""
    with serving(tmp_path_factory.mktemp("unlocked"), "unlocked",
                 wsgi_app="tests.registrations.unlocked_app:app") as server:  # fmt: skip
        yield server


def most_seats_taken(crowd: Crowd) -> int:
    """The most confirmed seats seen at any moment, or stored at the end."""
    return max(*crowd.samples, len(crowd.outcome.with_status("confirmed")))


def test_without_the_lock_the_rush_overbooks_and_its_check_fails(unlocked_server):
    crowd = run_rush(unlocked_server, "rush-without-lock")
    print(f"\nwithout the lock: at most {most_seats_taken(crowd)} of {RUSH_SEATS} seats taken")
    with pytest.raises(AssertionError):
        check_rush(crowd)
    assert most_seats_taken(crowd) > RUSH_SEATS
