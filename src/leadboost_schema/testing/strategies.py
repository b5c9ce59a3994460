"""Hypothesis strategies of leadboost rows and operations, one ``make_<thing>`` per type, valid by construction.

Each strategy draws values the schema accepts (ranges and formats of its CHECK constraints), unless its name
says otherwise (``make_unbalanced_legs``). Downstream repos use them to feed their own code real-looking data::

    from hypothesis import given
    from leadboost_schema.testing import strategies as lb

    @given(legs=lb.make_balanced_legs())
    def test_posting(leadboost_conn, make_tenant, legs):
        tenant = make_tenant(leadboost_conn)
        leadboost_conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, Jsonb(legs)))
"""
from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

ACCOUNT_TYPES = ("CASH", "BANK", "ACCOUNTS_RECEIVABLE", "ACCOUNTS_PAYABLE", "CUSTOMER_CREDIT", "REVENUE",
                 "AD_SPEND", "EXPENSE", "TAX_PAYABLE", "EQUITY", "SUSPENSE")
CURRENCIES = ("EUR", "USD", "MXN")
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def make_tenant_name() -> st.SearchStrategy[str]:
    """An ``iam.tenants.name``: 1–200 characters without surrounding blanks."""
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).map(
        str.strip).filter(bool)


def make_account_type() -> st.SearchStrategy[str]:
    return st.sampled_from(ACCOUNT_TYPES)


def make_currency() -> st.SearchStrategy[str]:
    return st.sampled_from(CURRENCIES)


def make_amount(max_units: int = 10**6) -> st.SearchStrategy[Decimal]:
    """A ledger amount: positive, at most 4 decimals (numeric(19, 4)), drawn in units of 0.0001."""
    return st.integers(1, max_units).map(lambda units: Decimal(units).scaleb(-4))


def _split(total: int, parts: int) -> st.SearchStrategy[list[int]]:
    """``parts`` positive integers summing to ``total`` (``total >= parts``)."""
    cuts = st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True)
    return cuts.map(lambda c: [b - a for a, b in zip([0, *sorted(c)], [*sorted(c), total], strict=True)])


@st.composite
def make_balanced_legs(draw, max_legs: int = 4) -> list[dict]:
    """The legs document of ``finanzas.post_transaction``: 2..max_legs legs with SUM(amount * direction) = 0."""
    debits = draw(st.lists(st.integers(2, 10**6), min_size=1, max_size=max_legs - 1))
    total = sum(debits)
    credits = draw(_split(total, draw(st.integers(1, min(max_legs - len(debits), total)))))
    legs = [(units, 1) for units in debits] + [(units, -1) for units in credits]
    legs = draw(st.permutations(legs))
    return [{"account_type": draw(make_account_type()), "amount": Decimal(units).scaleb(-4),
             "direction": direction} for units, direction in legs]


@st.composite
def make_unbalanced_legs(draw, max_legs: int = 4) -> list[dict]:
    """Legs a ledger must refuse: one leg alone, or legs whose sum is off by a drawn amount."""
    legs = draw(make_balanced_legs(max_legs))
    if draw(st.booleans()):
        return legs[:1]
    leg = legs[draw(st.integers(0, len(legs) - 1))]
    leg["amount"] += draw(make_amount(10**4))
    return legs


def make_legs() -> st.SearchStrategy[list[dict]]:
    """Balanced or not, three to one."""
    return st.one_of(make_balanced_legs(), make_balanced_legs(), make_balanced_legs(), make_unbalanced_legs())


def make_sku() -> st.SearchStrategy[str]:
    """An ``inventory_items.sku``: a letter or digit, then up to 63 of ``A–Z a–z 0–9 . _ -``."""
    return st.builds(lambda head, tail: head + tail, st.sampled_from(_NAME_CHARS),
                     st.text(_NAME_CHARS + "._-", max_size=15))


@st.composite
def make_inventory_item(draw) -> dict:
    """An ``inventory_items`` row's quantities: 0 <= reserved <= on hand."""
    on_hand = draw(st.integers(0, 50))
    return {"sku": draw(make_sku()), "quantity_on_hand": on_hand,
            "quantity_reserved": draw(st.integers(0, on_hand))}


def make_stock_operation() -> st.SearchStrategy[tuple[str, int, int]]:
    """``(reserve | release, quantity, version offset)``: the offset is added to the version the caller last
    read, so 0 is an up-to-date caller and anything else a stale one."""
    return st.tuples(st.sampled_from(("reserve", "release")), st.integers(1, 10),
                     st.sampled_from((0, 0, 0, -1, 1)))


def make_idempotency_key(pool: int = 3) -> st.SearchStrategy[str]:
    """A key from a small pool, so concurrent requests share keys."""
    return st.integers(0, pool - 1).map(lambda i: f"request-{i}")


def make_payload() -> st.SearchStrategy[dict]:
    """A small JSON request body (two shapes, so the same key sometimes comes with another payload)."""
    return st.fixed_dictionaries({"amount": st.integers(1, 2)})


def make_step_names(max_steps: int = 5, min_steps: int = 1) -> st.SearchStrategy[list[str]]:
    """A saga definition: min_steps..max_steps distinct step names."""
    name = st.builds(lambda head, tail: head + tail, st.sampled_from("abcdefghij"),
                     st.text("abcdefghij0123456789_", max_size=8))
    return st.lists(name, min_size=min_steps, max_size=max_steps, unique=True)


def make_event_type() -> st.SearchStrategy[str]:
    return st.sampled_from(("Opened", "Credited", "Debited", "Renamed"))


def make_event_payload() -> st.SearchStrategy[dict]:
    """An event payload for the stream fold (``state || payload``, a null removing its key): a few keys from a
    small set, so later events overwrite and remove what earlier ones set."""
    return st.dictionaries(st.sampled_from(("balance", "name", "status")),
                           st.one_of(st.none(), st.integers(0, 3)), min_size=1, max_size=2)


def make_event() -> st.SearchStrategy[tuple[str, dict]]:
    """``(event_type, payload)``."""
    return st.tuples(make_event_type(), make_event_payload())


def make_firebase_id() -> st.SearchStrategy[str]:
    """A Firebase document id: 20 characters of ``A–Z a–z 0–9``."""
    return st.text(_NAME_CHARS, min_size=20, max_size=20)
