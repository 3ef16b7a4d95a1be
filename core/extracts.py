"""Read and validate one day's extract folder (the contract in docs/spec/extracts.md).

Everything is read as text first, so that a bad cell becomes a reject with its file,
row and column instead of a parse error that loses the whole file. Validation is
vectorised in polars: a day of 200k clients is ~1M rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
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
    ],
    "quotes": [
        ("market", STR, True), ("security_code", STR, True), ("security_name", STR, False),
        ("close", DEC, True), ("prev_close", DEC, True),
    ],
    "market": [("market", STR, True), ("turnover_amount", DEC, True)],
}
FILES = tuple(SCHEMAS)
# Natural key of each file: a repeated key keeps its first row, the others are rejected.
KEYS = {
    "clients": ["client_id"], "brokers": ["broker_id"], "trades": ["trade_id"],
    "positions": ["client_id", "market", "security_code"], "cash": ["client_id"],
    "quotes": ["market", "security_code"], "market": ["market"],
}
MARKETS = ("SH", "SZ", "BJ")
SIDES = ("B", "S")
AMOUNT_TOLERANCE_CNY, AMOUNT_TOLERANCE_REL = 0.01, 0.001


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


@dataclass
class LoadedFile:
    """Good rows (typed) and rejects of one extract file."""

    name: str
    path: Path
    encoding: str
    rows_read: int
    good: pl.DataFrame
    rejects: pl.DataFrame = field(repr=False)


REJECT_SCHEMA = {
    "file": pl.String, "row_number": pl.Int64, "column_name": pl.String,
    "reason": pl.String, "raw_row": pl.String,
}


def file_digest(path: Path) -> str:
    """BLAKE2b of the file's bytes (hashlib streams it: a 200k-client day's files in ~0.1 s)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()[:32]


def find_file(folder: Path, name: str) -> Path:
    """The CSV or Parquet file of that name; exactly one must exist."""
    found = [p for p in (folder / f"{name}.csv", folder / f"{name}.parquet") if p.exists()]
    if not found:
        raise ExtractFileError(folder / f"{name}.csv", "file is missing (neither .csv nor .parquet)")
    if len(found) > 1:
        raise ExtractFileError(found[0], f"both {name}.csv and {name}.parquet exist; keep one")
    return found[0]


def _decode(path: Path) -> tuple[str, str, bytes | None]:
    """decode(), plus the file's UTF-8 bytes (BOM removed) when it already is UTF-8."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        return body.decode("utf-8"), "utf-8-sig", body
    try:
        return data.decode("utf-8"), "utf-8", data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030", None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExtractFileError(path, "not UTF-8 nor GBK/GB18030 text", row=line) from exc


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
        return df.select(pl.all().cast(pl.String)), "parquet"
    text, encoding, utf8 = _decode(path)
    if not text.strip():
        raise ExtractFileError(path, "file is empty (no header row)", row=1)
    try:
        df = pl.read_csv(
            # a UTF-8 file is read as is (decoding it above was the check): no re-encoding
            utf8 if utf8 is not None else text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=False,
        )
    except Exception as exc:  # noqa: BLE001
        raise ExtractFileError(path, f"unreadable CSV: {exc}") from exc
    df = df.rename({c: c.strip() for c in df.columns})
    # "" and "  " are empty cells, whether the exporter quoted them or not
    stripped = pl.col(pl.String).str.strip_chars()
    return df.with_columns(pl.when(stripped == "").then(None).otherwise(stripped).name.keep()), encoding


def _parsed(col: str, kind: str) -> pl.Expr:
    c = pl.col(col)
    if kind == DATE:
        return c.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    if kind == TIME:
        return c.str.strptime(pl.Time, "%H:%M:%S", strict=False)
    if kind == INT:
        # "300" and "300.0" (a Parquet float cast to text) are both 300 shares.
        f = c.cast(pl.Float64, strict=False)
        return pl.when(f == f.round(0)).then(f.cast(pl.Int64, strict=False))
    if kind == DEC:
        return c.cast(pl.Float64, strict=False)
    return c


def validate(name: str, df: pl.DataFrame, day: dt.date, path: Path,
             client_ids: pl.Series | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split one file's text frame into typed good rows and rejects (first failing rule wins)."""
    schema = SCHEMAS[name]
    for col, _, _ in schema:
        if col not in df.columns:
            raise ExtractFileError(path, "required column is missing from the header", column=col, row=1)
    text = df.select([c for c, _, _ in schema]).with_row_index("row_number", offset=1)
    typed = text.with_columns(
        [pl.col(c).alias(f"_t_{c}") for c, _, _ in schema]
        + [_parsed(c, k).alias(c) for c, k, _ in schema]
    )
    # (column, reason, failing-row expression) in the order they are reported.
    rules: list[tuple[str, str, pl.Expr]] = []
    for col, kind, required in schema:
        if required:
            rules.append((col, "missing value", pl.col(f"_t_{col}").is_null()))
        if kind != STR:
            rules.append((col, f"unparsable {kind}", pl.col(f"_t_{col}").is_not_null() & pl.col(col).is_null()))
    cols = {c for c, _, _ in schema}
    for col in ("quantity", "price", "close", "prev_close"):
        if col in cols:
            rules.append((col, f"{col} must be > 0", pl.col(col) <= 0))
    for col in ("cash_balance", "deposit_amount", "withdraw_amount", "commission",
                "exchange_fee", "stamp_tax", "transfer_fee", "cost_amount", "turnover_amount"):
        if col in cols:
            rules.append((col, f"{col} must be >= 0", pl.col(col) < 0))
    if "market" in cols:
        rules.append(("market", f"unknown market (expected one of {'/'.join(MARKETS)})",
                      ~pl.col("market").is_in(MARKETS)))
    if name == "trades":
        rules.append(("side", "unknown side (expected B or S)", ~pl.col("side").is_in(SIDES)))
        rules.append(("trade_date", f"trade_date is not the folder's day {day}", pl.col("trade_date") != day))
        expected = pl.col("quantity") * pl.col("price")
        rules.append(("amount", "amount disagrees with quantity x price",
                      (pl.col("amount") - expected).abs()
                      > AMOUNT_TOLERANCE_CNY + AMOUNT_TOLERANCE_REL * expected.abs()))
        if client_ids is not None:
            rules.append(("client_id", "client missing from that day's clients file",
                          ~pl.col("client_id").is_in(client_ids.implode())))
    reason = pl.lit(None, pl.String)
    column = pl.lit(None, pl.String)
    for col, why, bad in reversed(rules):
        hit = bad.fill_null(False)
        reason = pl.when(hit).then(pl.lit(why)).otherwise(reason)
        column = pl.when(hit).then(pl.lit(col)).otherwise(column)
    checked = typed.with_columns(reason.alias("_reason"), column.alias("_column"))
    # Duplicate keys among rows that are otherwise good: the first one is kept.
    key = KEYS[name]
    ok = checked.filter(pl.col("_reason").is_null())
    # hashed once (the key's columns are required, so never null here)
    first = ok.select((pl.struct(key) if len(key) > 1 else pl.col(key[0])).is_first_distinct()).to_series()
    dup_rows = ok.filter(~first)
    good = ok.filter(first)
    bad = pl.concat([
        checked.filter(pl.col("_reason").is_not_null()),
        dup_rows.with_columns(pl.lit(f"duplicate {'+'.join(key)} (first row kept)").alias("_reason"),
                              pl.lit(key[0]).alias("_column")),
    ]).sort("row_number")
    rejects = bad.select(
        pl.lit(path.name).alias("file"),
        pl.col("row_number").cast(pl.Int64),
        pl.col("_column").alias("column_name"),
        pl.col("_reason").alias("reason"),
        pl.struct([pl.col(f"_t_{c}").alias(c) for c, _, _ in schema]).struct.json_encode().alias("raw_row"),
    )
    return good.select([c for c, _, _ in schema]), rejects


def load_day(folder: Path, day: dt.date) -> dict[str, LoadedFile]:
    """Read and validate the seven files of one day folder; raises ExtractFileError."""
    if not folder.is_dir():
        raise ExtractFileError(folder / "clients.csv", f"extract folder for {day} is missing")
    out: dict[str, LoadedFile] = {}
    for name in FILES:  # clients first: trades are checked against it
        path = find_file(folder, name)
        text, encoding = read_text_frame(path)
        ids = out["clients"].good["client_id"] if name == "trades" else None
        good, rejects = validate(name, text, day, path, ids)
        if name == "trades" and text.height and good.height == 0 and (
            rejects["reason"].str.starts_with("trade_date").all()
        ):
            raise ExtractFileError(path, f"every trade_date differs from the folder's day {day}: wrong day?",
                                   column="trade_date", row=1)
        out[name] = LoadedFile(name, path, encoding, text.height, good, rejects)
    return out
