from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import BaseModel
from ulid import ULID

from contracts.ids import Id, InvalidId, new_id, parse_id, to_ulid


def test_new_ids_sort_by_creation_time() -> None:
    ids = [new_id() for _ in range(50)]
    assert [ULID.from_uuid(i).timestamp for i in ids] == sorted(ULID.from_uuid(i).timestamp for i in ids)


def test_parse_accepts_ulid_and_uuid_spellings_of_the_same_id() -> None:
    value = new_id()
    assert parse_id(str(value)) == value
    assert parse_id(to_ulid(value)) == value
    assert parse_id(to_ulid(value).lower()) == value


@pytest.mark.parametrize("bad", ["", "not-an-id", "01ARZ3NDEKTSV4RRFFQ69G5FA", "zzzzzzzzzzzzzzzzzzzzzzzzzz", "1234"])
def test_parse_rejects_garbage_with_a_clear_error(bad: str) -> None:
    with pytest.raises(InvalidId, match="not a ULID or UUID"):
        parse_id(bad)


def test_pydantic_fields_accept_either_form() -> None:
    class Ref(BaseModel):
        id: Id

    value = new_id()
    assert Ref(id=to_ulid(value)).id == value
    assert isinstance(Ref(id=str(value)).id, UUID)
