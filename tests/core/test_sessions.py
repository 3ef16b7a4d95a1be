"""The XSHG session calendar: holidays are not sessions, and a holiday folder is refused."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from typer.testing import CliRunner

from core.ingest import session_folders
from core.sessions import NotASessionError, trading_calendar

from ..builders import copy_day

DAY = dt.date(2024, 9, 18)
CAL = trading_calendar()


def test_national_day_week_is_not_sessions():
    assert CAL.between(dt.date(2024, 9, 27), dt.date(2024, 10, 9)) == [
        dt.date(2024, 9, 27), dt.date(2024, 9, 30), dt.date(2024, 10, 8), dt.date(2024, 10, 9)]
    assert CAL.check(dt.date(2024, 9, 30)) == dt.date(2024, 9, 30)
    assert CAL.offset(dt.date(2024, 9, 30), 1) == dt.date(2024, 10, 8)
    assert CAL.index(dt.date(2024, 10, 8)) - CAL.index(dt.date(2024, 9, 27)) == 2
    with pytest.raises(NotASessionError, match="2024-10-01 is not an XSHG trading session"):
        CAL.check(dt.date(2024, 10, 1))


def test_non_session_folder_is_refused(tmp_path):
    copy_day(tmp_path)
    shutil.copytree(tmp_path / DAY.isoformat(), tmp_path / "2024-10-01")  # National Day
    with pytest.raises(ValueError, match="2024-10-01 is not an XSHG trading session"):
        session_folders(tmp_path, CAL)
    from cli.app import app

    result = CliRunner().invoke(app, ["run", "--extracts", str(tmp_path),
                                      "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2
    assert "2024-10-01 is not an XSHG trading session (an exchange holiday)" in result.output
    assert not (tmp_path / "w.duckdb").exists()
