"""The Faust stages without Kafka: the state store over key-value tables, stage 1 on
hand-built Debezium records, documents messages, and checkpoint progress."""

from __future__ import annotations

import orjson

from contracts.envelope import ChangeEvent
from pipelines.faust_app.checkpoint import Progress
from pipelines.faust_app.messages import Origin, decode_docs, docs_key, encode_docs
from pipelines.faust_app.project import ProjectStage, SourceRecord
from pipelines.faust_app.state import FaustStateStore
from pipelines.state.port import StoredRow
from tests.unit.pipelines.builders import Stream

PREFIX = "rustok"


def _records(events: list[ChangeEvent], start: int = 0) -> list[SourceRecord]:
    return [SourceRecord(Origin(f"{PREFIX}.public.{e.table}", 0, start + i), orjson.dumps({"id": e.row["id"]}),
                         orjson.dumps(e.model_dump(mode="json", by_alias=True))) for i, e in enumerate(events)]


def test_committed_state_comes_back_from_the_tables_and_uncommitted_state_does_not() -> None:
    rows: dict[str, bytes] = {}
    marks: dict[str, bytes] = {}
    store = FaustStateStore(rows, marks)
    store.put("items:1", StoredRow((1, 10), {"id": "1"}, ("tenant:a", "cat:x")))
    store.put("items:2", StoredRow((1, 11), None))
    store.set_mark("rootv:1", 10)
    store.commit()
    store.put("items:3", StoredRow((1, 12), {"id": "3"}, ("tenant:a",)))
    store.close()

    reopened = FaustStateStore(rows, marks)
    assert reopened.get("items:1") == StoredRow((1, 10), {"id": "1"}, ("tenant:a", "cat:x"))
    assert reopened.get("items:2") == StoredRow((1, 11), None)
    assert reopened.get("items:3") is None
    assert [k for k, _ in reopened.members("cat:x")] == ["items:1"]  # group index rebuilt from rows
    assert reopened.mark("rootv:1") == 10


def test_stage_one_projects_records_and_sends_bad_ones_to_dead_letters_with_their_origin() -> None:
    stream = Stream()
    tenant = stream.tenant(locales=("en",))
    stream.product(tenant, "mug", {"en": "Mug"})
    good = _records(stream.events)
    bad_json = SourceRecord(Origin(f"{PREFIX}.public.commerce_tags", 0, 99), b'{"id": 1}', b'{"op": "c", ')
    not_an_event = SourceRecord(Origin(f"{PREFIX}.public.commerce_tags", 0, 100), None, b'{"op": "zz"}')
    stage = ProjectStage(FaustStateStore({}, {}), "faust", PREFIX)

    out = stage.process([*good[:2], bad_json, *good[2:], not_an_event])

    assert out.events == len(good)
    [emission] = out.emissions
    assert [doc.locale for doc in emission.documents] == ["en"]
    assert {(letter.stage, origin.offset) for letter, origin in out.dead} == {("decode", 99), ("decode", 100)}
    unreadable = next(letter for letter, origin in out.dead if origin.offset == 99)
    assert unreadable.payload == '{"op": "c", ' and "not JSON" in unreadable.reason


def test_a_replayed_batch_after_a_lost_commit_emits_the_same_documents() -> None:
    stream = Stream()
    tenant = stream.tenant(locales=("en", "de"))
    stream.product(tenant, "mug", {"en": "Mug", "de": "Becher"})
    rows: dict[str, bytes] = {}
    marks: dict[str, bytes] = {}
    first = ProjectStage(FaustStateStore(rows, marks), "faust", PREFIX)
    emitted = first.process(_records(stream.events)).emissions
    first.commit()  # the changelog got the state, but the source offsets were never committed

    replayed = ProjectStage(FaustStateStore(rows, marks), "faust", PREFIX).process(_records(stream.events))

    assert replayed.emissions == emitted


def test_a_documents_message_round_trips_and_is_keyed_by_root() -> None:
    stream = Stream()
    tenant = stream.tenant(locales=("en", "ru"))
    stream.product(tenant, "mug", {"en": "Mug", "ru": "Кружка"})
    [emission] = ProjectStage(FaustStateStore({}, {}), "faust", PREFIX).process(_records(stream.events)).emissions
    assert decode_docs(encode_docs(emission)) == emission
    assert docs_key(emission.root) == f"{emission.root.tenant_id}/{emission.root.id}".encode()


def test_progress_counts_committed_offsets_of_partitions_idle_since_a_restart() -> None:
    progress = Progress()
    progress.advance("a", 0, 5)
    assert progress.missing({("a", 0): 7, ("b", 0): 3}, {}) == {("a", 0): 2, ("b", 0): 3}
    assert progress.missing({("a", 0): 5, ("b", 0): 3}, {("b", 0): 3}) == {}
