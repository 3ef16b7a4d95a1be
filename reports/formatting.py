"""Numbers and dates the way a Chinese branch analyst reads them.

Amounts in CNY: below 1万 with two decimals (``9,876.54``), from 1万 in 万 with one decimal
(``4,567.8万``), from 1亿 in 亿 with two decimals (``1.23亿``). The unit is chosen on the
*rounded* value, so 99,999,999 reads ``1.00亿`` and not ``10,000.0万``. Missing values
(None, NaN) read ``—``. Changes carry ▲ / ▼; the report colours them the Chinese way
(red up, green down). In a table every amount of a column is in one unit, 万元 with two
decimals (``fmt_wan``), and the header says so. Times are Beijing time and say so.
"""

from __future__ import annotations

import datetime as dt
import math
from numbers import Real
from zoneinfo import ZoneInfo

MISSING = "—"
UP, DOWN = "▲", "▼"
BEIJING = ZoneInfo("Asia/Shanghai")


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def fmt_cny(value: Real | None) -> str:
    """Amount in CNY: '9,876.54', '4,567.8万', '1.23亿', '-1.23亿'; None -> '—'."""
    if _missing(value):
        return MISSING
    v = float(value)
    sign = "-" if v < 0 else ""
    a = abs(v)
    plain = round(a, 2)
    if plain < 1e4:
        return f"{sign}{plain:,.2f}" if plain else "0.00"
    wan = round(a / 1e4, 1)
    if wan < 1e4:
        return f"{sign}{wan:,.1f}万"
    return f"{sign}{a / 1e8:,.2f}亿"


def fmt_wan(value: Real | None) -> str:
    """Amount in 万元 with two decimals, for a table column headed （万元）: '0.70', '1,234.57'."""
    if _missing(value):
        return MISSING
    return f"{float(value) / 1e4:,.2f}"


def fmt_yuan(value: Real | None) -> str:
    """Amount in 元 with two decimals, for a column headed （元） of one client's holdings or trades."""
    if _missing(value):
        return MISSING
    return f"{float(value):,.2f}"


def beijing_now() -> dt.datetime:
    return dt.datetime.now(BEIJING)


def fmt_beijing(value: dt.datetime | None) -> str:
    """'2024-11-27 19:06（北京时间）'; a naive time is the machine's local time."""
    if value is None:
        return MISSING
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") + "（北京时间）"


def fmt_metric(value: Real | None) -> str:
    """A model metric: a count as a whole number ('354'), a score with three decimals."""
    if _missing(value):
        return MISSING
    v = float(value)
    return f"{v:,.0f}" if v.is_integer() else f"{v:,.3f}"


def fmt_int(value: Real | None) -> str:
    """Whole number with thousands separators: 12,345; None -> '—'."""
    if _missing(value):
        return MISSING
    return f"{round(float(value)):,}"


def fmt_count(value: Real | None) -> str:
    """A head count: '1,234' below 10万, else '12.3万'."""
    if _missing(value):
        return MISSING
    v = round(float(value))
    if abs(v) < 100_000:
        return f"{v:,}"
    return f"{v / 1e4:,.1f}万"


def fmt_pct(value: Real | None, digits: int | None = 1) -> str:
    """A ratio as a percentage: 0.1234 -> '12.3%' (digits=1).

    digits=None picks the precision for three significant figures with at least two
    decimals, for small ratios such as a market share: 5.678e-05 -> '0.00568%'.
    """
    if _missing(value):
        return MISSING
    pct = float(value) * 100
    if digits is None:
        a = abs(pct)
        digits = 2 if a == 0 or a >= 1 else min(8, max(2, 2 - math.floor(math.log10(a))))
    if round(pct, digits) == 0:
        pct = 0.0  # no '-0.0%'
    return f"{pct:,.{digits}f}%"


def fmt_permyriad(value: Real | None) -> str:
    """A commission rate the way brokers quote it, in 万分之: 0.000253 -> '万2.53'."""
    if _missing(value):
        return MISSING
    return f"万{float(value) * 1e4:.2f}"


def fmt_change(ratio: Real | None, digits: int = 1) -> str:
    """A relative change (this / previous - 1): 0.123 -> '▲12.3%', -0.045 -> '▼4.5%'.

    A change that rounds to zero reads '0.0%' (no arrow); None -> '—'.
    """
    if _missing(ratio):
        return MISSING
    pct = float(ratio) * 100
    if round(pct, digits) == 0:
        return f"{0:.{digits}f}%"
    arrow = UP if pct > 0 else DOWN
    return f"{arrow}{abs(pct):,.{digits}f}%"


def change_class(ratio: Real | None) -> str:
    """CSS class of a change: 'up' (red), 'down' (green) or 'flat'."""
    if _missing(ratio) or round(float(ratio) * 1000) == 0:
        return "flat"
    return "up" if ratio > 0 else "down"


def fmt_rank_change(rank: int | None, prev_rank: int | None) -> str:
    """Rank movement: from 5th to 2nd -> '▲3', 2nd to 5th -> '▼3', same -> '–', no previous -> '新'."""
    if _missing(rank):
        return MISSING
    if _missing(prev_rank):
        return "新"
    d = int(prev_rank) - int(rank)
    if d == 0:
        return "–"
    return f"{UP}{d}" if d > 0 else f"{DOWN}{-d}"


def rank_class(rank: int | None, prev_rank: int | None) -> str:
    if _missing(rank) or _missing(prev_rank) or int(prev_rank) == int(rank):
        return "flat"
    return "up" if int(prev_rank) > int(rank) else "down"


def fmt_date(value: dt.date | dt.datetime | str | None) -> str:
    """YYYY-MM-DD."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value[:10]
    return value.strftime("%Y-%m-%d")


def fmt_num(value: Real | None, digits: int = 2) -> str:
    """A plain number with separators, e.g. a turnover rate: 12.345 -> '12.35'."""
    if _missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}"


def fmt_diff_cny(diff: Real | None) -> str:
    """A difference of amounts with its direction: 12345 -> '▲1.2万', -800 -> '▼800.00'."""
    if _missing(diff):
        return MISSING
    text = fmt_cny(abs(diff))
    if text in ("0.00",):
        return text
    return (UP if diff > 0 else DOWN) + text


def fmt_value(value: Real | None, kind: str) -> str:
    """Format by kind: count, cny, signed (an amount that may be negative), permyriad
    (commission rate), share (small percentage), pct."""
    if kind == "count":
        return fmt_count(value)
    if kind in ("cny", "signed"):
        return fmt_cny(value)
    if kind == "permyriad":
        return fmt_permyriad(value)
    if kind == "share":
        return fmt_pct(value, None)
    if kind == "pct":
        return fmt_pct(value)
    return fmt_num(value)


def fmt_years(days: Real | None) -> str:
    """Calendar days as years: 7219 -> '19.8年'."""
    if _missing(days):
        return MISSING
    return f"{float(days) / 365.25:.1f}年"


WEEKDAYS = "一二三四五六日"


def fmt_weekday(value: dt.date) -> str:
    """'星期二'."""
    return "星期" + WEEKDAYS[value.weekday()]


def sort_value(v) -> str:
    """A table cell's data-v (what the sort script compares): floats to 10 significant digits,
    so that sums DuckDB adds up in another order do not change the page (…333335 vs …333333)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v)


FILTERS = {
    "sortv": sort_value,
    "cny": fmt_cny,
    "wan": fmt_wan,
    "yuan": fmt_yuan,
    "beijing": fmt_beijing,
    "metric": fmt_metric,
    "int": fmt_int,
    "count": fmt_count,
    "pct": fmt_pct,
    "permyriad": fmt_permyriad,
    "change": fmt_change,
    "change_class": change_class,
    "date": fmt_date,
    "num": fmt_num,
    "weekday": fmt_weekday,
    "diff_cny": fmt_diff_cny,
    "value": fmt_value,
    "years": fmt_years,
    "rank_change": fmt_rank_change,
}
