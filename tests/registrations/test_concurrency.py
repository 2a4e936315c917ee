"""Many members at once through gunicorn with several worker processes: never overbooked.

The scenarios and their checks live in tests/registrations/crowd.py; test_concurrency_without_lock.py
runs the same scenarios against an app whose registration lock is switched off, and shows that these
checks then fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.registrations.crowd import (
    RUSH_CROWD,
    WORKERS,
    Server,
    check_churn,
    check_rush,
    run_churn,
    run_rush,
    serving,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as `app.py` builds it, under gunicorn, on a fresh database."""
    with serving(tmp_path_factory.mktemp("concurrency"), "concurrency") as server:
        yield server


def test_a_hundred_members_registering_at_once_fill_twenty_seats_in_order(server):
    crowd = run_rush(server, "rush-for-twenty-seats")
    print(f"\n{RUSH_CROWD} registrations through {WORKERS} workers in {crowd.seconds:.2f} s")
    check_rush(crowd)


def test_members_leaving_while_others_register_never_overbook(server):
    crowd = run_churn(server, "leaving-and-arriving")
    print(f"\n10 leaving and 30 arriving through {WORKERS} workers in {crowd.seconds:.2f} s")
    check_churn(crowd)
