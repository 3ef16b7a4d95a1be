"""When the pipeline runs by itself: an 18:00 schedule on sessions and a new-extract sensor."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import dagster as dg

from core.extracts import FILES
from core.sessions import trading_calendar

TIMEZONE = "Asia/Shanghai"
SETTLE_SECONDS = 60  # a file younger than this may still be being written

daily_job = dg.define_asset_job("daily", selection=dg.AssetSelection.all())


@dg.schedule(job=daily_job, cron_schedule="0 18 * * 1-5", execution_timezone=TIMEZONE)
def daily_at_18(context: dg.ScheduleEvaluationContext):
    """Every weekday at 18:00 Shanghai time, the day's session; holidays are skipped."""
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    if not trading_calendar().is_session(day):
        return dg.SkipReason(f"{day} is not an XSHG session")
    return dg.RunRequest(partition_key=day, run_key=f"schedule-{day}")


def complete_folder_fingerprint(folder: Path, now: float) -> str | None:
    """A digest of a day folder once all seven files are there and settled, else None."""
    parts = []
    for name in FILES:
        found = [p for p in (folder / f"{name}.csv", folder / f"{name}.parquet") if p.exists()]
        if len(found) != 1:
            return None
        stat = found[0].stat()
        if now - stat.st_mtime < SETTLE_SECONDS:
            return None
        parts.append(f"{found[0].name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def new_extract_requests(root: Path, now: float | None = None) -> list[dg.RunRequest]:
    """One request per complete session folder; a corrected folder gets a new run_key."""
    now = time.time() if now is None else now
    requests = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        try:
            day = dt.date.fromisoformat(folder.name).isoformat()
        except ValueError:
            continue
        if not trading_calendar().is_session(day):
            continue
        digest = complete_folder_fingerprint(folder, now)
        if digest:
            requests.append(dg.RunRequest(partition_key=day, run_key=f"extract-{day}-{digest}"))
    return requests


@dg.sensor(job=daily_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def new_extract_folder(context: dg.SensorEvaluationContext, extracts):
    """Requests a session's run once its folder holds all seven settled files (again if they change)."""
    requests = new_extract_requests(extracts.path)
    if not requests:
        return dg.SkipReason(f"no complete extract folder under {extracts.path}")
    return requests
