"""Order totals, computed on the server from line quantities and unit prices."""

from __future__ import annotations

from dataclasses import dataclass

from write_api.errors import FieldError, InvalidInput, InvalidTransition


@dataclass(frozen=True, slots=True)
class PricedLine:
    quantity: int
    unit_price: int

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class OrderTotals:
    subtotal: int
    tax_total: int
    shipping_total: int
    discount_total: int
    total: int


def order_totals(lines: list[PricedLine], *, tax: int = 0, shipping: int = 0, discount: int = 0) -> OrderTotals:
    """Totals in minor units; a discount larger than what it discounts is refused."""
    if not lines:
        raise InvalidInput("an order needs at least one line", (FieldError(("body", "lines"), "at least one line"),))
    subtotal = sum(line.total for line in lines)
    gross = subtotal + tax + shipping
    if discount > gross:
        raise InvalidInput(
            "discount exceeds the order amount",
            (FieldError(("body", "discount_total"), f"at most {gross}"),),
        )
    return OrderTotals(subtotal, tax, shipping, discount, gross - discount)


ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilled", "refunded", "cancelled"}),
    "fulfilled": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}


def next_order_status(current: str, target: str) -> str:
    if target not in ORDER_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(f"an order that is {current} cannot become {target}",
                                (FieldError(("body", "status"), f"not allowed from {current}"),))
    return target
