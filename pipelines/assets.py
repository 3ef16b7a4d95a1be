"""Dagster assets: extracts -> raw.* -> mart.* for a range of sessions.

Every asset runs a whole partition range in one run (BackfillPolicy.single_run) and
processes its sessions in order, in chunks; each chunk is one DuckDB transaction.
"""


import dagster as dg
from dagster_duckdb import DuckDBResource

from .checks import MART_CHECKS, RAW_CHECKS
from .config import IndicatorConfig
from .extracts import FILES
from .ingest import ingest_days
from .partitions import chunks, range_sessions, session_partitions
from .resources import ExtractsResource
from .sessions import trading_calendar
from .warehouse import RANKING_MARTS, ensure_schema, rebuild_mart, rebuild_quality, rebuild_rankings

POOL = "duckdb"  # one writer at a time: DuckDB locks the file per process
CHUNK_SESSIONS = 20  # sessions per transaction (also what bench/ replays)
SINGLE_RUN = dg.BackfillPolicy.single_run()
RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in FILES}


def _prev(key: dg.AssetKey, sessions_back: int) -> dg.AssetDep:
    return dg.AssetDep(key, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-sessions_back))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, description=f"Typed rows of {name} extracts, stamped with as_of_date.",
                     group_name="raw", kinds={"duckdb"})
        for name, key in RAW_KEYS.items()
    ],
    check_specs=[c.spec(RAW_KEYS[f]) for f, checks in RAW_CHECKS.items() for c in checks],
    partitions_def=session_partitions,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
    name="raw_extracts",
)
def raw_extracts(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
                 extracts: ExtractsResource, indicators: IndicatorConfig):
    """Load each session's seven files in one transaction; bad rows go to quality.rejects."""
    cal = trading_calendar()
    days = range_sessions(context)
    totals = {name: [0, 0] for name in FILES}
    with duckdb.get_connection() as con:
        ensure_schema(con, cal)
        for day, files in ingest_days(con, extracts.path, days, cal):
            for name, f in files.items():
                totals[name][0] += f.good.height
                totals[name][1] += f.rejects.height
            context.log.info(f"{day}: loaded " + ", ".join(
                f"{n} {f.good.height}" + (f" (-{f.rejects.height})" if f.rejects.height else "")
                for n, f in files.items()))
        params = {**indicators.params(), "start": days[0], "end": days[-1]}
        results = [c.evaluate(con, RAW_KEYS[f], params) for f, checks in RAW_CHECKS.items() for c in checks]
    for name, (loaded, rejected) in totals.items():
        yield dg.MaterializeResult(asset_key=RAW_KEYS[name],
                                   metadata={"rows_loaded": loaded, "rows_rejected": rejected})
    yield from results


def _mart(name: str, deps: list, description: str, group: str = "marts"):
    """An asset that rebuilds mart.<name> from sql/marts/<name>.sql over its sessions."""

    key = dg.AssetKey(["mart", name])
    checks = MART_CHECKS.get(name, [])

    @dg.asset(key=key, deps=deps, partitions_def=session_partitions,
              backfill_policy=SINGLE_RUN, pool=POOL, group_name=group, kinds={"duckdb"},
              description=description, check_specs=[c.spec(key) for c in checks])
    def _asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
               indicators: IndicatorConfig):
        days = range_sessions(context)
        rows = warnings = 0
        with duckdb.get_connection() as con:
            ensure_schema(con, trading_calendar())
            for chunk in chunks(days, CHUNK_SESSIONS):
                rows += rebuild_mart(con, name, chunk[0], chunk[-1], indicators.params())
                if name == "client_daily":  # it values positions: record the stale quotes
                    warnings += rebuild_quality(con, chunk[0], chunk[-1], indicators.params())
            params = {**indicators.params(), "start": days[0], "end": days[-1]}
            results = [c.evaluate(con, key, params) for c in checks]
        metadata = {"rows": rows, "sessions": len(days)}
        if name == "client_daily":
            metadata["stale_quote_warnings"] = warnings
            if warnings:
                context.log.warning(f"{warnings} held securities valued at an earlier close (quality.warnings)")
        yield dg.MaterializeResult(metadata=metadata)
        yield from results

    return _asset


client_daily = _mart(
    "client_daily",
    deps=[RAW_KEYS["cash"], RAW_KEYS["trades"], RAW_KEYS["clients"],
          _prev(RAW_KEYS["positions"], 1), _prev(RAW_KEYS["quotes"], 1)],
    description="Per client and session: assets, flows, fees, revenue and daily P&L (spec 1).",
)
client_indicators = _mart(
    "client_indicators",
    deps=[_prev(dg.AssetKey(["mart", "client_daily"]), 61), RAW_KEYS["clients"],
          RAW_KEYS["positions"], RAW_KEYS["quotes"]],
    description="Per client: 20- and 60-session window indicators, trapped, dormant, churn (spec 2).",
)
security_trapped = _mart(
    "security_trapped",
    deps=[RAW_KEYS["positions"], RAW_KEYS["quotes"]],
    description="Per held security: holders, trapped holders by depth, trapped cost and loss (spec 5).",
)
branch_daily = _mart(
    "branch_daily",
    deps=[dg.AssetKey(["mart", "client_daily"]), RAW_KEYS["clients"], RAW_KEYS["market"]],
    description="The branch's day: clients, AUM, flows, revenue, market share (spec 3).",
)

branch_period = _mart(
    "branch_period",
    deps=[dg.AssetKey(["mart", "branch_daily"]), dg.AssetKey(["mart", "client_indicators"])],
    description="Week / month / quarter / half / year to date with changes vs the previous period (spec 3).",
)
RANKING_KEYS = {name: dg.AssetKey(["mart", name]) for name in RANKING_MARTS}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(RANKING_KEYS["broker_ranking"], group_name="marts", kinds={"duckdb"},
                     deps=[dg.AssetKey(["mart", "client_indicators"]), RAW_KEYS["clients"]],
                     description="Brokers ranked by revenue per period, with the previous period's rank (spec 4)."),
        dg.AssetSpec(RANKING_KEYS["team_ranking"], group_name="marts", kinds={"duckdb"},
                     deps=[dg.AssetKey(["mart", "client_indicators"]), RAW_KEYS["clients"], RAW_KEYS["brokers"]],
                     description="Brokerage teams ranked by revenue per period, with the previous period's rank "
                                 "(spec 4)."),
    ],
    check_specs=[c.spec(key) for name, key in RANKING_KEYS.items() for c in MART_CHECKS.get(name, [])],
    partitions_def=session_partitions,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
    name="rankings",
)
def rankings(context: dg.AssetExecutionContext, duckdb: DuckDBResource, indicators: IndicatorConfig):
    """Both rankings per chunk, in one transaction, from one pass over the clients' periods
    (and mart.client_month, which they combine)."""
    days = range_sessions(context)
    rows = dict.fromkeys(RANKING_KEYS, 0)
    with duckdb.get_connection() as con:
        ensure_schema(con, trading_calendar())
        for chunk in chunks(days, CHUNK_SESSIONS):
            for name, n in rebuild_rankings(con, chunk[0], chunk[-1], indicators.params()).items():
                rows[name] += n
        params = {**indicators.params(), "start": days[0], "end": days[-1]}
        results = [c.evaluate(con, key, params) for name, key in RANKING_KEYS.items()
                   for c in MART_CHECKS.get(name, [])]
    for name, key in RANKING_KEYS.items():
        yield dg.MaterializeResult(asset_key=key, metadata={"rows": rows[name], "sessions": len(days)})
    yield from results


ASSETS = [raw_extracts, client_daily, client_indicators, security_trapped, branch_daily,
          branch_period, rankings]
