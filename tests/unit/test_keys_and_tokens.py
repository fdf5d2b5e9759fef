from __future__ import annotations

import pytest

from contracts.consistency import InvalidConsistencyToken, encode_token, parse_token
from contracts.keys import InvalidApiKey, issue_api_key, key_matches, parse_api_key


def test_an_issued_key_is_recognised_by_its_prefix_and_hash() -> None:
    issued = issue_api_key("search_public")
    presented = parse_api_key(issued.key)
    assert (presented.kind, presented.prefix) == ("search_public", issued.prefix)
    assert key_matches(presented, issued.key_hash)
    assert issued.key_hash != issued.key and issued.key not in issued.key_hash


def test_a_key_with_a_changed_secret_does_not_match() -> None:
    issued = issue_api_key("integration")
    tampered = issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B")
    assert not key_matches(parse_api_key(tampered), issued.key_hash)


@pytest.mark.parametrize("key", ["", "rtk_pub_short_x", "Bearer abc", "rtk_xyz_" + "a" * 12 + "_" + "b" * 32])
def test_malformed_keys_are_refused_without_echoing_them(key: str) -> None:
    with pytest.raises(InvalidApiKey) as info:
        parse_api_key(key)
    assert key == "" or key not in str(info.value)


@pytest.mark.parametrize("lsn", [0, 1, 0x16B3748, (0x16 << 32) | 0xB374D848, (1 << 64) - 1])
def test_tokens_round_trip_in_postgres_lsn_form(lsn: int) -> None:
    assert parse_token(encode_token(lsn)) == lsn


def test_token_text_matches_postgres_spelling() -> None:
    assert encode_token((0x16 << 32) | 0xB374D848) == "16/B374D848"


@pytest.mark.parametrize("token", ["", "123", "0/", "G/1", "1/2/3", "123456789/0"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidConsistencyToken):
        parse_token(token)
