"""Compare two warehouses table by table: rows of each that the other lacks.

    .venv/bin/python -m core.compare A.duckdb B.duckdb [--tolerance 1e-9]

Tables and views of the raw, quality, mart and model schemas present in both (by name) are
compared on their common columns, minus the timestamps of when a run happened (`run_at`,
`loaded_at`, `published_at`) and the pickled models (BLOB: pickles of equal models need not be equal
bytes): rows are matched on their non-numeric columns, and numbers must agree within
`--tolerance` relative to the larger of the two (absolute below 1; DuckDB's parallel sums
add in varying order, so two runs of the same code differ in the last bits). Exit status 1 when any table differs.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

SCHEMAS = ("raw", "quality", "mart", "model")
WHEN = {"run_at", "loaded_at", "published_at"}


def relations(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select schema_name || '.' || table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name in ? order by column_index", [db, list(SCHEMAS)]).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for name, col, kind in rows:
        out.setdefault(name, []).append((col, kind))
    return out


NUMBERS = ("DOUBLE", "FLOAT", "DECIMAL")  # DECIMAL totals are sums of the (noisy) doubles


def compare(a: str, b: str, tolerance: float = 1e-9) -> list[tuple[str, int, int, int]]:
    """(table, rows in a, rows in b, rows without an equal row in the other) per common table."""
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    ra, rb = relations(con, "a"), relations(con, "b")
    out = []
    for name in sorted(set(ra) & set(rb)):
        kinds = dict(rb[name])
        cols = [(c, k) for c, k in ra[name] if c in kinds and c not in WHEN and k != "BLOB"]
        keys = [f'"{c}"' for c, k in cols if not k.startswith(NUMBERS)]
        floats = [f'"{c}"' for c, k in cols if k.startswith(NUMBERS)]
        na = con.execute(f"select count(*) from a.{name}").fetchone()[0]
        nb = con.execute(f"select count(*) from b.{name}").fetchone()[0]
        on = " and ".join(f"x.{k} is not distinct from y.{k}" for k in keys) or "true"
        close = " and ".join(
            f"(x.{f} is not distinct from y.{f} or abs(x.{f}::double - y.{f}::double) "
            f"<= {tolerance} * greatest(abs(x.{f}::double), abs(y.{f}::double), 1))"
            for f in floats) or "true"
        matched, matched_b = con.execute(
            f"select count(distinct x._rid), count(distinct y._rid) "
            f"from (select *, row_number() over () as _rid from a.{name}) as x "
            f"inner join (select *, row_number() over () as _rid from b.{name}) as y on {on} where {close}").fetchone()
        out.append((name, na, nb, (na - matched) + (nb - matched_b)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tolerance", type=float, default=1e-9, help="relative tolerance of floats")
    args = ap.parse_args(argv)
    result = compare(args.a, args.b, args.tolerance)
    bad = 0
    for name, na, nb, unmatched in result:
        same = unmatched == 0
        bad += not same
        print(f"{'same' if same else 'DIFF':4}  {name:34} rows {na:>9,} / {nb:>9,}  unmatched {unmatched:>7,}")
    print(f"{len(result)} tables compared, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
