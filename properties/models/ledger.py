"""The double-entry ledger, as the specification: a posting is accepted whole when balanced, else refused whole."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal


def is_balanced(legs: list[dict]) -> bool:
    """At least two legs, and debits equal credits: SUM(amount * direction) = 0."""
    return len(legs) >= 2 and sum(leg["amount"] * leg["direction"] for leg in legs) == 0


def content(currency: str, legs: list[dict]) -> tuple:
    """What makes two postings the same posting: currency and the multiset of legs."""
    return currency, sorted((leg["account_type"], Decimal(leg["amount"]), leg["direction"]) for leg in legs)


class Ledger:
    """Postings by transaction id. Entries are never changed or removed once accepted."""

    def __init__(self) -> None:
        self.postings: dict[object, tuple] = {}

    def post(self, transaction_id: object, currency: str, legs: list[dict], retry_allowed: bool = True) -> bool:
        """Accept a balanced posting under a new id. The same posting again under its id is accepted and
        changes nothing (``retry_allowed``, as the posting function does); anything else is refused."""
        if not is_balanced(legs):
            return False
        if transaction_id in self.postings:
            return retry_allowed and self.postings[transaction_id] == content(currency, legs)
        self.postings[transaction_id] = content(currency, legs)
        return True

    def balances(self) -> dict[tuple[str, str], Decimal]:
        """Balance per (account, currency): debits minus credits."""
        totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for currency, legs in self.postings.values():
            for account, amount, direction in legs:
                totals[account, currency] += amount * direction
        return dict(totals)


def mirror(legs: list[dict]) -> list[tuple[str, Decimal, int]]:
    """A reversal's legs: every leg of the original, same account and amount, opposite direction (as a multiset)."""
    return sorted((leg["account_type"], Decimal(leg["amount"]), -leg["direction"]) for leg in legs)
