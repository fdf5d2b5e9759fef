"""Locales: BCP 47 tags restricted to language[-Script][-REGION], normalised.

Normalised form: language lower case, script title case, region upper case
(``de-AT``, ``sr-Latn-RS``). The same pattern guards the database columns.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, NewType

import langcodes
from pydantic import BeforeValidator

from contracts.errors import ContractError

Locale = NewType("Locale", str)

LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
_LOCALE_RE = re.compile(LOCALE_PATTERN)
_SHAPE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$")

# PostgreSQL text search configurations per language. Languages without a stemmer
# fall back to 'simple' (lower-casing, no stemming), in Tantivy as well.
TEXT_SEARCH_CONFIGS: dict[str, str] = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}


class InvalidLocale(ContractError, ValueError):
    """Not a BCP 47 tag of the form language[-Script][-REGION]."""


def parse_locale(value: str) -> Locale:
    """Validate and normalise a locale tag (``EN-us`` → ``en-US``)."""
    locale = _normalised(value.strip() if isinstance(value, str) else "")
    if locale is None:
        raise InvalidLocale(f"{value!r} is not a locale tag like 'en', 'de-AT' or 'sr-Latn-RS'")
    return locale


@functools.lru_cache(maxsize=4096)
def _normalised(text: str) -> Locale | None:
    # Every document of a rebuild validates its locale and langcodes' check is most of
    # that cost, while a catalogue has a handful of tags: remember them (bounded, so
    # arbitrary input cannot grow it).
    if not _SHAPE_RE.match(text) or not langcodes.tag_is_valid(text):
        return None
    parts = text.split("-")
    normalised = [parts[0].lower()]
    for part in parts[1:]:
        normalised.append(part.title() if len(part) == 4 else part.upper())
    tag = "-".join(normalised)
    return Locale(tag) if _LOCALE_RE.match(tag) else None


def language_of(locale: str) -> str:
    return locale.split("-", 1)[0]


def fallback_chain(requested: str, tenant_default: str) -> list[Locale]:
    """Locales to try in order: the requested tag, its language, the tenant default."""
    chain: list[Locale] = []
    for candidate in (requested, language_of(requested), tenant_default):
        locale = Locale(candidate)
        if locale not in chain:
            chain.append(locale)
    return chain


def text_search_config(locale: str) -> str:
    """The PostgreSQL text search configuration for a locale."""
    return TEXT_SEARCH_CONFIGS.get(language_of(locale), "simple")


LocaleField = Annotated[Locale, BeforeValidator(lambda v: parse_locale(v) if isinstance(v, str) else v)]
