"""A reduce-side join of two CSV datasets: every order with its customer's details.

Both files go through one job: the mapper tags each row by the file it came from
(told apart by their columns) and keys it by customer id, so a customer's row and
all their orders meet in one reducer call. Orders whose customer is missing are
counted (``join.orphan_orders``) and left out, as an inner join does.

    simplemr run simplemr.examples.join:OrdersWithCustomers orders.csv customers.csv
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from simplemr import Job


class OrdersWithCustomers(Job):
    """order_id -> the order's columns with the customer's name and country."""

    INPUT_FORMAT = "csv"
    OUTPUT_FORMAT = "jsonl"
    SORT = True

    def mapper(
        self, _: None, row: dict[str, str]
    ) -> Iterator[tuple[str, tuple[str, dict[str, str]]]]:
        if "order_id" in row:
            yield row["customer_id"], ("order", row)
        else:
            yield row["customer_id"], ("customer", row)

    def reducer(
        self, customer_id: str, tagged: Iterable[tuple[str, dict[str, str]]]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        customer = None
        orders = []
        for tag, row in tagged:  # the customer may come after their orders
            if tag == "customer":
                customer = row
            else:
                orders.append(row)
        if customer is None:
            self.increment_counter("join", "orphan_orders", len(orders))
            return
        for order in orders:
            joined: dict[str, Any] = dict(order, name=customer["name"], country=customer["country"])
            joined["amount"] = float(joined["amount"])
            yield order["order_id"], joined


if __name__ == "__main__":
    OrdersWithCustomers.main()
