"""Pure parts of the sinks: emission buffer, index layout mapping, Meilisearch documents."""

from __future__ import annotations

import pytest

from contracts.ids import new_id
from contracts.search_index import (
    CONTENT_LAYOUT, PRODUCT_LAYOUT, analyzer_for_locale, document_fields, price_field,
)
from pipelines.sinks.buffer import EmissionBuffer
from pipelines.sinks.errors import InvalidEmission
from pipelines.sinks.meilisearch_sink import SETTINGS, index_uid, meili_document, meili_key
from tests.integration.sinks.factory import content, emit, product, product_emission


def test_the_buffer_keeps_the_newest_emission_per_root_and_ignores_other_doc_types() -> None:
    tenant, pid, nid = new_id(), new_id(), new_id()
    buffer = EmissionBuffer({"product"})
    buffer.add([product_emission(tenant, pid, 5), product_emission(tenant, pid, 3),
                emit(tenant, nid, 1, content(tenant, nid))])
    buffer.add([product_emission(tenant, pid, 5, locales=("en",))])
    (kept,) = buffer.take()
    assert (kept.version, kept.locales) == (5, ("en",))
    assert len(buffer) == 0


def test_a_batch_with_one_bad_emission_is_refused_whole() -> None:
    tenant, pid = new_id(), new_id()
    buffer = EmissionBuffer({"product"})
    with pytest.raises(InvalidEmission, match="version"):
        buffer.add([product_emission(tenant, new_id(), 1), emit(tenant, pid, 2, product(tenant, pid, version=1))])
    assert len(buffer) == 0


@pytest.mark.parametrize(("locale", "analyzer"), [("en", "english"), ("de-AT", "german"), ("ru", "russian"),
                                                 ("nb", "norwegian"), ("ja", "simple"), ("ca", "simple")])
def test_a_locale_maps_to_its_languages_analyzer(locale: str, analyzer: str) -> None:
    assert analyzer_for_locale(locale).language == analyzer


def test_a_product_fills_only_its_languages_text_fields_and_its_currencies() -> None:
    tenant, pid = new_id(), new_id()
    doc = product(tenant, pid, "de", prices={"EUR": (100, 200), "CHF": (110, 220)}, categories=[["men", "shirts"]],
                  tags=["linen"])
    fields = document_fields(doc)
    assert fields["title__german"] == ["Leinen Hemden"]
    assert not any(name.startswith("title__") and name != "title__german" for name in fields)
    assert fields[price_field("min", "CHF")] == [110] and fields[price_field("max", "EUR")] == [200]
    assert fields["category"] == ["/men/shirts"] and fields["tag"] == ["/linen"]
    assert fields["tenant_id"] == [str(tenant)] and fields["root_key"] == [f"{tenant}/{pid}"]
    assert set(fields) <= {f.name for f in PRODUCT_LAYOUT.concrete_fields()}


def test_a_content_document_maps_into_the_content_layout() -> None:
    tenant, nid = new_id(), new_id()
    fields = document_fields(content(tenant, nid, "ru", slug=None, kind="topic", category="news"))
    assert fields["kind"] == ["topic"] and "slug" not in fields and fields["category"] == ["/news"]
    assert set(fields) <= {f.name for f in CONTENT_LAYOUT.concrete_fields()}


def test_meilisearch_documents_have_safe_keys_and_flat_sortable_prices() -> None:
    tenant, pid = new_id(), new_id()
    doc = meili_document(product(tenant, pid, "sr-Latn-RS", prices={"EUR": (100, 200)}))
    assert doc["key"] == f"{tenant.hex}_sr-Latn-RS_{pid.hex}"
    assert doc["price_min"] == {"EUR": 100} and doc["published_at_ts"] > 0
    assert meili_key(tenant, "x.y", pid) == f"{tenant.hex}_x-y_{pid.hex}"
    assert index_uid("rustok", "product", 2) == "rustok_product_v2"
    settings = SETTINGS["product"]
    for field in ("tenant_id", "locale", "status", "category_handles", "tag_slugs", "price_min", "in_stock"):
        assert field in settings["filterableAttributes"]
    assert {"price_min", "published_at_ts", "title"} <= set(settings["sortableAttributes"])
    assert set(doc) >= set(settings["filterableAttributes"]) - {"vendor", "product_type"}
