"""The rows the write benchmarks send, shared by each measured path and its baseline so both write the same
data."""
from __future__ import annotations

from psycopg.types.json import Jsonb

EVENT_PAYLOAD = Jsonb({"daily_budget": 120.5, "currency": "EUR", "channel": "search",
                       "reason": "weekly pacing"})

# A 2-leg transfer and a 4-leg posting (spend with tax, paid partly from credit).
LEGS = {
    2: [{"account_type": "AD_SPEND", "amount": 125.5, "direction": 1},
        {"account_type": "BANK", "amount": 125.5, "direction": -1}],
    4: [{"account_type": "AD_SPEND", "amount": 100, "direction": 1},
        {"account_type": "TAX_PAYABLE", "amount": 21, "direction": 1},
        {"account_type": "BANK", "amount": 71, "direction": -1},
        {"account_type": "CUSTOMER_CREDIT", "amount": 50, "direction": -1}],
}

REQUEST_PAYLOAD = Jsonb({"campaign": "spring-sale", "amount": 250, "currency": "EUR"})
RESPONSE = Jsonb({"status": 201, "id": "c0ffee00-0000-4000-8000-000000000001"})
