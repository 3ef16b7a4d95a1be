"""Read and validate one day's extract folder (the contract in docs/spec/extracts.md).

Everything is read as text first, so that a bad cell becomes a reject with its file,
row and column instead of a parse error that loses the whole file. Validation is
vectorised in polars: a day of 200k clients is ~1M rows.

Row numbers, everywhere (quality.rejects, the nulled cells, ExtractFileError): the first
data row is row 1; the header is named "header", never a row number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

# Column types of the contract. "code" and "str" stay text (leading zeros matter).
STR, DATE, TIME, INT, DEC = "str", "date", "time", "int", "decimal"

# file -> [(column, type, required non-empty)]; order is the contract's column order.
SCHEMAS: dict[str, list[tuple[str, str, bool]]] = {
    "clients": [
        ("client_id", STR, True), ("client_name", STR, False), ("id_number", STR, False),
        ("phone", STR, False), ("gender", STR, False), ("birth_date", DATE, False),
        ("open_date", DATE, True), ("close_date", DATE, False), ("broker_id", STR, True),
        ("risk_level", STR, False), ("channel", STR, False), ("city", STR, False),
    ],
    "brokers": [
        ("broker_id", STR, True), ("broker_name", STR, False), ("team_id", STR, True),
        ("team_name", STR, False), ("branch_id", STR, True), ("branch_name", STR, False),
        ("hire_date", DATE, False),
    ],
    "trades": [
        ("trade_id", STR, True), ("client_id", STR, True), ("trade_date", DATE, True),
        ("trade_time", TIME, True), ("market", STR, True), ("security_code", STR, True),
        ("side", STR, True), ("quantity", INT, True), ("price", DEC, True),
        ("amount", DEC, True), ("commission", DEC, True), ("exchange_fee", DEC, True),
        ("stamp_tax", DEC, True), ("transfer_fee", DEC, True), ("channel", STR, False),
    ],
    "positions": [
        ("client_id", STR, True), ("market", STR, True), ("security_code", STR, True),
        ("quantity", INT, True), ("cost_amount", DEC, True),
    ],
    "cash": [
        ("client_id", STR, True), ("cash_balance", DEC, True),
        ("deposit_amount", DEC, True), ("withdraw_amount", DEC, True),
        ("other_flow_amount", DEC, False),
    ],
    "quotes": [
        ("market", STR, True), ("security_code", STR, True), ("security_name", STR, False),
        ("close", DEC, True), ("prev_close", DEC, True),
    ],
    "market": [("market", STR, True), ("turnover_amount", DEC, True)],
}
FILES = tuple(SCHEMAS)
# Columns a file may leave out of its header: read as empty (NULL) in every row. An export
# that does not itemise cash moved without a trade or a transfer (interest credits,
# dividends and their tax) still loads; the reconciliation then tolerates interest-sized
# credits (sql/intermediate/int_cash_unreconciled.sql).
MAY_BE_ABSENT = {"cash": ("other_flow_amount",)}
# Natural key of each file: a repeated key keeps its first row, the others are rejected.
KEYS = {
    "clients": ["client_id"], "brokers": ["broker_id"], "trades": ["trade_id"],
    "positions": ["client_id", "market", "security_code"], "cash": ["client_id"],
    "quotes": ["market", "security_code"], "market": ["market"],
}
MARKETS = ("SH", "SZ", "BJ")
SIDES = ("B", "S")
GENDERS = ("M", "F")
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
CLIENT_CHANNELS = ("online", "branch", "referral", "bank")
TRADE_CHANNELS = ("online", "phone", "counter")
AMOUNT_TOLERANCE_CNY, AMOUNT_TOLERANCE_REL = 0.01, 0.001
# A client's cash that moved by more than this beyond its transfers counts as trading
# (the header-only trades rule; the same cent as sql/checks/raw_cash_reconciles.sql).
CASH_TOLERANCE_CNY = 0.01

# ---- bounds: a value beyond them is an export error, never a real value of a branch ----
# They catch garbage (1e20, an ID pasted into an amount, a shifted decimal point or a
# unit slip on a large value), and keep every real value with a wide margin.
# One client's money in one row (a trade's amount or fee, a cash balance or transfer, a
# holding cost): 1e12 CNY is a trillion, about the market value of the largest A-share
# company; no branch client's trade, balance or holding comes near it.
MAX_MONEY_CNY = 1e12
# A price per share: the dearest A-share has traded at ~2,600 CNY (Kweichow Moutai);
# 1e6 leaves a factor of ~400.
MAX_PRICE_CNY = 1e6
# Shares in one trade or one position: 1e10 is ~1/30 of the largest company's A-shares
# (ICBC, ~2.7e11), far beyond what a branch client holds or trades.
MAX_QUANTITY = 1e10
# One exchange's whole A-share turnover in one session: the record of both exchanges
# together is ~3.5e12 CNY (2024-10-08); 1e13 is ~3x that for one. It must be > 0: a
# session with no turnover has no market share to compute.
MAX_TURNOVER_CNY = 1e13
# Birth, hire and account dates before this are placeholders (0001-01-01, Excel's
# 1899-12-30), not dates.
EARLIEST_DATE = dt.date(1900, 1, 1)


@dataclass(frozen=True)
class Valid:
    """The valid values of one column beyond its type (docs/spec/extracts.md, 'valid values').
    Numbers are always finite."""

    gt: float | None = None            # exclusive lower bound
    ge: float | None = None            # inclusive lower bound
    le: float | None = None            # inclusive upper bound
    values: tuple[str, ...] = ()       # an enumeration
    digits: int | None = None          # exactly that many ASCII digits
    since: dt.date | None = None       # earliest date
    until_day: bool = False            # not after the folder's day
    on_day: bool = False               # equal to the folder's day
    not_before: str | None = None      # a date not before that (date) column of the same row


MONEY = Valid(ge=0, le=MAX_MONEY_CNY)
PRICE = Valid(gt=0, le=MAX_PRICE_CNY)
QUANTITY = Valid(gt=0, le=MAX_QUANTITY)
MARKET = Valid(values=MARKETS)
CODE = Valid(digits=6)
PAST_DATE = Valid(since=EARLIEST_DATE, until_day=True)

# file -> column -> its valid values; a column not listed takes any value of its type.
VALID: dict[str, dict[str, Valid]] = {
    "clients": {
        "gender": Valid(values=GENDERS), "birth_date": PAST_DATE, "open_date": PAST_DATE,
        "close_date": Valid(not_before="open_date", until_day=True),
        "risk_level": Valid(values=RISK_LEVELS), "channel": Valid(values=CLIENT_CHANNELS),
    },
    "brokers": {"hire_date": PAST_DATE},
    "trades": {
        "trade_date": Valid(on_day=True), "market": MARKET, "security_code": CODE,
        "side": Valid(values=SIDES), "quantity": QUANTITY, "price": PRICE, "amount": MONEY,
        "commission": MONEY, "exchange_fee": MONEY, "stamp_tax": MONEY, "transfer_fee": MONEY,
        "channel": Valid(values=TRADE_CHANNELS),
    },
    "positions": {
        "market": MARKET, "security_code": CODE, "quantity": QUANTITY,
        # diluted cost: profitable sells can bring the holding cost to zero or below
        "cost_amount": Valid(ge=-MAX_MONEY_CNY, le=MAX_MONEY_CNY),
    },
    "cash": {
        "cash_balance": MONEY, "deposit_amount": MONEY, "withdraw_amount": MONEY,
        # interest credited (+), dividends (+) and dividend tax (-): either sign
        "other_flow_amount": Valid(ge=-MAX_MONEY_CNY, le=MAX_MONEY_CNY),
    },
    "quotes": {"market": MARKET, "security_code": CODE, "close": PRICE, "prev_close": PRICE},
    "market": {"market": MARKET, "turnover_amount": Valid(gt=0, le=MAX_TURNOVER_CNY)},
}


def _num(x: float) -> str:
    """1e12 -> '1e12', 0 -> '0', -1e12 -> '-1e12'."""
    if x and math.log10(abs(x)).is_integer() and abs(x) >= 1e4:
        return f"{'-' if x < 0 else ''}1e{int(math.log10(abs(x)))}"
    return f"{x:g}"


def _either(values: tuple[str, ...], doc: bool = False) -> str:
    """'B or S' / 'one of SH/SZ/BJ' in a reason, '`SH` / `SZ` / `BJ`' in the contract."""
    if doc:
        return " / ".join(f"`{x}`" for x in values)
    return " or ".join(values) if len(values) == 2 else "one of " + "/".join(values)


def describe(name: str, col: str) -> str:
    """The 'valid values' cell of the contract's table for that column."""
    kind, required = next((k, r) for c, k, r in SCHEMAS[name] if c == col)
    v = VALID[name].get(col, Valid())
    parts = []
    if v.gt is not None:
        parts.append(f"> {_num(v.gt)}")
    if v.ge is not None:
        parts.append(f">= {_num(v.ge)}")
    if v.le is not None:
        parts.append(f"<= {_num(v.le)}")
    if v.values:
        parts.append(_either(v.values, doc=True))
    if v.digits:
        parts.append(f"{v.digits} digits")
    if v.on_day:
        parts.append("the folder's day")
    elif v.since or v.not_before or v.until_day:
        lo = v.since.isoformat() if v.since else v.not_before
        parts.append(f"{lo} .. the folder's day" if v.until_day else f">= {lo}")
    body = " and ".join(parts) or {STR: "any text", DATE: "a real date", TIME: "a time of day HH:MM:SS",
                                   INT: "a whole number", DEC: "a finite number"}[kind]
    if kind == INT and parts:
        body = "whole number " + body
    if required:
        return f"required; {body}"
    return f"{'may be absent; ' if col in MAY_BE_ABSENT.get(name, ()) else ''}empty, or {body}"


class ExtractFileError(ValueError):
    """A file that cannot be used at all: the day's ingest stops, nothing is written."""

    def __init__(self, path: Path, message: str, column: str | None = None, row: int | None = None):
        where = f"{path.parent.name}/{path.name}"
        if column:
            where += f", column '{column}'"
        if row:
            where += f", row {row}"
        super().__init__(f"{where}: {message}")
        self.path, self.column, self.row = path, column, row


REJECT_SCHEMA = {
    "file": pl.String, "row_number": pl.Int64, "column_name": pl.String,
    "reason": pl.String, "raw_row": pl.String,
}


def _empty_notes() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


@dataclass
class LoadedFile:
    """Good rows (typed) and rejects of one extract file.

    `nulled`: cells of optional columns whose value was invalid, nulled in `good` (the row is
    kept), in the rejects' columns. `good_text`: for trades, the good rows' row number and
    text cells in `good`'s order (the cross-session checks of core/ingest.py reject from it).
    """

    name: str
    path: Path
    encoding: str
    rows_read: int
    good: pl.DataFrame
    rejects: pl.DataFrame = field(repr=False)
    nulled: pl.DataFrame = field(default_factory=_empty_notes, repr=False)
    good_text: pl.DataFrame | None = field(default=None, repr=False)

    def reject(self, mask: pl.Series, column: str, reasons: pl.Series | str) -> LoadedFile:
        """This file with the good rows where `mask` is true moved to the rejects (needs good_text)."""
        hit = self.good_text.filter(mask)
        new = notes_frame(self.path.name, self.name, hit, column, reasons if isinstance(reasons, str)
                          else reasons.filter(mask))
        return replace(self, good=self.good.filter(~mask), good_text=self.good_text.filter(~mask),
                       rejects=pl.concat([self.rejects, new]).sort("row_number", maintain_order=True))


def notes_frame(file: str, name: str, rows: pl.DataFrame, column: str | pl.Expr, reason: str | pl.Series | pl.Expr
                ) -> pl.DataFrame:
    """Rows of quality.rejects (or nulled cells) for `rows` (row_number and the `_t_` text
    cells): file, row, column, reason, and the raw row as JSON of its text cells."""
    if isinstance(reason, pl.Series):
        rows, reason = rows.with_columns(reason.alias("_why")), pl.col("_why")
    return rows.select(
        pl.lit(file).alias("file"),
        pl.col("row_number").cast(pl.Int64),
        (pl.lit(column) if isinstance(column, str) else column).cast(pl.String).alias("column_name"),
        (pl.lit(reason) if isinstance(reason, str) else reason).cast(pl.String).alias("reason"),
        pl.struct([pl.col(f"_t_{c}").alias(c) for c, _, _ in SCHEMAS[name]]).struct.json_encode().alias("raw_row"),
    )


def file_digest(path: Path) -> str:
    """BLAKE2b of the file's bytes (hashlib streams it: a 200k-client day's files in ~0.1 s)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()[:32]


def check_inside(root: Path, path: Path) -> None:
    """Refuse `path` (a session folder or a file in one) unless it really is inside `root`
    once every symlink is followed: a link to somewhere outside the extracts root is not read."""
    real = path.resolve()
    if not real.is_relative_to(root.resolve()):
        raise ExtractFileError(path, f"is a symlink to {real}, outside the extracts root {root}; "
                                     "copy the data into the root instead")


def find_file(folder: Path, name: str) -> Path:
    """The CSV or Parquet file of that name; exactly one must exist, a regular file inside the
    extracts root (the folder's parent)."""
    found = [p for p in (folder / f"{name}.csv", folder / f"{name}.parquet") if p.exists() or p.is_symlink()]
    if not found:
        raise ExtractFileError(folder / f"{name}.csv", "file is missing (neither .csv nor .parquet)")
    if len(found) > 1:
        raise ExtractFileError(found[0], f"both {name}.csv and {name}.parquet exist; keep one")
    path = found[0]
    check_inside(folder.parent, folder)
    check_inside(folder.parent, path)
    if not path.is_file():
        raise ExtractFileError(path, "is not a regular file" if path.exists() else "is a broken symlink")
    return path


def _undecodable(path: Path, data: bytes, exc: UnicodeDecodeError, offset: int = 0) -> ExtractFileError:
    """The error for a byte that no encoding reads, on the row quality.rejects would give it:
    the header is line 1 of the file, data row N is line N + 1 (no quoted line breaks)."""
    at = offset + exc.start
    line = data[:at].count(b"\n") + 1
    byte = data[at:at + 1].hex().upper()
    message = f"undecodable byte 0x{byte}: not UTF-8 nor GBK/GB18030 text"
    if line == 1:
        return ExtractFileError(path, f"header: {message}")
    return ExtractFileError(path, message, row=line - 1)


def _decode(path: Path) -> tuple[str, str, bytes | None]:
    """decode(), plus the file's UTF-8 bytes (BOM removed) when it already is UTF-8."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            return body.decode("utf-8"), "utf-8-sig", body
        except UnicodeDecodeError as exc:  # a BOM says UTF-8: no other encoding is tried
            raise _undecodable(path, data, exc, offset=3) from exc
    try:
        return data.decode("utf-8"), "utf-8", data
    except UnicodeDecodeError as exc:
        not_utf8 = exc
    try:
        return data.decode("gb18030"), "gb18030", None
    except UnicodeDecodeError as exc:
        # The later failure is the bad byte: a GBK file fails UTF-8 at its first Chinese
        # character, a UTF-8 file read as GB18030 fails in the mojibake before its bad byte.
        worst = max(exc, not_utf8, key=lambda e: e.start)
        raise _undecodable(path, data, worst) from exc


def decode(path: Path) -> tuple[str, str]:
    """Text and encoding of a CSV: UTF-8 (BOM or not) first, then GB18030 (a GBK superset)."""
    text, encoding, _ = _decode(path)
    return text, encoding


def read_text_frame(path: Path) -> tuple[pl.DataFrame, str]:
    """All columns as strings, whatever the format, plus the detected encoding."""
    if path.suffix == ".parquet":
        try:
            df = pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any reader failure means "unreadable"
            raise ExtractFileError(path, f"unreadable Parquet: {exc}") from exc
        return _blanks_null(df.select(pl.all().cast(pl.String))), "parquet"
    text, encoding, utf8 = _decode(path)
    if not text.strip():
        raise ExtractFileError(path, "file is empty (no header row)")
    try:
        df = pl.read_csv(
            # a UTF-8 file is read as is (decoding it above was the check): no re-encoding
            utf8 if utf8 is not None else text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=False,
        )
    except Exception as exc:  # noqa: BLE001
        raise ExtractFileError(path, f"unreadable CSV: {exc}") from exc
    return _blanks_null(df.rename({c: c.strip() for c in df.columns})), encoding


def _blanks_null(df: pl.DataFrame) -> pl.DataFrame:
    """Cells stripped; "" and "  " are empty cells (NULL), whether the exporter quoted them or
    not, in CSV and Parquet alike."""
    stripped = pl.col(pl.String).str.strip_chars()
    return df.with_columns(pl.when(stripped == "").then(None).otherwise(stripped).name.keep())


def _floats(col: str, kind: str) -> list[pl.Expr]:
    """`_f_<col>`: a number column's text as a float, NaN and inf kept (the checks read it)."""
    return [pl.col(col).cast(pl.Float64, strict=False).alias(f"_f_{col}")] if kind in (INT, DEC) else []


def _typed(col: str, kind: str) -> pl.Expr:
    """The typed column (numbers from `_f_<col>`: computed once, not per use)."""
    c = pl.col(col)
    if kind == DATE:
        return c.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    if kind == TIME:
        return c.str.strptime(pl.Time, "%H:%M:%S", strict=False)
    f = pl.col(f"_f_{col}")
    if kind == INT:
        # "300" and "300.0" (a Parquet float cast to text) are both 300 shares.
        return pl.when(f.is_finite() & (f == f.round(0)) & (f.abs() < 2.0**63)).then(
            f.cast(pl.Int64, strict=False)).alias(col)
    if kind == DEC:
        return f.alias(col)
    return c


def _column_rules(name: str, col: str, kind: str, required: bool, day: dt.date) -> list[tuple[str, pl.Expr]]:
    """(reason, failing-row expression) of one column, in the order they are reported."""
    text, value = pl.col(f"_t_{col}"), pl.col(col)
    rules: list[tuple[str, pl.Expr]] = []
    if required:
        rules.append(("missing value", text.is_null()))
    if kind in (INT, DEC):
        f = pl.col(f"_f_{col}")
        rules.append((f"unparsable {kind}", text.is_not_null() & f.is_null()))
        rules.append((f"{col} is not a finite number", ~f.is_finite()))
        if kind == INT:
            rules.append((f"{col} must be a whole number", f != f.round(0)))
        value = f  # bounds on the number as written
    elif kind != STR:
        rules.append((f"unparsable {kind}", text.is_not_null() & value.is_null()))
    v = VALID[name].get(col)
    if v is None:
        return rules
    if v.gt is not None:
        rules.append((f"{col} must be > {_num(v.gt)}", value <= v.gt))
    if v.ge is not None:
        rules.append((f"{col} must be >= {_num(v.ge)}", value < v.ge))
    if v.le is not None:
        rules.append((f"{col} must be <= {_num(v.le)}", value > v.le))
    if v.values:
        rules.append((f"unknown {col} (expected {_either(v.values)})", ~value.is_in(v.values)))
    if v.digits:
        rules.append((f"{col} must be {v.digits} digits", ~value.str.contains(rf"^[0-9]{{{v.digits}}}$")))
    if v.on_day:
        rules.append((f"{col} is not the folder's day {day}", value != day))
    if v.since:
        rules.append((f"{col} before {v.since}", value < v.since))
    if v.not_before:
        rules.append((f"{col} before {v.not_before}", value < pl.col(v.not_before)))
    if v.until_day:
        rules.append((f"{col} after the folder's day {day}", value > day))
    return rules


def _row_rules(name: str, client_ids: pl.Series | None) -> list[tuple[str, str, pl.Expr]]:
    """(column, reason, failing-row expression) of the rules that read several columns."""
    rules: list[tuple[str, str, pl.Expr]] = []
    if name == "trades":
        expected = pl.col("quantity") * pl.col("price")
        # Decided in whole micro-yuan, not in doubles: 170.18 - 100 x 1.70 is 0.18000000000000682,
        # which must count as the tolerance 0.18 itself (accepted). Amounts have 2 decimals and
        # prices at most 4, so the difference is a multiple of 1e-4 CNY and rounding both sides
        # to 1e-6 decides exactly (double noise is < 5e-7 CNY below 1e9 CNY).
        rules.append(("amount", "amount disagrees with quantity x price",
                      ((pl.col("amount") - expected).abs() * 1e6).round(0)
                      > ((AMOUNT_TOLERANCE_CNY + AMOUNT_TOLERANCE_REL * expected.abs()) * 1e6).round(0)))
        rules.append(("stamp_tax", "stamp_tax on a buy (charged on sells only)",
                      (pl.col("side") == "B") & (pl.col("stamp_tax") != 0)))
        if client_ids is not None:
            rules.append(("client_id", "client missing from that day's clients file",
                          ~pl.col("client_id").is_in(client_ids.implode())))
    return rules


def _first(rules: list[tuple[str, str, pl.Expr]]) -> tuple[pl.Expr, pl.Expr]:
    """(column, reason) of the first failing rule, null where none fails."""
    reason = pl.lit(None, pl.String)
    column = pl.lit(None, pl.String)
    for col, why, bad in reversed(rules):
        hit = bad.fill_null(False)
        reason = pl.when(hit).then(pl.lit(why)).otherwise(reason)
        column = pl.when(hit).then(pl.lit(col)).otherwise(column)
    return column, reason


def _any(rules: list[tuple[str, str, pl.Expr]]) -> pl.Expr:
    return pl.any_horizontal([bad.fill_null(False) for _, _, bad in rules]) if rules else pl.lit(False)


def validate(name: str, df: pl.DataFrame, day: dt.date, path: Path,
             client_ids: pl.Series | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split one file's text frame into typed good rows and rejects (first failing rule wins)."""
    f = validate_file(name, df, day, path, client_ids)
    return f.good, f.rejects


def validate_file(name: str, df: pl.DataFrame, day: dt.date, path: Path,
                  client_ids: pl.Series | None = None, encoding: str = "") -> LoadedFile:
    """One file's text frame as a LoadedFile: a failing rule of a required column (or of the
    row) rejects the row, the first one being its reason; a failing rule of an optional column
    nulls that cell and keeps the row (docs/spec/extracts.md, "What bad input gets")."""
    schema = SCHEMAS[name]
    for col, _, _ in schema:
        if col in df.columns:
            continue
        if col not in MAY_BE_ABSENT.get(name, ()):
            raise ExtractFileError(path, "required column is missing from the header", column=col)
        df = df.with_columns(pl.lit(None, pl.String).alias(col))
    cols = [c for c, _, _ in schema]
    text = df.select(cols).with_row_index("row_number", offset=1)
    typed = text.with_columns(
        [pl.col(c).alias(f"_t_{c}") for c in cols] + [e for c, k, _ in schema for e in _floats(c, k)]
    ).with_columns([_typed(c, k) for c, k, _ in schema])
    rejecting: list[tuple[str, str, pl.Expr]] = []   # (column, reason, bad)
    nulling: dict[str, list[tuple[str, str, pl.Expr]]] = {}
    for col, kind, required in schema:
        rules = [(col, why, bad) for why, bad in _column_rules(name, col, kind, required, day)]
        if required:
            rejecting += rules
        elif rules:
            nulling[col] = rules
    rejecting += _row_rules(name, client_ids)
    # the reasons are worked out for the failing rows only (few): one pass flags them all
    # (and the optional cells to null, `_null_<col>`, in the same pass)
    flagged = typed.with_columns(_any(rejecting).alias("_bad"),
                                 *[_any(r).alias(f"_null_{c}") for c, r in nulling.items()])
    bad_rows = flagged.filter(pl.col("_bad"))
    ok = flagged.filter(~pl.col("_bad"))
    # optional cells: nulled where a rule fails, each noted with its first reason
    notes = []
    cells = [c for c in nulling if ok[f"_null_{c}"].any()]
    for c in cells:
        column, reason = _first(nulling[c])
        notes.append(notes_frame(path.name, name, ok.filter(pl.col(f"_null_{c}")), column, reason))
    if cells:
        ok = ok.with_columns([pl.when(pl.col(f"_null_{c}")).then(None).otherwise(pl.col(c)).alias(c) for c in cells])
    # Duplicate keys among rows that are otherwise good: the first one is kept.
    key = KEYS[name]
    # hashed once (the key's columns are required, so never null here)
    first = ok.select((pl.struct(key) if len(key) > 1 else pl.col(key[0])).is_first_distinct()).to_series()
    dup_rows = ok.filter(~first)
    good = ok.filter(first)
    column, reason = _first(rejecting)
    rejects = pl.concat([
        notes_frame(path.name, name, bad_rows, column, reason),
        notes_frame(path.name, name, dup_rows, key[0], f"duplicate {'+'.join(key)} (first row kept)"),
    ]).sort("row_number")
    nulled = (pl.concat(notes).sort("row_number", "column_name") if notes else _empty_notes())
    good_text = good.select(["row_number"] + [f"_t_{c}" for c in cols]) if name == "trades" else None
    return LoadedFile(name, path, encoding, text.height, good.select(cols), rejects, nulled, good_text)


def read_file(folder: Path, name: str, day: dt.date, client_ids: pl.Series | None = None) -> LoadedFile:
    path = find_file(folder, name)
    text, encoding = read_text_frame(path)
    return validate_file(name, text, day, path, client_ids, encoding)


def quiet_day_error(trades: LoadedFile, positions: LoadedFile, cash: LoadedFile,
                    previous: Path) -> ExtractFileError | None:
    """The header-only rule: a trades file without a single data row is an error when the
    day's positions AND cash show a client trading against the previous session's folder
    `previous`: the client's quantity of some security differs from the previous session's
    (held then or now but not both, or another number of shares) and its cash balance moved
    by more than CASH_TOLERANCE_CNY beyond that day's transfers and other flows (a client in
    both cash files). Either change alone has other causes on a day without trades (a
    transfer of custody or bonus shares; interest or a dividend), both together are a trade.
    Rows are the files' good rows; an unusable previous folder leaves nothing to compare."""
    prev_day = dt.date.fromisoformat(previous.name)
    try:
        prev_pos = read_file(previous, "positions", prev_day).good
        prev_cash = read_file(previous, "cash", prev_day).good
    except ExtractFileError:  # that session's own load names what is wrong with it
        return None
    key = ["client_id", "market", "security_code"]
    held = (
        prev_pos.select(*key, pl.col("quantity").alias("before"))
        .join(positions.good.select(*key, pl.col("quantity").alias("after")), on=key, how="full", coalesce=True)
        .filter(pl.col("before").fill_null(0) != pl.col("after").fill_null(0))
    )
    moved = (
        prev_cash.select("client_id", pl.col("cash_balance").alias("cash_before"))
        .join(cash.good, on="client_id", how="inner")
        .with_columns((pl.col("deposit_amount") - pl.col("withdraw_amount")
                       + pl.col("other_flow_amount").fill_null(0)).alias("transfers"))
        # in whole cents: 10,000.01 - 10,000.00 is one cent, not 0.0100000000002
        .filter(((pl.col("cash_balance") - pl.col("cash_before") - pl.col("transfers")) * 100).round(0).abs()
                > round(CASH_TOLERANCE_CNY * 100))
    )
    both = held.join(moved, on="client_id", how="semi").join(moved, on="client_id").sort(key)
    if both.height == 0:
        return None
    r = both.row(0, named=True)
    return ExtractFileError(trades.path, (
        f"no trade rows, but {positions.path.name} and {cash.path.name} show {both['client_id'].n_unique()} "
        f"client(s) trading since {prev_day} (e.g. {r['client_id']}: {r['market']} {r['security_code']} "
        f"{r['before'] or 0} -> {r['after'] or 0} shares, cash {r['cash_before']:,.2f} -> {r['cash_balance']:,.2f} "
        f"with transfers and other flows of {r['transfers']:,.2f}): a trades export that lost the day?"))


def load_day(folder: Path, day: dt.date, previous: Path | None = None) -> dict[str, LoadedFile]:
    """Read and validate the seven files of one day folder; raises ExtractFileError.
    `previous`: the previous session's folder, if any (the header-only trades rule)."""
    if not folder.is_dir():
        if folder.is_symlink() and folder.exists() is False:
            raise ExtractFileError(folder, "the session folder is a broken symlink")
        raise ExtractFileError(folder / "clients.csv", f"extract folder for {day} is missing")
    check_inside(folder.parent, folder)
    out: dict[str, LoadedFile] = {}
    for name in FILES:  # clients first: trades are checked against it
        ids = out["clients"].good["client_id"] if name == "trades" else None
        f = read_file(folder, name, day, ids)
        if name == "trades" and f.rows_read and f.good.height == 0 and (
            f.rejects["reason"].str.starts_with("trade_date").all()
        ):
            raise ExtractFileError(f.path, f"every trade_date differs from the folder's day {day}: wrong day?",
                                   column="trade_date", row=1)
        out[name] = f
    if out["trades"].rows_read == 0 and previous is not None and previous.is_dir():
        error = quiet_day_error(out["trades"], out["positions"], out["cash"], previous)
        if error:
            raise error
    return out
