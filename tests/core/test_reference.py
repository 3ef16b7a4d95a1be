"""The securities reference in the warehouse (core/reference.py): ref.securities holds exactly
data/reference/securities.parquet, is replaced only when the file differs, and the file is part
of the code version every session's fingerprint covers (a changed industry reruns what reads it)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from core import fingerprint
from core.db import prepare
from core.reference import SECURITIES, load_securities


@pytest.fixture()
def con():
    con = prepare(duckdb.connect())
    yield con
    con.close()


def test_loaded_as_the_file_holds_it_and_only_when_it_differs(con, tmp_path):
    assert load_securities(con) is True
    assert load_securities(con) is False  # unchanged: nothing written
    file = pl.read_parquet(SECURITIES).rename({"code": "security_code"}).sort("market", "security_code")
    table = con.execute("select * from ref.securities order by market, security_code").pl()
    assert table.equals(file)
    changed = tmp_path / "securities.parquet"
    pl.read_parquet(SECURITIES).with_columns(
        pl.when(pl.col("code") == "600036").then(pl.lit("其他银行")).otherwise(pl.col("industry")).alias("industry")
    ).write_parquet(changed)
    assert load_securities(con, changed) is True
    assert con.execute("select industry from ref.securities where security_code = '600036'").fetchone() == ("其他银行",)
    assert con.execute("select count(*) from ref.securities").fetchone() == (len(file),)


def test_a_changed_reference_file_changes_the_code_version(tmp_path, monkeypatch):
    copy = tmp_path / "securities.parquet"
    copy.write_bytes(SECURITIES.read_bytes())
    monkeypatch.setattr(fingerprint, "REFERENCE", (copy,))
    monkeypatch.setattr(fingerprint, "ROOT", tmp_path)
    try:
        fingerprint.code_version.cache_clear()
        before = fingerprint.code_version()
        pl.read_parquet(copy).with_columns(pl.lit("银行").alias("industry")).write_parquet(copy)
        fingerprint.code_version.cache_clear()
        assert fingerprint.code_version() != before
    finally:
        fingerprint.code_version.cache_clear()
