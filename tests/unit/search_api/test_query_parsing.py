"""The query parser, text splitting, cursors, highlighting and small policies (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.locale import Locale
from search_api.backends.base import Scope
from search_api.backends.meilisearch import translate
from search_api.consistency import FreshnessGate
from search_api.cursor import Cursor, decode_cursor, encode_cursor
from search_api.errors import InvalidQuery, QueryTooLarge, RateLimited, SearchApiError
from search_api.highlight import highlight
from search_api.query import parse_content_search, parse_product_search
from search_api.ratelimit import RateLimiter
from search_api.tenancy import Tenant
from search_api.text import parse_text, typo_distance

KEYS = ["q", "locale", "category", "tag", "currency", "price_min", "price_max", "in_stock", "facets", "sort", "limit",
        "offset", "cursor", "status", "option.color", "kind", "published_from", "author", "bogus"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), st.lists(st.text(max_size=40), min_size=1, max_size=3), max_size=6))
def test_any_parameters_either_parse_or_raise_a_client_error(params: dict[str, list[str]]) -> None:
    for parse in (parse_product_search, parse_content_search):
        try:
            parse(params)
        except SearchApiError as error:
            assert 400 <= error.status < 500 and error.errors


@pytest.mark.parametrize("key", ["limit", "offset"])
@pytest.mark.parametrize("value", ["¹", "²0", "١٢", "-1", "1.5", ""])
def test_page_numbers_that_are_not_ascii_digits_are_client_errors_naming_the_field(key: str, value: str) -> None:
    for parse in (parse_product_search, parse_content_search):
        with pytest.raises(InvalidQuery) as error:
            parse({key: [value]})
        assert error.value.errors[0].path == key


@given(st.text(max_size=200))
def test_any_text_splits_into_lower_case_words_without_error(raw: str) -> None:
    text = parse_text(raw)
    assert all(w == w.lower() and w for w in text.words)


def test_quotes_make_phrases_and_the_word_being_typed_is_a_prefix() -> None:
    text = parse_text('"organic cotton" shi')
    assert text.phrases == (("organic", "cotton"),) and text.terms == ("shi",) and text.prefix_last
    assert not parse_text("shirt ").prefix_last and not parse_text('"red shirt"').prefix_last


def test_typo_distance_grows_with_word_length() -> None:
    assert [typo_distance(w) for w in ("mug", "shirt", "sweaters", "turtleneck")] == [0, 1, 1, 2]


def test_prices_need_a_currency_and_bounds_are_checked() -> None:
    with pytest.raises(InvalidQuery) as error:
        parse_product_search({"price_max": ["100"]})
    assert error.value.errors[0].path == "currency"
    with pytest.raises(QueryTooLarge):
        parse_product_search({"limit": ["500"]})
    parsed = parse_product_search({"currency": ["eur"], "price_min": ["100"], "category": ["a,b", "c"]})
    assert parsed.product_filters.price is not None and parsed.product_filters.price.currency == "EUR"
    assert parsed.product_filters.categories == ("a", "b", "c") and parsed.sort == "newest"


def test_a_cursor_round_trips_and_is_refused_for_another_query_or_when_tampered() -> None:
    token = encode_cursor("query-1", Cursor(sort="newest", key=5, id="abc", offset=20))
    assert decode_cursor(token, "query-1", "newest") == Cursor(sort="newest", key=5, id="abc", offset=20)
    for fingerprint, sort, bad in (("query-2", "newest", token), ("query-1", "title", token),
                                   ("query-1", "newest", token[:-3] + "AAA"), ("query-1", "newest", "%%%")):
        with pytest.raises(InvalidQuery):
            decode_cursor(bad, fingerprint, sort)


def test_highlights_escape_html_and_mark_stem_typo_and_prefix_matches() -> None:
    marked = highlight("<b>Organic</b> cottons & shirts", parse_text("organic cotton shi"), 160)
    assert marked == "&lt;b&gt;<mark>Organic</mark>&lt;/b&gt; <mark>cottons</mark> &amp; <mark>shirts</mark>"
    assert highlight("nothing here", parse_text("cotton"), 160) is None


def test_the_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    limiter.take("k")
    limiter.take("k")
    with pytest.raises(RateLimited) as error:
        limiter.take("k")
    assert error.value.retry_after == pytest.approx(0.5)
    limiter.take("other")
    now[0] = 0.5
    limiter.take("k")


def test_locale_resolution_prefers_region_then_language_then_default() -> None:
    tenant = Tenant(id=uuid4(), slug="t", default_locale=Locale("en"), locales=(Locale("en"), Locale("de"),
                                                                                 Locale("pt-BR")))
    assert [tenant.resolve_locale(Locale(x)) for x in ("de-AT", "pt-BR", "pt-PT", "fr")] == ["de", "pt-BR", "en", "en"]
    assert tenant.resolve_locale(None) == "en"


class _Position:
    def __init__(self, values: list[int]) -> None:
        self.values = values

    def applied_lsn(self) -> int:
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


def test_the_freshness_gate_waits_until_the_position_passes_the_token_or_the_bound() -> None:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    assert FreshnessGate(_Position([1, 2, 300]), 2.0, 0.1, lambda: clock[0], sleep).wait("0/100")
    assert clock[0] == pytest.approx(0.2)
    assert not FreshnessGate(_Position([1]), 1.0, 0.1, lambda: clock[0], sleep).wait("0/100")
    assert FreshnessGate(_Position([1]), 1.0, 0.1).wait(None)


def test_meilisearch_translation_always_scopes_to_the_tenant_locale_and_status() -> None:
    tenant_id = uuid4()
    scope = Scope(tenant_id=tenant_id, locale=Locale("de"), statuses=("published",))
    request = parse_product_search({"tag": ['x" OR tenant_id = "other'], "sort": ["price_asc"], "currency": ["EUR"]})
    params = translate(scope, request)
    assert params["filter"][:3] == [f'tenant_id = "{tenant_id}"', 'locale = "de"', '(status = "published")']
    assert params["filter"][3] == '(tag_slugs = "x\\" OR tenant_id = \\"other")'
    assert params["sort"] == ["price_min.EUR:asc", "id:asc"]
    content = parse_content_search({"published_from": ["2026-01-01"]})
    assert translate(scope, content)["filter"][-1] == f"published_ts >= {int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())}"
