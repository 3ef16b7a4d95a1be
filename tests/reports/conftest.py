"""Fixtures of the report tests: the worked example without model outputs (bare), the same
with plausible fake model outputs and a hostile broker name, and their rendered reports."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from fractions import Fraction
from pathlib import Path

import duckdb
import polars as pl
import pytest

from core.config import Settings
from reports import queries
from reports.render import render_report

from ..conftest import EXAMPLE

DAY = dt.date(2024, 10, 15)          # the KPI day: month to date = 10-08 .. 10-15
REJECTS_DAY = dt.date(2024, 10, 24)  # a day with rejected trade rows
SCRIPT_NAME = "<script>alert(1)</script>"
EVIL_BROKER = "<img src=x onerror=alert(2)>"

# Plausible model outputs for DAY, written where the models write them (segments and churn
# risk in their tables, which the view mart.client_indicators joins).
FAKE_MODELS = """
insert into mart.client_segments by name
select as_of_date, client_id,
    case when coalesce(days_since_last_trade, 999) > 60 then 'inactive'
        when hash(client_id) % 3 = 0 then 'stable'
        when hash(client_id) % 3 = 1 then 'aggressive' else 'conservative' end as segment,
    'seg-test-1' as model_version
from mart.client_windows where as_of_date = $day;
insert into mart.churn_scores by name
select as_of_date, client_id, (hash(client_id || 'r') % 1000) / 1000.0 as churn_risk, 'churn-test-1' as model_version
from mart.client_windows where as_of_date = $day;
insert into mart.segment_profile
select i.as_of_date, i.segment, count(*), count(*) / sum(count(*)) over (),
    avg(i.turnover_rate_annual), avg(i.activity), avg(i.concentration), avg(i.cash_ratio),
    avg(i.trade_amount_w / nullif(i.active_days, 0)), 0.02, avg(i.profitability),
    avg(c.total_assets), sum(c.total_assets), sum(i.revenue_w),
    sum(i.revenue_w) / sum(sum(i.revenue_w)) over (), 'seg-test-1'
from mart.client_indicators as i join mart.client_daily as c using (as_of_date, client_id)
where i.as_of_date = $day group by i.as_of_date, i.segment;
insert into mart.segment_transitions
select $day, h.horizon, f.s, t.s, 1 + (hash(f.s || t.s || h.horizon) % 5) + case when f.s = t.s then 9 else 0 end
from (values ('stable'), ('aggressive'), ('conservative'), ('inactive')) as f(s),
     (values ('stable'), ('aggressive'), ('conservative'), ('inactive')) as t(s),
     (values ('month'), ('day')) as h(horizon);
insert into mart.indicator_correlation values
    ($day, 'turnover_rate_annual', 'activity', 0.81, 40), ($day, 'activity', 'cash_ratio', -0.44, 40),
    ($day, 'turnover_rate_annual', 'cash_ratio', -0.37, 40), ($day, 'trapped_ratio', 'activity', 0.05, 40);
insert into mart.churn_drivers
select as_of_date, client_id, churn_risk, 'days_since_last_trade', 'net_outflow=+0.21', 'activity'
from mart.client_indicators where as_of_date = $day;
insert into model.segmentation_runs values
    ($day::timestamp + interval 20 hour, 'segmentation', 'seg-test-1', $day, $day - 365, $day, 40, 'silhouette', 0.41, 'k-means');
insert into model.churn_runs values
    ($day::timestamp + interval 20 hour, 'churn', 'churn-test-1', $day, $day - 365, $day, 900, 'roc_auc', 0.83, null);
update raw.brokers set broker_name = $evil where as_of_date = $day and broker_id = 'B000';
"""

# Every model output: the example as the SQL marts leave it.
MODEL_OUTPUTS = """
delete from mart.segment_profile; delete from mart.segment_transitions;
delete from mart.indicator_correlation; delete from mart.churn_drivers;
delete from model.segmentation_runs; delete from model.churn_runs;
delete from model.segmentation_versions; delete from model.churn_versions;
delete from mart.client_segments; delete from mart.churn_scores
"""


def report_params(day: dt.date, settings: Settings | None = None) -> dict:
    """The parameters the report binds (reports.queries.load_report)."""
    return queries.report_params(settings or Settings(), day)


def html_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def bare_warehouse(example_warehouse, tmp_path_factory) -> Path:
    """The example as the marts leave it, before any model output (the models erased)."""
    path = tmp_path_factory.mktemp("bare") / "warehouse.duckdb"
    shutil.copy(example_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for statement in MODEL_OUTPUTS.split(";"):
            con.execute(statement)
    return path


@pytest.fixture(scope="session")
def reports_out(bare_warehouse, tmp_path_factory) -> Path:
    """Reports of the plain example (no model outputs) for DAY and REJECTS_DAY."""
    out = tmp_path_factory.mktemp("reports")
    assert render_report(bare_warehouse, DAY, out) == out / "report-2024-10-15.html"
    render_report(bare_warehouse, REJECTS_DAY, out)
    return out


@pytest.fixture(scope="session")
def models_warehouse(bare_warehouse, tmp_path_factory) -> Path:
    """A copy of the example with plausible model outputs on DAY and a hostile broker name."""
    path = tmp_path_factory.mktemp("models") / "warehouse.duckdb"
    shutil.copy(bare_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for statement in FAKE_MODELS.split(";"):
            if statement.strip():
                params = {"day": DAY, "evil": EVIL_BROKER}
                con.execute(statement, {k: v for k, v in params.items() if f"${k}" in statement})
    return path


@pytest.fixture(scope="session")
def models_report(models_warehouse, tmp_path_factory) -> Path:
    return render_report(models_warehouse, DAY, tmp_path_factory.mktemp("models-out"))


# ---- a session's figures worked out from the extract files, not from the warehouse ------

def _extract(day: dt.date, name: str) -> pl.DataFrame:
    """One file of the example's session folder, every cell as text (CSV in UTF-8 or GBK, or
    Parquet)."""
    folder = EXAMPLE / "extracts" / day.isoformat()
    parquet = folder / f"{name}.parquet"
    if parquet.exists():
        frame = pl.read_parquet(parquet)
        return frame.with_columns([pl.col(c).map_elements(repr, return_dtype=pl.String) if frame[c].dtype.is_float()
                                   else pl.col(c).cast(pl.String) for c in frame.columns])
    data = (folder / f"{name}.csv").read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return pl.read_csv(text.encode("utf-8"), infer_schema=False)


def extract_figures(day: dt.date) -> dict[str, object]:
    """The branch's day from the example's files alone (spec 1 and 3), in exact decimals:
    clients with a cash row, their total assets (cash + quantity x the day's close), the
    effective ones (>= 10,000), active clients and traded amount (a day without rejected
    trade rows: every row counts)."""
    cash = _extract(day, "cash")
    closes = {(m, c): Fraction(x) for m, c, x in _extract(day, "quotes").select("market", "security_code", "close")
              .iter_rows()}
    assets = {cid: Fraction(bal) for cid, bal in cash.select("client_id", "cash_balance").iter_rows()}
    for cid, m, code, quantity in _extract(day, "positions").select(
            "client_id", "market", "security_code", "quantity").iter_rows():
        assets[cid] += int(Fraction(quantity)) * closes[(m, code)]
    trades = _extract(day, "trades")
    return {"clients": len(assets), "effective": sum(a >= 10_000 for a in assets.values()),
            "total_assets": sum(assets.values()), "active": trades["client_id"].n_unique(),
            "trade_amount": sum(Fraction(a) for a in trades["amount"])}


def card(html: str, label: str) -> str:
    """The value of the overview card `label`."""
    found = re.search(rf'<div class="label">{re.escape(label)}</div>\s*<div class="value">([^<]*)</div>', html)
    assert found, label
    return found.group(1)


def wan(x: Fraction) -> str:
    """An amount from 10,000 to 100,000,000 CNY as the report writes it (万, one decimal)."""
    assert 10_000 <= x < 100_000_000
    return f"{float(x) / 10_000:,.1f}万"
