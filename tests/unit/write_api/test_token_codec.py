"""Access tokens: verified once, remembered until they expire, never past it."""

from __future__ import annotations

import time

import pytest

from contracts.ids import new_id
from write_api.adapters.tokens import TokenCodec
from write_api.errors import Unauthenticated


def test_a_remembered_access_token_still_expires_on_time() -> None:
    codec = TokenCodec("s" * 40, access_seconds=1, refresh_seconds=60)
    tenant, user, session = new_id(), new_id(), new_id()
    token, _ = codec.issue("access", tenant, user, session)
    first = codec.decode(token, "access")
    assert codec.decode(token, "access") == first and first.user_id == user
    time.sleep(1.1)
    with pytest.raises(Unauthenticated, match="expired"):
        codec.decode(token, "access")


def test_a_token_is_remembered_only_for_the_kind_it_was_verified_as() -> None:
    codec = TokenCodec("s" * 40, access_seconds=60, refresh_seconds=60)
    refresh, _ = codec.issue("refresh", new_id(), new_id(), new_id())
    codec.decode(refresh, "refresh")
    with pytest.raises(Unauthenticated, match="not an access token"):
        codec.decode(refresh, "access")
    forged = refresh[:-2] + ("AA" if not refresh.endswith("AA") else "BB")
    with pytest.raises(Unauthenticated, match="not valid"):
        codec.decode(forged, "refresh")
