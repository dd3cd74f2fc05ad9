"""Password hashes: the product's argon2id cost, and the cheap one tests use.

The test suite hashes at argon2id's smallest cost (tests/conftest.py sets
CALLKPI_TEST_CHEAP_PASSWORD_HASHES, read by callkpi.web.auth): here the product's own cost is
checked without it, and a cheap hash is made again at that cost at the next sign-in."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web import auth

PASSWORD = "correct horse battery"


def _cost(password_hash: str) -> str:
    """The parameter field of an encoded argon2 hash: 'm=...,t=...,p=...'."""
    return password_hash.split("$")[3]


def test_the_product_hashes_at_full_argon2id_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(auth.TEST_CHEAP_HASHES_ENV, raising=False)
    made = auth._password_hasher().hash(PASSWORD)
    assert made.startswith("$argon2id$")
    assert _cost(made) == "m=65536,t=3,p=4"


def test_only_the_variable_set_to_1_makes_hashes_cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.TEST_CHEAP_HASHES_ENV, "1")
    assert _cost(auth._password_hasher().hash(PASSWORD)) == "m=8,t=1,p=1"
    for value in ("0", "true", "yes", ""):
        monkeypatch.setenv(auth.TEST_CHEAP_HASHES_ENV, value)
        assert auth._password_hasher().time_cost == PasswordHasher().time_cost


def test_a_cheap_hash_is_made_again_at_full_cost_at_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(":memory:") as store:
        ensure_web_schema(store)
        monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        auth.create_user(store, "ann", PASSWORD, "admin")
        cheap = auth.get_user(store, "ann")
        assert cheap is not None and _cost(cheap.password_hash) == "m=8,t=1,p=1"
        monkeypatch.setattr(auth, "_hasher", PasswordHasher())
        assert auth.authenticate(store, "ann", "wrong password") is None
        signed_in = auth.authenticate(store, "ann", PASSWORD)
        assert signed_in is not None and _cost(signed_in.password_hash) == "m=65536,t=3,p=4"
        assert auth.authenticate(store, "ann", PASSWORD) is not None
