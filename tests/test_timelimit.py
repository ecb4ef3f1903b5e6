"""`TimeLimited`: a value, a failure named by its type, a crash and a timeout come back as such."""

from __future__ import annotations

import os
import time

import pytest

from pipeline import pool, timelimit


def _double(x: int) -> int:
    return 2 * x


def _fail(x: int) -> int:
    raise ValueError(f"bad value {x}")


def _die(x: int) -> int:
    os._exit(3)


def test_a_value_a_failure_and_a_crash() -> None:
    with timelimit.TimeLimited(_double, 30) as limited:
        assert limited(21) == 42
        assert limited(2) == 4  # the same worker, reused
    with timelimit.TimeLimited(_fail, 30) as limited, pytest.raises(
            timelimit.CallFailed, match=r"^ValueError: bad value 7$"):
        limited(7)
    with timelimit.TimeLimited(_die, 30) as limited, pytest.raises(timelimit.WorkerCrashed):
        limited(1)


def test_a_call_over_its_limit_is_stopped() -> None:
    with timelimit.TimeLimited(time.sleep, 0.2) as limited, pytest.raises(timelimit.TimeLimitExceeded):
        limited(30)


def test_the_reply_protocol_round_trips() -> None:
    assert pool.value_of(pool.reply_of(_double, 4), RuntimeError) == 8
    reply = pool.reply_of(_fail, 5)
    assert reply == ("error", "ValueError: bad value 5")
    with pytest.raises(KeyError, match="ValueError: bad value 5"):
        pool.value_of(reply, KeyError)
