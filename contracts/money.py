"""Money: integer minor units with an ISO 4217 currency code. No floats."""

from __future__ import annotations

import re
from typing import Annotated, NewType

import pycountry
from pydantic import BeforeValidator

from contracts.errors import ContractError

Currency = NewType("Currency", str)

CURRENCY_PATTERN = r"^[A-Z]{3}$"
_CURRENCY_RE = re.compile(CURRENCY_PATTERN)


class InvalidCurrency(ContractError, ValueError):
    """Not an ISO 4217 currency code."""


def parse_currency(value: str) -> Currency:
    text = value.strip().upper() if isinstance(value, str) else ""
    if not _CURRENCY_RE.match(text) or pycountry.currencies.get(alpha_3=text) is None:
        raise InvalidCurrency(f"{value!r} is not an ISO 4217 currency code like 'EUR' or 'USD'")
    return Currency(text)


def minor_unit_digits(currency: str) -> int:
    """Digits after the decimal point (JPY 0, EUR 2, KWD 3)."""
    return _MINOR_UNITS.get(currency, 2)


# ISO 4217 exponents that differ from 2 (pycountry does not carry them).
_MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

CurrencyField = Annotated[Currency, BeforeValidator(lambda v: parse_currency(v) if isinstance(v, str) else v)]
