"""The 18:00 schedule fires on sessions only; the sensor requests complete, settled folders once."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.automation import SETTLE_SECONDS, daily_at_18, new_extract_requests

from ..conftest import EXAMPLE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def tick(day: str):
    when = dt.datetime.fromisoformat(day).replace(hour=18, tzinfo=SHANGHAI)
    result = daily_at_18(dg.build_schedule_context(scheduled_execution_time=when))
    return [result] if isinstance(result, dg.RunRequest) else result


def test_schedule_requests_the_session_and_skips_holidays():
    assert [r.partition_key for r in tick("2024-09-30")] == ["2024-09-30"]
    holiday = tick("2024-10-01")  # National Day, a weekday
    assert isinstance(holiday, dg.SkipReason) and "not an XSHG session" in holiday.skip_message
    assert [r.partition_key for r in tick("2024-10-08")] == ["2024-10-08"]
    assert daily_at_18.cron_schedule == "0 18 * * 1-5"
    assert daily_at_18.execution_timezone == "Asia/Shanghai"


def age(folder, seconds):
    old = time.time() - seconds
    for f in folder.iterdir():
        os.utime(f, (old, old))


def test_sensor_waits_for_all_seven_settled_files_and_requests_once_per_version(tmp_path):
    src = EXAMPLE / "extracts" / "2024-09-18"
    folder = tmp_path / "2024-09-18"
    shutil.copytree(src, folder)
    (tmp_path / "_truth").mkdir()  # not a day folder: ignored
    age(folder, SETTLE_SECONDS + 5)
    first = new_extract_requests(tmp_path)
    assert [r.partition_key for r in first] == ["2024-09-18"]
    assert new_extract_requests(tmp_path)[0].run_key == first[0].run_key  # same files, same key

    (folder / "cash.csv").unlink()
    assert new_extract_requests(tmp_path) == []  # incomplete

    shutil.copy(src / "cash.csv", folder / "cash.csv")  # just written: not settled yet
    assert new_extract_requests(tmp_path) == []
    (folder / "cash.csv").write_text((src / "cash.csv").read_text() + "0731000099,1.00,0,0\n")
    age(folder, SETTLE_SECONDS + 5)
    corrected = new_extract_requests(tmp_path)
    assert corrected[0].partition_key == "2024-09-18" and corrected[0].run_key != first[0].run_key
