from __future__ import annotations

import pytest

from contracts.locale import InvalidLocale, fallback_chain, parse_locale, text_search_config
from contracts.money import InvalidCurrency, minor_unit_digits, parse_currency
from contracts.tenancy import TenantLocales
from contracts.ids import TenantId, new_id


@pytest.mark.parametrize(("raw", "normalised"), [
    ("en", "en"), ("EN-us", "en-US"), ("de-at", "de-AT"), ("sr-latn-rs", "sr-Latn-RS"), ("es-419", "es-419"), (" ru ", "ru"),
])
def test_locales_are_normalised(raw: str, normalised: str) -> None:
    assert parse_locale(raw) == normalised


@pytest.mark.parametrize("bad", ["", "e", "english", "en_US", "xx", "en-", "de-DE-1996", "12", "en-USA1"])
def test_invalid_locales_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidLocale):
        parse_locale(bad)


def test_fallback_goes_from_region_to_language_to_tenant_default() -> None:
    assert fallback_chain("de-AT", "en") == ["de-AT", "de", "en"]
    assert fallback_chain("en", "en") == ["en"]


def test_tenant_fallback_skips_locales_the_tenant_does_not_publish() -> None:
    tenant = TenantLocales(TenantId(new_id()), parse_locale("en"), frozenset({parse_locale("en"), parse_locale("de")}))
    assert tenant.resolve("de-AT") == ["de", "en"]
    assert tenant.resolve("fr") == ["en"]


def test_text_search_configs_stem_en_de_ru_and_fall_back_to_simple() -> None:
    assert text_search_config("en-GB") == "english"
    assert text_search_config("de") == "german"
    assert text_search_config("ru") == "russian"
    assert text_search_config("ja") == "simple"


def test_currencies_are_iso_4217() -> None:
    assert parse_currency("eur") == "EUR"
    assert minor_unit_digits("JPY") == 0
    assert minor_unit_digits("EUR") == 2
    for bad in ("EU", "EURO", "XYZ", "", "€"):
        with pytest.raises(InvalidCurrency):
            parse_currency(bad)
