"""Errors of the shared contracts.

ContractError
 ├── InvalidId          (contracts.ids)
 ├── InvalidLocale      (contracts.locale)
 ├── InvalidCurrency    (contracts.money)
 ├── InvalidChangeEvent (contracts.envelope)
 ├── InvalidApiKey      (contracts.keys)
 └── InvalidConsistencyToken (contracts.consistency)
"""

from __future__ import annotations


class ContractError(Exception):
    """Root of every error raised by ``contracts``."""
