"""Firestore's typed values as the JSON the columns store (the table in docs/backfill.md, "Typed values").

One walk serves both sources: the live client's Python objects (``DatetimeWithNanoseconds``, ``DocumentReference``,
``GeoPoint``, ``bytes``) and the tagged objects export tools write (``{"__datatype__": "timestamp", "value":
{"_seconds": …, "_nanoseconds": …}}`` and the bare ``{"_seconds", "_nanoseconds"}`` form). The walk also refuses what
PostgreSQL cannot store (NUL characters, unpaired surrogates) so a bad document is quarantined, never half-loaded.
"""
from __future__ import annotations

import base64
import datetime as dt
import math
import time
from typing import Any

MAX_DEPTH = 100
UTC = dt.UTC


class BadValue(ValueError):
    """A value that cannot be stored; the message is the quarantine reason."""


def iso_timestamp(moment: dt.datetime) -> str:
    """UTC, microseconds, ``Z``: 2024-01-02T03:04:05.123456Z (a naive datetime is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return _ISO % (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                   moment.microsecond)


_ISO = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"


def _from_seconds(seconds: Any, nanoseconds: Any) -> str:
    if type(seconds) is not int or type(nanoseconds) is not int:
        raise BadValue("timestamp with non-integer _seconds/_nanoseconds")
    if not 0 <= nanoseconds < 10**9:
        raise BadValue("timestamp _nanoseconds outside 0..999999999")
    try:
        t = time.gmtime(seconds)
    except (OverflowError, OSError, ValueError):
        raise BadValue("timestamp out of range") from None
    if not 1 <= t.tm_year <= 9999:
        raise BadValue("timestamp out of range (years 1-9999)")
    return _ISO % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, nanoseconds // 1000)


def _tagged(kind: Any, value: Any, depth: int) -> Any:
    if kind == "timestamp" and isinstance(value, dict):
        return _from_seconds(value.get("_seconds"), value.get("_nanoseconds", 0))
    if kind == "geopoint" and isinstance(value, dict):
        lat, lng = value.get("_latitude"), value.get("_longitude")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (lat, lng)):
            raise BadValue("geopoint without finite _latitude/_longitude")
        return {"latitude": lat, "longitude": lng}
    if kind == "documentReference" and isinstance(value, str):
        return _text(value)
    if kind == "bytes" and isinstance(value, str):
        return _text(value)  # export tools already write bytes as base64 text
    raise BadValue(f"unknown typed value __datatype__={str(kind)[:40]!r}")


def _text(value: str) -> str:
    if "\x00" in value:
        raise BadValue("text contains a NUL character (PostgreSQL text and jsonb cannot store it)")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadValue("text is not valid Unicode (unpaired surrogate)") from None
    return value


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None) following the documented mapping."""
    kind = type(value)
    if kind is str:
        return value if value.isascii() and "\x00" not in value else _text(value)
    if kind is int or kind is bool or value is None:
        return value
    if kind is dict:  # the common case first, without recursion for scalar fields
        if "__datatype__" in value:
            return _tagged(value["__datatype__"], value.get("value"), depth)
        if len(value) == 2 and "_seconds" in value and "_nanoseconds" in value:
            return _from_seconds(value["_seconds"], value["_nanoseconds"])
        if depth >= MAX_DEPTH:
            raise BadValue(f"nested deeper than {MAX_DEPTH} levels")
        result = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or "\x00" in key:
                key = _key(key)
            item_kind = type(item)
            if item_kind is str:
                result[key] = item if item.isascii() and "\x00" not in item else _text(item)
            elif item_kind is int or item_kind is bool or item is None:
                result[key] = item
            else:
                result[key] = plain(item, depth + 1)
        return result
    return _other(value, depth)


def _other(value: Any, depth: int) -> Any:
    """The rarer kinds: floats, lists, subclasses, and the live client's typed values."""
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ("NaN" if math.isnan(value) else
                                                   ("Infinity" if value > 0 else "-Infinity"))
    if depth >= MAX_DEPTH:
        raise BadValue(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return plain(dict(value), depth)
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dt.datetime):
        return iso_timestamp(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if hasattr(value, "latitude") and hasattr(value, "longitude"):
        return plain({"latitude": value.latitude, "longitude": value.longitude}, depth)
    path = getattr(value, "path", None)
    if isinstance(path, str):  # google.cloud.firestore DocumentReference
        return _text(path)
    raise BadValue(f"value of unsupported type {type(value).__name__}")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise BadValue(f"map key of type {type(key).__name__}")
    return _text(key)
