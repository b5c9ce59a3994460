"""Bad calls of every public function, as data: for each function, the classes of bad arguments (generic ones
derived from its parameter types, and the domain's own), each a Hypothesis strategy of argument overrides plus
what schema/README.md says must happen — an error (SQLSTATE + words of its message) or a documented "no change"
answer — and the session side of a call (owner or leadboost_app, tenant binding) with its own documented outcome.

Order of refusals (schema/README.md, "Conventions"): a value PostgreSQL cannot even parse (22xxx) is refused before
the function runs; then EXECUTE permission (42501); then the tenant — NULL (LB001) → binding (LB003) → unknown
(LB002) → not ACTIVE (LB004, writing functions) — and only then the other arguments.
"""
from __future__ import annotations

import json
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from leadboost_schema.testing.public_api import Function
from leadboost_schema.testing.tenant_rows import LEGS, PAYLOAD, STEPS, TenantRows

MIB = 1024 * 1024
# Functions that accept a tenant that is not ACTIVE (they read, or finish work already started).
INACTIVE_TENANT_OK = {"events.rehydrate", "events.replay_stream", "events.create_snapshot",
                      "sys.record_step_success", "sys.record_step_failure", "sys.record_compensation_done"}
# Pure or tolerant functions whose parameters all accept NULL (documented: "NULL state counts as {}").
NULL_TOLERANT = {"events.apply_event"}


@dataclass(frozen=True)
class World:
    """The committed rows bad calls are aimed at: tenants A and B (tenant_rows) and a SUSPENDED tenant."""

    a: TenantRows
    b: TenantRows
    suspended: uuid.UUID


@dataclass(frozen=True)
class Refused:
    """An error: its SQLSTATE and words its message must contain. ``stage="input"``: PostgreSQL refuses the value
    while binding it, before any function runs."""

    sqlstate: str
    names: str
    stage: str = "function"


@dataclass(frozen=True)
class Unchanged:
    """A documented "no change" answer: the call returns rows satisfying ``check`` and writes nothing."""

    description: str
    check: Callable[[list[tuple]], bool]


Expectation = Refused | Unchanged


@dataclass(frozen=True)
class BadArgument:
    """One class of bad input for one function: argument overrides drawn from ``values(world)``, and the outcome
    (fixed, or computed from the drawn overrides)."""

    label: str
    values: Callable[[World], st.SearchStrategy[dict[str, Any]]]
    expect: Expectation | Callable[[dict[str, Any]], Expectation]
    binding: Callable[[World], st.SearchStrategy[str]] | None = None  # a binding this class needs

    def outcome(self, overrides: dict[str, Any]) -> Expectation:
        return self.expect(overrides) if callable(self.expect) else self.expect


# --- values PostgreSQL cannot parse -------------------------------------------------------------------------------

_ODD = "ghjkmqrvwxzGHJKMQRVWXZ"  # letters no uuid, number, boolean, date or interval reads as anything
_garbage = st.text(_ODD + " -_", min_size=1, max_size=12).filter(lambda s: s.strip(" -_"))
UNPARSABLE: dict[str, tuple[st.SearchStrategy[str], str, str]] = {
    # type: (text PostgreSQL refuses, SQLSTATE, words of the message)
    "uuid": (st.one_of(_garbage, st.uuids().map(lambda u: u.hex[:-1])), "22P02", "invalid input syntax for type uuid"),
    "integer": (st.one_of(_garbage, st.integers(1, 99).map(lambda n: f"{n}.5")), "22P02",
                "invalid input syntax for type integer"),
    "bigint": (st.one_of(_garbage, st.integers(1, 99).map(lambda n: f"{n}.5")), "22P02",
               "invalid input syntax for type bigint"),
    "numeric": (_garbage, "22P02", "invalid input syntax for type numeric"),
    "boolean": (_garbage, "22P02", "invalid input syntax for type boolean"),
    "timestamp with time zone": (_garbage, "22007", "invalid input syntax for type timestamp with time zone"),
    "interval": (st.builds(lambda n, w: f"{n} {w}", st.integers(1, 9), st.text(_ODD, min_size=2, max_size=8)),
                 "22007", "invalid input syntax for type interval"),
    "jsonb": (st.one_of(_garbage, st.sampled_from(['{"a": ', "[1, 2", "{'a': 1}", '{"a": tru}'])), "22P02",
              "invalid input syntax for type json"),
}
OUT_OF_RANGE = {"integer": (2**31, 10**18), "bigint": (2**63, 10**30)}


def text_of(length: int) -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters, min_size=length, max_size=length)


def big_json(world: World) -> st.SearchStrategy[dict[str, Any]]:
    return st.integers(MIB + 1, MIB + 64 * 1024).map(lambda n: {"x": "a" * n})


# Text a JSON string can hold: jsonb refuses \u0000 (that is a class of its own).
json_string = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=5)


def non_object_json() -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(st.integers(), max_size=3), st.integers(), json_string.map(json.dumps),
                     st.booleans(), st.just("null"))


# Text parameters: (maximum length, pattern or None, SQLSTATE for a value outside them).
TEXT_RULES: dict[tuple[str, str], tuple[int, str | None, str]] = {
    ("finanzas.post_transaction", "p_description"): (500, None, "LB005"),
    ("finanzas.reverse_transaction", "p_description"): (500, None, "LB005"),
    ("stock.reserve_inventory", "p_sku"): (64, None, "LB005"),
    ("stock.release_inventory", "p_sku"): (64, None, "LB005"),
    ("sys.claim_request_key", "p_idempotency_key"): (255, None, "LB005"),
    ("sys.complete_request_key", "p_idempotency_key"): (255, None, "LB005"),
    ("sys.fail_request_key", "p_idempotency_key"): (255, None, "LB005"),
    ("sys.fail_request_key", "p_error"): (2000, None, "LB005"),
    ("sys.record_step_failure", "p_error"): (2000, None, "LB005"),
    ("sys.start_saga", "p_saga_type"): (100, "^[A-Za-z][A-Za-z0-9_.-]*$", "LB005"),
    ("events.append_event", "p_stream_id"): (200, "^[A-Za-z0-9][A-Za-z0-9:._/-]*$", "LB005"),
    ("events.append_event", "p_stream_type"): (64, "^[A-Z][A-Z0-9_]*$", "LB005"),
    ("events.append_event", "p_event_type"): (100, "^[A-Za-z][A-Za-z0-9_.]*$", "LB005"),
    ("events.rehydrate", "p_stream_id"): (200, None, "LB005"),
    ("events.replay_stream", "p_stream_id"): (200, None, "LB005"),
    ("events.create_snapshot", "p_stream_id"): (200, None, "LB005"),
    ("gobernanza.validate_action", "p_action"): (100, "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$", "LB301"),
    ("gobernanza.record_action_outcome", "p_action"): (100, "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$", "LB301"),
    ("finanzas.post_transaction", "p_currency"): (3, None, "LB005"),
}
# Text parameters that take anything (documented as ignored).
FREE_TEXT = {("events.apply_event", "p_event_type")}
# JSON parameters refused above 1 MiB (LB006).
SIZE_CHECKED = {("sys.claim_request_key", "p_payload"), ("sys.complete_request_key", "p_response"),
                ("sys.start_saga", "p_steps"), ("sys.start_saga", "p_payload"),
                ("sys.record_step_success", "p_result"), ("events.append_event", "p_payload"),
                ("events.append_event", "p_metadata")}


def _not_matching(pattern: str, maximum: int) -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00")
    return st.text(chars, min_size=1, max_size=min(maximum, 30)).filter(lambda s: not re.fullmatch(pattern, s))


def generic_arguments(function: Function) -> list[BadArgument]:
    """Bad values every parameter of its type can get: NULL, unparsable text, out-of-range numbers, text outside
    its documented length or pattern, JSON over 1 MiB or with a \\u0000 escape."""
    found = []
    for p in function.parameters:
        name = p.name
        if p.name == "p_tenant_id":
            continue  # the tenant axis covers it
        if not p.accepts_null and function.name not in NULL_TOLERANT:
            found.append(BadArgument(f"NULL {name}", lambda w, n=name: st.just({n: None}),
                                     Refused("LB001", name)))
        if p.type in UNPARSABLE:
            values, code, words = UNPARSABLE[p.type]
            found.append(BadArgument(f"unparsable {name}", lambda w, n=name, v=values: v.map(lambda x: {n: x}),
                                     Refused(code, words, stage="input")))
        if p.type in OUT_OF_RANGE:
            low, high = OUT_OF_RANGE[p.type]
            found.append(BadArgument(
                f"{name} out of {p.type} range", lambda w, n=name, lo=low, hi=high: st.one_of(
                    st.integers(lo, hi), st.integers(-hi, -lo - 1)).map(lambda x: {n: str(x)}),
                Refused("22003", "out of range", stage="input")))
        rule = TEXT_RULES.get((function.name, name))
        if p.type == "text" and rule is None and (function.name, name) not in FREE_TEXT:
            raise LookupError(f"{function.name}.{name}: add its length/pattern to contracts.bad_calls.TEXT_RULES")
        if rule is not None:
            maximum, pattern, code = rule
            words = name if code == "LB005" else "must be a lowercase dotted name"
            found.append(BadArgument(
                f"overlong {name}", lambda w, n=name, m=maximum: st.integers(m + 1, m + 300).flatmap(text_of).map(
                    lambda x: {n: x}),
                lambda o, n=name, m=maximum, c=code, ws=words: Refused(
                    c, f"{n} must be 1 to {m} characters long, got {len(o[n])}" if c == "LB005" else ws)))
            found.append(BadArgument(f"empty {name}", lambda w, n=name: st.just({n: ""}),
                                     Refused(code, f"{name} must be 1 to {maximum} characters long, got 0"
                                             if code == "LB005" else words)))
            if pattern is not None:
                found.append(BadArgument(
                    f"{name} outside its pattern", lambda w, n=name, pat=pattern, m=maximum: _not_matching(
                        pat, m).map(lambda x: {n: x}),
                    Refused(code, f"{name} does not match" if code == "LB005" else words)))
        if p.type == "jsonb":
            if (function.name, name) in SIZE_CHECKED:
                found.append(BadArgument(f"{name} over 1 MiB", lambda w, n=name: big_json(w).map(lambda x: {n: x}),
                                         Refused("LB006", f"{name} is ")))
            found.append(BadArgument(f"{name} with a \\u0000 escape", lambda w, n=name: st.text(
                string.ascii_letters, max_size=5).map(lambda s: {n: '{"a": "' + s + '\\u0000"}'}),
                Refused("22P05", "unsupported Unicode escape sequence", stage="input")))
    return found


# --- the domain's own bad input -----------------------------------------------------------------------------------

def _leg(account: Any = "CASH", amount: Any = 10, direction: Any = 1) -> dict[str, Any]:
    return {"account_type": account, "amount": amount, "direction": direction}


def _legs_with(bad_leg: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[int, list[Any]]]:
    """Two valid balancing legs and one bad leg inserted at a drawn position; (1-based index, legs)."""
    return st.tuples(st.integers(0, 2), bad_leg).map(
        lambda t: (t[0] + 1, [*[_leg("CASH", 10, 1), _leg("REVENUE", 10, -1)][:t[0]], t[1],
                              *[_leg("CASH", 10, 1), _leg("REVENUE", 10, -1)][t[0]:]]))


def _legs_case(label: str, bad_leg: st.SearchStrategy[Any], code: str, words: str) -> BadArgument:
    return BadArgument(label, lambda w: _legs_with(bad_leg).map(lambda t: {"p_legs": t[1], "__leg__": t[0]}),
                       lambda o: Refused(code, f"leg {o['__leg__']}{words}"))


_accounts = ("CASH", "BANK", "ACCOUNTS_RECEIVABLE", "ACCOUNTS_PAYABLE", "CUSTOMER_CREDIT", "REVENUE", "AD_SPEND",
             "EXPENSE", "TAX_PAYABLE", "EQUITY", "SUSPENSE")
_not_a_number = st.one_of(json_string, st.booleans(), st.just(None), st.lists(st.integers(), max_size=2))
_bad_amount = st.one_of(st.integers(-10**6, 0), st.decimals(Decimal("-1e6"), Decimal(0), places=4),
                        st.integers(10**15, 10**18),
                        st.integers(0, 10**6).map(lambda n: Decimal(n * 10 + 1).scaleb(-5)))  # a 5th decimal
_bad_direction = st.one_of(st.integers(-5, 5).filter(lambda d: d not in (1, -1)), st.sampled_from(
    ["1", "-1", True, None, 0.5, -1.5]))
_unknown_uuid = st.uuids(version=4)


def _row(check: Callable[[tuple], bool]) -> Callable[[list[tuple]], bool]:
    return lambda rows: bool(rows) and len(rows) == 1 and check(rows[0])


def domain_arguments(function: Function) -> list[BadArgument]:  # noqa: C901 — one table of cases per function
    f = function.name
    if f == "finanzas.post_transaction":
        return [
            BadArgument("legs not a JSON array", lambda w: st.one_of(st.dictionaries(
                json_string, st.integers(), max_size=2), st.integers(), st.booleans(), st.just("null"),
                st.text(string.ascii_letters, max_size=5).map(lambda s: f'"{s}"')).map(lambda x: {"p_legs": x}),
                Refused("LB101", "p_legs must be a JSON array")),
            BadArgument("more than 100 legs", lambda w: st.integers(101, 140).map(
                lambda n: {"p_legs": [_leg("CASH", 1, 1 - 2 * (i % 2)) for i in range(n)]}),
                Refused("LB101", "at most 100")),
            _legs_case("a leg that is not an object", st.one_of(st.integers(), json_string, st.lists(
                st.integers(), max_size=2)), "LB101", " must be a JSON object"),
            _legs_case("a leg with other keys", st.one_of(
                st.just({"account_type": "CASH", "amount": 10}),
                st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(
                    lambda k: k not in ("amount", "direction")).map(lambda k: {**_leg(), k: 1})),
                "LB101", " must have exactly the keys"),
            _legs_case("an unknown account type", st.one_of(
                st.text(string.ascii_uppercase + "_", min_size=1, max_size=12).filter(lambda a: a not in _accounts),
                st.integers(), st.just(None)).map(lambda a: _leg(account=a)), "LB104", ": unknown account_type"),
            _legs_case("an amount that is not a JSON number", _not_a_number.map(lambda m: _leg(amount=m)),
                       "LB102", ": amount must be a JSON number"),
            _legs_case("an amount <= 0, >= 1e15 or with more than 4 decimals", _bad_amount.map(
                lambda m: _leg(amount=m)), "LB102", ": amount must be > 0, < 1e15 and have at most 4 decimals"),
            _legs_case("a direction other than 1 or -1", _bad_direction.map(lambda d: _leg(direction=d)),
                       "LB103", ": direction must be 1 (debit) or -1 (credit)"),
            BadArgument("fewer than 2 legs", lambda w: st.lists(st.just(_leg()), max_size=1).map(
                lambda x: {"p_legs": x}), lambda o: Refused("LB106", f"at least 2 legs, got {len(o['p_legs'])}")),
            BadArgument("an unbalanced posting", lambda w: st.tuples(
                st.integers(1, 10**6), st.integers(1, 10**6)).filter(lambda t: t[0] != t[1]).map(
                lambda t: {"p_legs": [_leg("CASH", t[0], 1), _leg("REVENUE", t[1], -1)]}),
                Refused("LB105", "unbalanced transaction: SUM(amount * direction) = ")),
            BadArgument("a currency that is not ISO 4217", lambda w: st.text(
                string.ascii_lowercase + string.digits + "€$ ", min_size=3, max_size=3).map(
                lambda c: {"p_currency": c}), Refused("LB107", "p_currency must be an ISO 4217 code")),
            BadArgument("a transaction id used for another posting", lambda w: st.integers(11, 10**6).map(
                lambda n: {"p_transaction_id": w.a.posting, "p_legs": [_leg("CASH", n, 1), _leg("REVENUE", n, -1)]}),
                Refused("LB111", "was already used for a different posting")),
            BadArgument("the same posting again", lambda w: st.just({
                "p_transaction_id": w.a.posting, "p_legs": LEGS, "p_currency": "EUR", "p_description": "sale"}),
                lambda o: Unchanged("returns the id", _row(lambda r: r[0] == o["p_transaction_id"]))),
        ]
    if f == "finanzas.reverse_transaction":
        return [
            BadArgument("an unknown transaction", lambda w: _unknown_uuid.map(lambda u: {"p_transaction_id": u}),
                        Refused("LB109", "unknown transaction")),
            BadArgument("another tenant's transaction", lambda w: st.sampled_from(
                [w.b.posting, w.b.reversed_posting]).map(lambda u: {"p_transaction_id": u}),
                Refused("LB109", "unknown transaction")),
            BadArgument("a transaction reversed before, with another description",
                        lambda w: st.just({"p_transaction_id": w.a.reversed_posting,
                                           "p_description": "a second, different reversal"}),
                        Refused("LB110", "is already reversed by transaction")),
        ]
    if f in ("stock.reserve_inventory", "stock.release_inventory"):
        short = "INSUFFICIENT_STOCK" if f == "stock.reserve_inventory" else "INSUFFICIENT_RESERVED"
        limit = 8 if f == "stock.reserve_inventory" else 2  # SKU-1: 10 on hand, 2 reserved
        return [
            BadArgument("a quantity <= 0", lambda w: st.integers(-2**31, 0).map(lambda q: {"p_quantity": q}),
                        lambda o: Refused("LB202", f"p_quantity must be a positive number of units, got {o['p_quantity']}")),
            BadArgument("an unknown sku", lambda w: st.text(string.ascii_letters + string.digits + "-'\";",
                                                             min_size=1, max_size=64).filter(lambda s: s != "SKU-1").map(
                lambda s: {"p_sku": s}), Refused("LB201", "unknown sku")),
            BadArgument("a stale version", lambda w: st.integers(-5, 50).filter(lambda v: v != 1).map(
                lambda v: {"p_expected_version": v}),
                Unchanged("success = false, STALE_VERSION", _row(lambda r: r[:3] == (False, "STALE_VERSION", 1)))),
            BadArgument("more than there is", lambda w: st.integers(limit + 1, 2**31 - 1).map(
                lambda q: {"p_quantity": q}), Unchanged(f"success = false, {short}", _row(
                    lambda r, s=short: r[:3] == (False, s, 1)))),
        ]
    if f == "gobernanza.validate_action":
        return [
            BadArgument("an amount < 0, >= 1e15, NaN or with more than 4 decimals", lambda w: st.one_of(
                st.integers(-10**6, -1).map(str), st.integers(10**15, 10**20).map(str),
                st.sampled_from(["NaN", "Infinity", "-Infinity", "0.00001", "1.23456"])).map(lambda m: {"p_amount": m}),
                Refused("LB302", "p_amount must be >= 0, < 1e15 and have at most 4 decimals")),
            BadArgument("an action behind a kill switch", lambda w: st.just({"p_action": "ads.kill"}),
                        Unchanged("denied: KILL_SWITCH", _row(lambda r: (r[0], r[2]) == (False, "KILL_SWITCH")))),
            BadArgument("spending over the limit", lambda w: st.integers(101, 10**9).map(
                lambda m: {"p_action": "ads.spend", "p_amount": m}),
                Unchanged("denied: SPEND_LIMIT_EXCEEDED", _row(lambda r: (r[0], r[2]) == (False, "SPEND_LIMIT_EXCEEDED")))),
            BadArgument("an action behind an open breaker", lambda w: st.just({"p_action": "ads.risky"}),
                        Unchanged("denied: CIRCUIT_OPEN", _row(lambda r: (r[0], r[2]) == (False, "CIRCUIT_OPEN")))),
        ]
    if f == "gobernanza.record_action_outcome":
        return [
            BadArgument("an outcome reported while the breaker is OPEN", lambda w: st.booleans().map(
                lambda ok: {"p_action": "ads.risky", "p_succeeded": ok}),
                Unchanged("the breaker stays OPEN", _row(lambda r: r[1:] == ("OPEN", 0)))),
        ]
    if f == "sys.claim_request_key":
        return [
            BadArgument("a lease or TTL out of range", lambda w: st.one_of(
                st.sampled_from(["0 seconds", "-1 minute", "1 day 1 second", "30 days"]).map(lambda x: {"p_lease": x}),
                st.sampled_from(["0 seconds", "-1 day", "367 days", "10 years"]).map(lambda x: {"p_ttl": x})),
                Refused("LB404", "p_lease must be in (0, 1 day] and p_ttl in (0, 366 days]")),
            BadArgument("a key reused with another payload", lambda w: st.tuples(st.sampled_from(
                [w.a.key_processing, w.a.key_completed, w.a.key_failed]), st.integers(2, 10**6)).map(
                lambda t: {"p_idempotency_key": t[0], "p_payload": {"order": t[1]}}),
                Refused("LB401", "was used with a different payload")),
            BadArgument("a key another worker holds", lambda w: st.just({"p_idempotency_key": w.a.key_processing}),
                        Unchanged("IN_PROGRESS", _row(lambda r: r[0] == "IN_PROGRESS"))),
            BadArgument("a key already completed", lambda w: st.just({"p_idempotency_key": w.a.key_completed}),
                        Unchanged("COMPLETED with the stored response", _row(
                            lambda r: (r[0], r[3]) == ("COMPLETED", {"ok": True})))),
        ]
    if f in ("sys.complete_request_key", "sys.fail_request_key"):
        completing = f == "sys.complete_request_key"
        return [
            BadArgument("an unknown key", lambda w: st.text(string.ascii_letters, min_size=1, max_size=255).filter(
                lambda k: not k.startswith("key-")).map(lambda k: {"p_idempotency_key": k}),
                Refused("LB402", "unknown idempotency key")),
            BadArgument("another claim's token", lambda w: st.one_of(_unknown_uuid, st.just(w.b.processing_token),
                                                                    st.just(w.a.completed_token)).map(
                lambda t: {"p_lock_token": t}), Refused("LB403", "this worker's lease was lost")),
            BadArgument("a key finished the other way", lambda w: st.just(
                {"p_idempotency_key": w.a.key_failed, "p_lock_token": w.a.failed_token} if completing else
                {"p_idempotency_key": w.a.key_completed, "p_lock_token": w.a.completed_token}),
                Refused("LB403", "is already FAILED" if completing else "is already COMPLETED")),
        ] + ([
            BadArgument("a completed key completed with another response", lambda w: st.integers().map(
                lambda n: {"p_idempotency_key": w.a.key_completed, "p_lock_token": w.a.completed_token,
                           "p_response": {"ok": n}}), Refused("LB403", "is already COMPLETED")),
            BadArgument("the same completion again", lambda w: st.just(
                {"p_idempotency_key": w.a.key_completed, "p_lock_token": w.a.completed_token,
                 "p_response": {"ok": True}}), Unchanged("a no-op", lambda rows: True)),
        ] if completing else [
            BadArgument("the same failure again", lambda w: st.just(
                {"p_idempotency_key": w.a.key_failed, "p_lock_token": w.a.failed_token}),
                Unchanged("a no-op", lambda rows: True)),
        ])
    if f == "sys.start_saga":
        name = st.text(string.ascii_letters, min_size=1, max_size=8)
        return [
            BadArgument("steps that are not 1–100 distinct names", lambda w: st.one_of(
                st.just([]), st.integers(101, 130).map(lambda n: [f"s{i}" for i in range(n)]),
                name.map(lambda s: [s, s]), st.lists(st.one_of(st.integers(), st.just(None)), min_size=1, max_size=3),
                st.just(["1st"]), st.just(["has space"]), st.text(string.ascii_letters, max_size=4).map(
                    lambda s: f'"{s}"'), st.dictionaries(name, st.integers(), max_size=2),
                st.just(["a" * 101])).map(lambda x: {"p_steps": x}),
                Refused("LB503", "p_steps must be a JSON array of 1 to 100 distinct step names")),
            BadArgument("a payload that is not an object", lambda w: non_object_json().map(
                lambda x: {"p_payload": x}), Refused("LB503", "p_payload must be a JSON object")),
            BadArgument("a saga id used for another saga", lambda w: st.sampled_from(
                [w.a.saga_running, w.a.saga_completed]).flatmap(lambda s: st.just(["x", "y"]).map(
                    lambda steps: {"p_saga_id": s, "p_steps": steps})),
                Refused("LB508", "was already used for a different saga")),
            BadArgument("the same saga again", lambda w: st.just({
                "p_saga_id": w.a.saga_running, "p_saga_type": "order.place", "p_steps": STEPS,
                "p_payload": PAYLOAD}), lambda o: Unchanged("returns the id", _row(lambda r: r[0] == o["p_saga_id"]))),
        ]
    if f in ("sys.record_step_success", "sys.record_step_failure", "sys.record_compensation_done"):
        cases = [
            BadArgument("an unknown saga", lambda w: st.one_of(_unknown_uuid, st.just(w.b.saga_running)).map(
                lambda s: {"p_saga_id": s}), Refused("LB501", "unknown saga")),
            BadArgument("a step outside the saga", lambda w: st.one_of(st.integers(-2**31, 0), st.integers(4, 2**31 - 1)).map(
                lambda k: {"p_step_index": k}), lambda o: Refused("LB505", f"not {o.get('p_step_index')}")),
        ]
        if f == "sys.record_compensation_done":
            return cases + [
                BadArgument("a compensation nobody asked for", lambda w: st.sampled_from([
                    (w.a.saga_running, 1), (w.a.saga_running, 2), (w.a.saga_compensating, 3)]).map(
                    lambda t: {"p_saga_id": t[0], "p_step_index": t[1]}),
                    Refused("LB506", "no compensation of it was requested")),
                BadArgument("a compensation out of order", lambda w: st.just(
                    {"p_saga_id": w.a.saga_compensating, "p_step_index": 1}),
                    Refused("LB507", "step 2 must be compensated before step 1")),
            ]
        return cases + [
            BadArgument("a step reported before the one before it", lambda w: st.just({"p_step_index": 3}),
                        Refused("LB504", "step 3 reported before step 2 succeeded")),
            BadArgument("a late or duplicate report", lambda w: st.sampled_from([
                (w.a.saga_running, 1), (w.a.saga_completed, 1), (w.a.saga_failed, 1), (w.a.saga_compensating, 3),
                (w.a.saga_compensating, 1)]).map(lambda t: {"p_saga_id": t[0], "p_step_index": t[1]}),
                Unchanged("applied = false", _row(lambda r: r[0] is False))),
        ]
    if f == "events.append_event":
        return [
            BadArgument("a wrong expected version", lambda w: st.integers(-10**6, 10**6).filter(lambda v: v != 2).map(
                lambda v: {"p_expected_version": v}), Refused("LB601", "wrong expected version for stream stream-1")),
            BadArgument("another stream type", lambda w: st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True).filter(
                lambda t: t != "ACCOUNT").map(lambda t: {"p_stream_type": t}),
                Refused("LB604", "stream stream-1 has stream_type ACCOUNT")),
            BadArgument("an event id used for another event", lambda w: st.integers().map(
                lambda n: {"p_event_id": w.a.event_id, "p_payload": {"n": n}, "p_expected_version": 2}),
                Refused("LB605", "was already used for a different event")),
            BadArgument("the same event again", lambda w: st.just({
                "p_event_id": w.a.event_id, "p_event_type": "Opened", "p_payload": {"balance": 0},
                "p_expected_version": 0}), Unchanged("returns its version, 1", _row(lambda r: r[0] == 1))),
            BadArgument("a payload or metadata that is not an object", lambda w: st.tuples(
                st.sampled_from(["p_payload", "p_metadata"]), non_object_json()).map(lambda t: {t[0]: t[1]}),
                Refused("LB602", "p_payload and p_metadata must be JSON objects")),
        ]
    if f in ("events.rehydrate", "events.replay_stream", "events.create_snapshot"):
        version = "p_version" if f == "events.create_snapshot" else "p_up_to_version"
        return [
            BadArgument("an unknown stream", lambda w: st.text(string.ascii_letters + "-:/'", min_size=1,
                                                                max_size=200).filter(lambda s: s != "stream-1").map(
                lambda s: {"p_stream_id": s}), Refused("LB603", "unknown stream")),
            BadArgument("a version outside the stream", lambda w: st.one_of(
                st.integers(-2**63, 0), st.integers(3, 2**63 - 1)).map(lambda v: {version: v}),
                lambda o: Refused("LB607", f"has versions 1..2, not {o[version]}")),
        ]
    if f == "events.cleanup_old_snapshots":
        return [BadArgument("keeping fewer than 1", lambda w: st.integers(-2**31, 0).map(lambda k: {"p_keep": k}),
                            Refused("LB005", "p_keep must be at least 1"))]
    if f == "events.apply_event":
        return [BadArgument("a state or payload that is not an object", lambda w: st.tuples(
            st.sampled_from(["p_state", "p_payload"]), non_object_json()).map(lambda t: {t[0]: t[1]}),
            Refused("22023", "cannot call jsonb_each on a non-object"))]
    if f == "iam.current_tenant_id":
        return [BadArgument("a malformed binding", lambda w: st.just({}),
                            Refused("LB003", "app.tenant_id is not a valid uuid"), binding=lambda w: _garbage)]
    return []


def bad_arguments(function: Function) -> list[BadArgument]:
    return generic_arguments(function) + domain_arguments(function)


# --- who calls ----------------------------------------------------------------------------------------------------

TENANT_SETUPS = ("tenant A", "NULL tenant", "unknown tenant", "suspended tenant", "unparsable tenant")
BINDINGS = ("the tenant itself", "unbound", "another tenant", "malformed")


def session_outcome(function: Function, app_may_execute: bool, role: str, tenant: str, binding: str,
                    tenant_value: Any) -> Expectation | None:
    """What the documentation says happens before the function looks at its other arguments, or None."""
    if tenant == "unparsable tenant":
        return Refused("22P02", "invalid input syntax for type uuid", stage="input")
    if role == "app" and not app_may_execute:
        return Refused("42501", "permission denied for")
    if not function.takes_tenant:
        return Refused("LB003", "app.tenant_id is not a valid uuid") if (
            binding == "malformed" and function.name == "iam.current_tenant_id") else None
    if tenant == "NULL tenant":
        return Refused("LB001", "p_tenant_id must not be NULL")
    if binding == "malformed":
        return Refused("LB003", "app.tenant_id is not a valid uuid")
    if binding == "another tenant":
        return Refused("LB003", "session is bound to tenant")
    if binding == "unbound" and role == "app":
        return Refused("LB003", "session is not bound to a tenant")
    if tenant == "unknown tenant":
        return Refused("LB002", f"unknown tenant {tenant_value}")
    if tenant == "suspended tenant" and function.name not in INACTIVE_TENANT_OK:
        return Refused("LB004", f"tenant {tenant_value} is SUSPENDED, not ACTIVE")
    return None


def tenant_value(world: World, tenant: str, drawn_uuid: uuid.UUID, drawn_text: str) -> Any:
    return {"tenant A": world.a.tenant_id, "NULL tenant": None, "unknown tenant": drawn_uuid,
            "suspended tenant": world.suspended, "unparsable tenant": drawn_text}[tenant]


def binding_value(world: World, binding: str, tenant: Any, drawn_text: str) -> str | None:
    if binding == "the tenant itself":
        return None if tenant is None else str(tenant)
    return {"unbound": None, "another tenant": str(world.b.tenant_id), "malformed": drawn_text}[binding]
