"""The 18:00 schedule fires on sessions only; the sensor requests complete, settled folders once."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.automation import SETTLE_SECONDS, daily_at_18, new_extract_requests
from pipelines.definitions import defs

from .conftest import EXAMPLE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def tick(day: str):
    when = dt.datetime.fromisoformat(day).replace(hour=18, tzinfo=SHANGHAI)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                            repository_def=defs.get_repository_def())
        return daily_at_18.evaluate_tick(context)


def test_schedule_requests_the_session_and_skips_holidays():
    assert [r.partition_key for r in tick("2024-09-30").run_requests] == ["2024-09-30"]
    assert tick("2024-10-01").run_requests == []  # National Day, a weekday
    assert "not an XSHG session" in tick("2024-10-01").skip_message
    assert [r.partition_key for r in tick("2024-10-08").run_requests] == ["2024-10-08"]


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
