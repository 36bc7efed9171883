"""A reduce-side join of two CSV datasets: every order with its customer's details.

Twice: ``orders_with_customers`` in a few lines on ``simplemr.join`` (each file a named
input with a mapper of its own; a customer's row reaches the reducer before their
orders, so it holds one row a customer), and ``OrdersWithCustomers``, the same by hand
as a job class for the command line: the mapper tags each row by the file it came from
(told apart by their columns) and keys it by customer id, so a customer's row and all
their orders meet in one reducer call. Orders whose customer is missing are left out,
as an inner join does (the job class counts them, ``join.orphan_orders``).

    simplemr run simplemr.examples.join:OrdersWithCustomers orders.csv customers.csv
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import simplemr
from simplemr import Job


def orders_with_customers(
    orders: str, customers: str, **options: Any
) -> list[tuple[str, dict[str, Any]]]:
    """``(order_id, the order's columns with its customer's name and country)`` for
    every order of ``orders`` (a CSV file) whose customer is in ``customers``, by
    order id; ``options`` go to ``simplemr.join`` (workers, memory...)."""
    job = simplemr.join(
        lambda customer: customer["customer_id"], lambda order: order["customer_id"], **options
    )
    joined = job.run({
        "left": simplemr.input_files([customers], "csv"),  # one row a customer: held
        "right": simplemr.input_files([orders], "csv"),
    })  # fmt: skip
    rows = [
        (order["order_id"], dict(order, amount=float(order["amount"]), name=customer["name"],
                                 country=customer["country"]))
        for _, customer, order in joined
    ]  # fmt: skip
    return sorted(rows, key=lambda row: row[0])


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
