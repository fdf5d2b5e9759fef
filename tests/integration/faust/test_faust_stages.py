"""The Faust stages without Kafka: the state store over key-value tables, stage 1 on
hand-built Debezium records, documents messages, and checkpoint progress."""

from __future__ import annotations

import orjson

from contracts.envelope import ChangeEvent
from pipelines.faust_app.checkpoint import Progress
from pipelines.faust_app.messages import Origin, PublishedEmissions, decode_docs, docs_key, encode_docs
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


def _snapshot_reads(events: list[ChangeEvent]) -> list[ChangeEvent]:
    """``events`` as Debezium's initial snapshot sends them: op ``r``, the last one marked ``last``."""
    reads = [e.model_copy(update={"op": "r", "source": e.source.model_copy(update={"snapshot": "true"})})
             for e in events]
    reads[-1] = reads[-1].model_copy(update={"source": reads[-1].source.model_copy(update={"snapshot": "last"})})
    return reads


def _catalogue() -> tuple[Stream, str, str]:
    stream = Stream()
    tenant = stream.tenant(locales=("en", "de"))
    stream.product(tenant, "mug", {"en": "Mug", "de": "Becher"})
    stream.product(tenant, "cup", {"en": "Cup", "de": "Tasse"})
    return stream, tenant, "mug"


def test_a_held_snapshot_builds_each_root_once_when_released_and_equals_building_per_batch() -> None:
    stream, _, _ = _catalogue()
    records = _records(_snapshot_reads(stream.events))
    per_batch = ProjectStage(FaustStateStore({}, {}), "faust", PREFIX)
    built_per_batch = [e for part in (records[:4], records[4:]) for e in per_batch.process(part).emissions]
    stage = ProjectStage(FaustStateStore({}, {}), "faust", PREFIX)

    held = [stage.process(part, hold=True) for part in (records[:4], records[4:])]

    assert all(out.held and not out.emissions for out in held) and stage.snapshot_ended
    assert stage.pending_roots == 2
    released = [*stage.release(1).emissions, *stage.release(1).emissions]
    assert stage.pending_roots == 0
    assert len(built_per_batch) > len(released) == 2  # per batch, a root is built once per batch it has rows in
    newest = {e.root: e for e in built_per_batch}
    assert {e.root: e for e in released} == newest


def test_a_streamed_change_waits_behind_held_roots_and_their_state_is_unwritten_until_released() -> None:
    stream, _, _ = _catalogue()
    snapshot = _records(_snapshot_reads(stream.events))
    mug = next(e for e in stream.events if e.table == "commerce_products" and e.row["handle"] == "mug").row["id"]
    translation = next(e.row["id"] for e in stream.events
                       if e.table == "commerce_product_translations" and e.row["product_id"] == mug
                       and e.row["locale"] == "en")
    stream.update("commerce_product_translations", translation, title="Big Mug")
    rows: dict[str, bytes] = {}
    marks: dict[str, bytes] = {}
    stage = ProjectStage(FaustStateStore(rows, marks), "faust", PREFIX)

    assert stage.process(snapshot, hold=True).held
    streamed = stage.process(_records(stream.events[-1:], start=len(snapshot)), hold=True)

    assert streamed.held and streamed.streamed and not streamed.emissions
    assert not rows  # nothing reached the tables (the changelogs): a crash replays the held events
    released = stage.release(100).emissions
    stage.commit()
    titles = {d.title for e in released for d in e.documents if d.locale == "en"}
    assert titles == {"Big Mug", "Cup"} and rows


def test_the_index_stage_gets_back_the_emission_this_process_published_and_decodes_any_other_message() -> None:
    stream, _, _ = _catalogue()
    first, second = ProjectStage(FaustStateStore({}, {}), "faust", PREFIX).process(_records(stream.events)).emissions
    published = PublishedEmissions(capacity=1)
    value = published.encode(first)
    forgotten = published.encode(second)  # capacity 1: the first one is forgotten, hence decoded

    assert published.decode(forgotten) is second
    assert published.decode(value) == first and published.decode(value) is not first
    assert published.decode(forgotten) is not second  # taken once: a replayed message is decoded


def test_progress_counts_committed_offsets_of_partitions_idle_since_a_restart() -> None:
    progress = Progress()
    progress.advance("a", 0, 5)
    assert progress.missing({("a", 0): 7, ("b", 0): 3}, {}) == {("a", 0): 2, ("b", 0): 3}
    assert progress.missing({("a", 0): 5, ("b", 0): 3}, {("b", 0): 3}) == {}
