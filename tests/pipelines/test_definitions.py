"""The Dagster definitions: one multi-asset per registry writer, the tables as asset keys,
the core checks as blocking asset checks, one settings resource."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import pytest

from core import tables
from core.checks import CHECKS, evaluate, table_checks
from core.config import IndicatorConfig, Settings
from core.db import connect
from pipelines import checks
from pipelines.definitions import SettingsResource, build_definitions


@pytest.fixture(scope="module")
def defs(tmp_path_factory) -> dg.Definitions:
    tmp = tmp_path_factory.mktemp("defs")
    return build_definitions(Settings(), warehouse=tmp / "w.duckdb", extracts=tmp / "extracts")


def test_one_multi_asset_per_writer_and_one_asset_per_table(defs):
    graph = defs.resolve_asset_graph()
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    ops = {a.op.name: {k.to_user_string() for k in a.keys} for a in assets}
    assert ops.pop("report__daily") == {"report/daily"}
    assert ops == {w.name: {"/".join(t.key) for t in tables.writer_tables(w.name)} for w in tables.WRITERS}
    assert set(graph.get_all_asset_keys()) == {dg.AssetKey(list(t.key)) for t in tables.TABLES} | {
        dg.AssetKey(["report", "daily"])}
    assert {w.group for w in tables.WRITERS} == {graph.get(dg.AssetKey(list(t.key))).group_name
                                                 for t in tables.TABLES}


def test_partitions_start_at_the_warehouse_first_session(tmp_path):
    """The earliest session folder of the extracts, else the configured first session (a
    session on or after it), else the calendar's first; FIRST windows reach that session."""
    from core.sessions import trading_calendar

    def first_key(settings, extracts):
        defs = build_definitions(settings, warehouse=tmp_path / "w.duckdb", extracts=extracts)
        graph = defs.resolve_asset_graph()
        part = graph.get(dg.AssetKey(["mart", "client_daily"])).partitions_def
        quotes = graph.get_parent_partition_keys_for_child("2024-09-20", dg.AssetKey(["raw", "quotes"]),
                                                           dg.AssetKey(["mart", "client_daily"]))
        return part.get_first_partition_key(), min(quotes.partitions_subset.get_partition_keys())

    extracts = tmp_path / "extracts"
    for name in ("2024-09-19", "2024-09-20", "notes"):
        (extracts / name).mkdir(parents=True)
    assert first_key(Settings(), extracts) == ("2024-09-19", "2024-09-19")
    # 2024-09-14 is a Saturday; the next sessions are Wednesday 18 (Mid-Autumn holiday 16-17)
    assert first_key(Settings(first_session=dt.date(2024, 9, 14)), extracts) == ("2024-09-18", "2024-09-18")
    first = trading_calendar().first.isoformat()
    assert first_key(Settings(), tmp_path / "nothing") == (first, first)


def test_one_partition_per_session_and_the_day_exists_from_its_midnight():
    """The partitions are the calendar's sessions from the first (exchange-calendars, read
    here directly), and a session's partition exists from its midnight, so that the 18:00
    schedule can target it. Between sessions the newest partition is the next session once
    the day before it is over (a holiday), and Friday's on a weekend (a Friday window ends
    on Monday 00:00)."""
    import zoneinfo

    import exchange_calendars as xc

    from core.sessions import CALENDAR_NAME
    from pipelines.partitions import session_partitions

    part = session_partitions(dt.date(2024, 9, 2))

    def at(when: str):
        moment = dt.datetime.fromisoformat(when).replace(tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
        return dg.partition_loading_context(effective_dt=moment)

    sessions = xc.get_calendar(CALENDAR_NAME, start="2024-09-02", end="2025-06-30").sessions
    with at("2025-06-30 18:00"):
        assert part.get_partition_keys() == [d.date().isoformat() for d in sessions]
    assert "2024-09-16" not in part.get_partition_keys()  # Mid-Autumn

    def newest(when: str) -> str:
        with at(when):
            return part.get_last_partition_key()

    assert newest("2024-09-13 18:00") == "2024-09-13"  # Friday
    assert newest("2024-09-14 12:00") == "2024-09-13"  # Saturday
    assert newest("2024-09-16 12:00") == "2024-09-18"  # Monday, a holiday (Tuesday too)
    assert newest("2024-09-18 00:30") == "2024-09-18"  # Wednesday, from its midnight
    assert newest("2024-09-19 18:00") == "2024-09-19"
    assert newest("2024-09-27 23:59") == "2024-09-27"  # Friday
    assert newest("2024-09-29 12:00") == "2024-09-27"  # Sunday
    assert newest("2024-09-30 00:01") == "2024-09-30"  # Monday, the last session before National Day
    assert newest("2024-10-03 18:00") == "2024-10-08"
    assert newest("2024-10-08 00:01") == "2024-10-08"


def test_resources_and_automation(defs):
    assert set(defs.resources) >= {"duckdb", "extracts", "settings"}
    settings = defs.resources["settings"]  # run config can replace it (a backfill carries its own)
    assert isinstance(settings, SettingsResource) and Settings.model_validate_json(settings.values) == Settings()
    assert defs.resolve_job_def("daily").name == "daily"
    assert defs.resolve_schedule_def("daily_at_18").cron_schedule == "0 18 * * 1-5"
    assert defs.resolve_sensor_def("new_extract_folder") is not None


def test_every_core_check_is_a_blocking_asset_check(defs):
    graph = defs.resolve_asset_graph()
    specs = {(k.asset_key, k.name) for k in graph.asset_check_keys}
    expected = {(dg.AssetKey(list(t.key)), c.name) for t in tables.TABLES for c in table_checks(t)}
    assert specs == expected
    assert {name for _, name in specs} >= set(CHECKS)
    for a in defs.assets:
        if isinstance(a, dg.AssetsDefinition):
            assert all(s.blocking for s in a.check_specs)


def test_a_failed_outcome_is_an_error_result(example_warehouse, tmp_path):
    path = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, path)
    table = tables.BY_NAME["mart.client_windows"]
    check = CHECKS["trapped_ratio_in_range"]
    params = {**IndicatorConfig().params(), "start": dt.date(2024, 9, 18), "end": dt.date(2024, 10, 29)}
    with connect(path) as con:
        passed = checks.result(evaluate(con, check, table.name, params), dg.AssetKey(list(table.key)))
        con.execute("update mart.client_windows set trapped_ratio = 1.5 "
                    "where client_id = '0731000002' and as_of_date = '2024-10-08'")
        failed = checks.result(evaluate(con, check, table.name, params), dg.AssetKey(list(table.key)))
    assert passed.passed and passed.metadata["violations"].value == 0
    assert not failed.passed
    assert failed.metadata["violations"].value >= 1
    assert "0731000002" in failed.metadata["sample"].value
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.asset_key == dg.AssetKey(["mart", "client_windows"])
