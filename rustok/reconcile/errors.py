"""Errors of reconciliation (tree in the package docstring)."""

from __future__ import annotations


class ReconcileError(Exception):
    """Root of the reconciliation errors."""


class RepairBlocked(ReconcileError):
    """The live Tantivy index is held by a writer that did not let go in time."""
