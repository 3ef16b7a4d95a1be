"""PII masking, applied to query results before any template sees them.

Rules (the report never needs the full value; the CRM front end has it):

* name: the surname character is kept; a two-character name masks the given name
  (张三 -> 张*); from three characters the first and the last are kept and every
  character between becomes * (张三丰 -> 张*丰, 欧阳娜娜 -> 欧**娜). One character -> *.
* id number / phone / other numbers: first 3 and last 4 characters kept, the rest *
  (430108117408313314 -> 430***********3314, 13835371097 -> 138****1097); a value of 7
  characters or fewer is masked entirely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MASK = "*"
NAME_FIELDS = ("client_name",)
NUMBER_FIELDS = ("id_number", "phone")


def mask_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip()
    n = len(name)
    if n == 0:
        return name
    if n == 1:
        return MASK
    if n == 2:
        return name[0] + MASK
    return name[0] + MASK * (n - 2) + name[-1]


def mask_number(value: str | None, head: int = 3, tail: int = 4) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    n = len(value)
    if n <= head + tail:
        return MASK * n
    return value[:head] + MASK * (n - head - tail) + value[-tail:]


mask_id_number = mask_number
mask_phone = mask_number


def mask_row(row: Mapping[str, object]) -> dict:
    """A copy of one result row with every PII field masked."""
    out = dict(row)
    for f in NAME_FIELDS:
        if f in out:
            out[f] = mask_name(out[f])
    for f in NUMBER_FIELDS:
        if f in out:
            out[f] = mask_number(out[f])
    return out


def mask_rows(rows: Iterable[Mapping[str, object]]) -> list[dict]:
    return [mask_row(r) for r in rows]
