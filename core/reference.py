"""The repository's reference data in the warehouse: `ref.securities`, a security's name and
industry, from data/reference/securities.parquet.

Like the session calendar (ref.sessions) it is no extract and has no writer in the registry:
the file is part of the code. Its digest is part of every session's fingerprint
(core/fingerprint.py), so a changed file makes `crm run` rebuild every session, the
raw_extracts writer first, which reloads the table here before the sessions' files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .db import transaction

SECURITIES = Path(__file__).resolve().parent.parent / "data" / "reference" / "securities.parquet"

_FILE_ROWS = "select market, code as security_code, security_name, industry from read_parquet($path)"


def load_securities(con: duckdb.DuckDBPyConnection, path: Path = SECURITIES) -> bool:
    """Make ref.securities hold exactly the file's rows; True when it had to replace them."""
    params = {"path": str(path)}
    differ = con.execute(f"""
        select count(*) from (
            (select * from ref.securities except all {_FILE_ROWS})
            union all
            ({_FILE_ROWS} except all select * from ref.securities)
        )""", params).fetchone()[0]
    if not differ:
        return False
    with transaction(con):
        con.execute("delete from ref.securities")
        con.execute(f"insert into ref.securities {_FILE_ROWS}", params)
    return True
