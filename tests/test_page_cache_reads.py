"""The memo of what every request reads (web/read_memo.py): kept between requests, read again after
any write of this process (a commit, a user or token change, a non-GET request) or when too old."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from callkpi.storage import Store
from callkpi.web.auth import create_token, create_user, revoke_tokens, set_password
from callkpi.web.read_memo import MISSING, ReadMemo


def _counting(memo: ReadMemo, key: str = "k") -> tuple[list[int], Callable[[], Any]]:
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        return len(reads)

    return reads, lambda: memo.get(key, read)


def test_a_value_is_read_once_until_something_is_written(tmp_path: Path) -> None:
    memo = ReadMemo()
    reads, get = _counting(memo)
    assert get() == get() == 1 and len(reads) == 1
    with Store(tmp_path / "s.duckdb") as store:
        store.ensure_schema()
        with store.transaction() as con:  # an import commits: read again
            con.execute("SELECT 1")
        assert get() == 2
        assert get() == 2
        memo.bump()  # a POST request
        assert get() == 3


def test_user_and_token_changes_are_seen_at_once(tmp_path: Path) -> None:
    from callkpi.queries.web_tables import ensure_web_schema

    memo = ReadMemo()
    reads, get = _counting(memo)
    with Store(tmp_path / "s.duckdb") as store:
        ensure_web_schema(store)
        get()
        create_user(store, "ann", "a-long-password", "admin")  # outside a transaction: counted by auth
        assert get() == 2
        set_password(store, "ann", "another-long-password")
        assert get() == 3
        create_token(store, "ann")
        assert get() == 4
        revoke_tokens(store, "ann")
        assert get() == 5
    assert len(reads) == 5


def test_values_age_and_unknowns_are_not_kept() -> None:
    now = [0.0]
    memo = ReadMemo(max_age_s=2, clock=lambda: now[0])
    _reads, get = _counting(memo)
    get()
    now[0] = 1.9
    assert get() == 1
    now[0] = 4.0
    assert get() == 2
    asked: list[int] = []
    for _ in range(3):
        assert memo.get("nobody", lambda: asked.append(1), keep_none=False) is None
    assert len(asked) == 3


def test_the_memo_is_bounded() -> None:
    memo = ReadMemo(max_entries=3)
    for key in range(10):
        memo.get(key, lambda: "v")
    assert len(memo._items) <= 3


def test_values_in_use_are_read_ahead_and_others_left_to_age() -> None:
    now = [0.0]
    memo = ReadMemo(max_age_s=2, clock=lambda: now[0])
    used: list[int] = []
    idle: list[int] = []
    memo.get("used", lambda: used.append(1) or len(used))
    memo.get("idle", lambda: idle.append(1) or len(idle))
    now[0] = 0.5
    assert memo.refresh(in_use_s=30) == 0  # young: nothing to read
    now[0] = 1.5  # past half the age: the value asked for lately is read again ahead of the readers
    assert memo.peek("used") == 1
    assert memo.refresh(in_use_s=0.5) == 1
    assert (len(used), len(idle)) == (2, 1)
    now[0] = 3.0  # 1.5 s after it was read ahead: still good for a reader, the idle one aged out
    assert memo.peek("used") == 2
    assert memo.peek("idle") is MISSING


def test_reading_ahead_follows_writes_and_drops_what_is_gone(tmp_path: Path) -> None:
    memo = ReadMemo()
    owner = {"token": "ann"}
    memo.get("token", lambda: owner["token"], keep_none=False)
    with Store(tmp_path / "s.duckdb") as store:
        store.ensure_schema()
        with store.transaction() as con:  # a commit moves the stamp: the kept value is no longer handed out
            con.execute("SELECT 1")
        assert memo.peek("token") is MISSING
        owner["token"] = None  # e.g. revoked meanwhile
        assert memo.refresh() == 1
        assert memo.peek("token") is MISSING and "token" not in memo._items
        owner["token"] = "bob"
        memo.get("token", lambda: owner["token"], keep_none=False)
        with store.transaction() as con:
            con.execute("SELECT 1")
        assert memo.refresh() == 1
        assert memo.peek("token") == "bob"  # read again ahead: found without a read by the request


def test_readers_wait_for_the_keepers_one_read_after_a_write() -> None:
    import asyncio
    import threading

    from callkpi.web.read_memo import keep_fresh

    memo, reads, stop = ReadMemo(), [], threading.Event()
    memo.get("version", lambda: reads.append(1) or len(reads))
    keeper = threading.Thread(target=keep_fresh, args=(memo, stop, 60.0), daemon=True)
    keeper.start()
    try:
        for _ in range(100):
            if memo.keeper_running:
                break
            threading.Event().wait(0.01)
        memo.bump()  # a write: the value is not handed out until read again

        async def readers() -> list[object]:
            async def one() -> object:
                if memo.peek("version") is MISSING:
                    await memo.read_ahead(5)
                return memo.peek("version")

            return list(await asyncio.gather(*(one() for _ in range(20))))

        assert asyncio.run(readers()) == [2] * 20  # each got the value read once by the keeper
        assert len(reads) == 2
    finally:
        stop.set()
        memo._wake.set()
        keeper.join(5)
    assert not memo.keeper_running
