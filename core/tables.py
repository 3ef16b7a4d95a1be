"""The registry of warehouse tables: one declarative place for what each table is.

For every table: its writer (the one asset that writes it, and the function that does),
its SQL file, grain, how a session's rows are replaced, which tables and which session
window it reads (windows named by configuration fields), and its blocking checks. Its
readers are derived. Dagster's asset graph (pipelines/assets.py), the direct path used by
tests and bench (core/build.py), and "what depends on session D of table T" all read it.

Windows are counted in XSHG sessions. A read `back=n` of session D reads sessions
D-n .. D of the upstream table. Two windows are not a number of sessions:
- FIRST: every earlier session (the latest earlier close of a held security, the model
  in force). A table reading itself one session back (running totals, hysteresis) reaches
  the first session through its own earlier rows.
- PERIODS: the calendar periods (week .. year) containing D and the periods before them,
  forward to the end of D's year: a period table's row for D's year reads all of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from .config import Settings

FIRST = "first"
PERIODS = "periods"

# How a writer replaces a range start..end of a table:
BY_SESSION = "session"        # delete the sessions start..end, insert them
BY_PERIOD = "period"          # delete the calendar periods touching start..end, recompute them
BY_MONTH = "month"            # delete the months touching start..end (and earlier stale ones)
FROM_SESSION = "from_session"  # delete start..last, extend to end from the session before start
SINGLETON = "singleton"       # one row of parameters, replaced when they change

Window = int | str | tuple[int | str, ...]


@dataclass(frozen=True)
class Read:
    """Session D of the reading table reads sessions D - back .. D + forward of `table`."""

    table: str
    back: Window = 0
    forward: Window = 0


@dataclass(frozen=True)
class Table:
    name: str                    # schema.table in the warehouse
    writer: str                  # the writer (one Dagster asset or multi-asset) that writes it
    grain: tuple[str, ...]       # its key columns
    replace: str                 # how a range of sessions is replaced (BY_SESSION, ...)
    reads: tuple[Read, ...] = ()
    sql: str | None = None       # the SQL file under sql/ that computes it, when it is SQL
    checks: tuple[str, ...] = ()  # blocking checks (core/checks.py) run after it is written
    key_check: bool = False      # also check that `grain` is unique over the written range
    description: str = ""

    @property
    def key(self) -> tuple[str, ...]:
        """The Dagster asset key path: ('mart', 'client_daily')."""
        return tuple(self.name.split("."))


@dataclass(frozen=True)
class Writer:
    """What one asset writes, and the core function that writes a range of sessions."""

    name: str
    builder: str                 # "module:function", called as f(con, days, settings, log)
    group: str
    description: str


def _raw(name: str, reads_files: str, description: str, checks: tuple[str, ...] = (),
         grain: tuple[str, ...] = ("as_of_date",)) -> Table:
    return Table(f"raw.{name}", "raw_extracts", grain, BY_SESSION, checks=checks,
                 description=f"Typed rows of {reads_files}, stamped with as_of_date. {description}".strip())


C = "mart.client_daily"
CW = "mart.client_windows"
CR = "mart.client_running"
FEATURES = "mart.client_features"

TABLES: tuple[Table, ...] = (
    # ---- raw: the extracts of a session folder, loaded in one transaction ----------------
    _raw("clients", "clients.csv|parquet", "", grain=("as_of_date", "client_id")),
    _raw("brokers", "brokers.csv|parquet", "", grain=("as_of_date", "broker_id")),
    _raw("trades", "trades.csv|parquet", "", grain=("as_of_date", "trade_id")),
    _raw("positions", "positions.csv|parquet", "", checks=("raw_no_negative_holdings",),
         grain=("as_of_date", "client_id", "market", "security_code")),
    _raw("cash", "cash.csv|parquet", "",
         checks=("raw_cash_reconciles", "client_without_cash_row"), grain=("as_of_date", "client_id")),
    _raw("quotes", "quotes.csv|parquet", "", grain=("as_of_date", "market", "security_code")),
    _raw("market", "market.csv|parquet", "", grain=("as_of_date", "market")),
    Table("quality.loads", "raw_extracts", ("as_of_date", "file"), BY_SESSION,
          checks=("raw_loads_reconcile", "raw_reject_share"),
          description="Per session and file: rows read, loaded and rejected."),
    Table("quality.rejects", "raw_extracts", ("as_of_date", "file", "row_number"), BY_SESSION,
          description="Rows kept out of raw.*, with file, row, column, reason and the raw row."),
    Table("quality.nulled", "raw_extracts", ("as_of_date", "file", "row_number", "column_name"), BY_SESSION,
          description="Invalid values of optional columns, loaded as NULL (the row kept): file, row, "
                      "column, reason and the raw row."),
    # ---- marts of docs/spec/indicators.md ------------------------------------------------
    Table("quality.warnings", "client_daily", ("as_of_date", "kind", "market", "security_code"), BY_SESSION,
          reads=(Read("raw.positions"), Read("raw.quotes", back=FIRST)), sql="quality/warnings",
          description="Held securities valued at an earlier close (no quote on the session)."),
    Table(C, "client_daily", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read("raw.cash", back=1), Read("raw.trades"), Read("raw.clients"),
                 Read("raw.positions", back=1), Read("raw.quotes", back=FIRST)),
          sql="marts/client_daily", key_check=True,
          description="Per client and session: assets, flows, fees, revenue and daily P&L (spec 1)."),
    Table(CR, "client_running", ("as_of_date", "client_id"), FROM_SESSION,
          reads=(Read(C, back=("indicators.lookback", 1)), Read("raw.clients"), Read(CR, back=1),
                 Read("mart.client_running_params")),
          sql="marts/client_running",
          description="Internal: per client running totals since its first row, the windows' differences."),
    Table("mart.client_running_params", "client_running", (), SINGLETON,
          description="Internal: the parameters client_running's churn test was computed with."),
    Table(CW, "client_windows", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(CR, back="indicators.window"), Read(CR, back="indicators.lookback"), Read(C),
                 Read("raw.clients"), Read("raw.positions"), Read("raw.quotes", back=FIRST)),
          sql="marts/client_windows", key_check=True, checks=("value_share_sums_to_one", "trapped_ratio_in_range"),
          description="Per client: 20- and 60-session window indicators, trapped, dormant, churn event (spec 2); "
                      "the view mart.client_indicators adds segment and churn_risk."),
    Table("mart.security_trapped", "security_trapped", ("as_of_date", "market", "security_code"), BY_SESSION,
          reads=(Read("raw.positions"), Read("raw.quotes", back=FIRST)), sql="marts/security_trapped",
          key_check=True,
          description="Per held security: holders, trapped holders by depth, trapped cost and loss (spec 5)."),
    Table("mart.branch_daily", "branch_daily", ("as_of_date",), BY_SESSION,
          reads=(Read(C), Read("raw.clients"), Read("raw.market")), sql="marts/branch_daily", key_check=True,
          description="The branch's day: clients, AUM, flows, revenue, market share (spec 3)."),
    Table("mart.branch_period", "branch_period", ("period_type", "period_start"), BY_PERIOD,
          reads=(Read("mart.branch_daily", back=PERIODS, forward=PERIODS),
                 Read(C, back=PERIODS, forward=PERIODS)),
          sql="marts/branch_period", key_check=True,
          description="Week / month / quarter / half / year to date with changes vs the previous period (spec 3)."),
    # ---- rankings: one pass over the clients' months ------------------------------------
    Table("mart.client_month", "rankings", ("month_start", "client_id"), BY_MONTH,
          reads=(Read(C, back=PERIODS, forward=PERIODS), Read(CW, back=PERIODS, forward=PERIODS),
                 Read("raw.clients", back=PERIODS, forward=PERIODS)),
          sql="marts/client_month",
          description="Internal: per month and client, the sums the ranking periods combine."),
    Table("mart.broker_ranking", "rankings", ("period_type", "period_start", "broker_id"), BY_PERIOD,
          reads=(Read("mart.client_month", back=PERIODS, forward=PERIODS), Read(C, back=PERIODS, forward=PERIODS),
                 Read("raw.brokers"), Read("mart.broker_ranking", back=PERIODS)),
          sql="marts/broker_ranking", key_check=True,
          description="Brokers ranked by revenue per period, with the previous period's rank (spec 4)."),
    Table("mart.team_ranking", "rankings", ("period_type", "period_start", "team_id"), BY_PERIOD,
          reads=(Read("mart.client_month", back=PERIODS, forward=PERIODS), Read(C, back=PERIODS, forward=PERIODS),
                 Read("raw.brokers"), Read("mart.team_ranking", back=PERIODS)),
          sql="marts/team_ranking", key_check=True,
          description="Brokerage teams ranked by revenue per period, with the previous period's rank (spec 4)."),
    Table("mart.ranking_periods", "rankings", ("period_type", "period_start"), BY_PERIOD,
          reads=(Read("mart.broker_ranking"),), sql="marts/ranking_periods",
          description="Internal: the last session the stored rankings of each period run to."),
    # ---- models: features, segments, churn scores, correlations -------------------------
    Table(FEATURES, "client_features", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(CR, back="indicators.lookback"), Read(C, back="indicators.window"),
                 Read(CW, back="indicators.window")),
          sql="features/client_features", key_check=True,
          description="The models' inputs per client and session (window behaviour)."),
    Table("mart.client_segments", "client_segments", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(FEATURES), Read("mart.client_segments", back=1), Read("model.segmentation_versions", back=FIRST)),
          checks=("segment_filled",),
          description="Segment of every client per session (k-means on behaviour, stable names, hysteresis)."),
    Table("mart.segment_profile", "client_segments", ("as_of_date", "segment"), BY_SESSION,
          reads=(Read("mart.client_segments"), Read(FEATURES), Read(CW), Read(C)),
          sql="marts/segment_profile", key_check=True,
          description="Per session and segment: size, behaviour and revenue share."),
    Table("mart.segment_transitions", "client_segments", ("as_of_date", "horizon", "from_segment", "to_segment"),
          BY_SESSION, reads=(Read("mart.client_segments", back="indicators.window"),),
          sql="marts/segment_transitions",
          description="Clients moving between segments since the previous session and a window before."),
    Table("model.segmentation_runs", "client_segments", ("as_of_date", "metric_name"), BY_SESSION,
          reads=(Read(FEATURES),),
          description="Segmentation fits: version, training range and scores (one metric per row)."),
    Table("model.segmentation_versions", "client_segments", ("version",), BY_SESSION,
          reads=(Read(FEATURES), Read("model.segmentation_versions", back=FIRST)),
          description="Fitted segmentation models, serialized: the warehouse file is the whole state."),
    Table("mart.churn_scores", "churn_scores", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(FEATURES), Read("model.churn_versions", back=FIRST)),
          checks=("churn_risk_in_range",),
          description="Probability of churn within the horizon for every client per session."),
    Table("mart.churn_drivers", "churn_scores", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read("mart.churn_scores"),), key_check=True,
          description="The riskiest clients' top three churn drivers."),
    Table("model.churn_runs", "churn_scores", ("as_of_date", "metric_name"), BY_SESSION,
          reads=(Read(FEATURES, back=("churn.train_sessions", "churn.horizon")),),
          description="Churn fits and rule scorings: version, training range and validation metrics."),
    Table("model.churn_versions", "churn_scores", ("version",), BY_SESSION,
          reads=(Read(FEATURES, back=("churn.train_sessions", "churn.horizon")),
                 Read(CW, back=("churn.train_sessions", "churn.horizon")),
                 Read("model.churn_versions", back=FIRST)),
          description="Fitted churn models, serialized: the warehouse file is the whole state."),
    Table("mart.indicator_correlation", "indicator_correlation", ("as_of_date", "indicator_a", "indicator_b"),
          BY_SESSION, reads=(Read(CW), Read("mart.churn_scores")), sql="features/correlation_inputs",
          key_check=True, description="Spearman correlation between the main indicators, per session."),
    # ---- client analysis (docs/spec/client-analysis.md) -----------------------------------
    Table("mart.client_profile", "client_analysis", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(CW), Read("raw.clients"), Read("raw.positions"), Read("raw.quotes", back=FIRST),
                 Read("raw.trades", back=("indicators.window", -1))),
          sql="marts/client_profile", key_check=True,
          description="Per client on D: age, tenure, open channel, city, risk level, preferred board, "
                      "main trading channel and hour (client analysis 3)."),
    Table("mart.value_by_tier", "client_analysis", ("as_of_date", "period_type", "wealth_tier"), BY_SESSION,
          reads=(Read(CW), Read(C), Read(CR, back=PERIODS), Read("mart.branch_daily", back=PERIODS)),
          sql="marts/value_by_tier", key_check=True,
          description="Per wealth tier, month / quarter / year to date: clients, assets, revenue, profitability "
                      "(client analysis 1)."),
    Table("mart.value_concentration", "client_analysis", ("as_of_date", "period_type"), BY_SESSION,
          reads=(Read(CW), Read(C), Read(CR, back=PERIODS), Read("mart.branch_daily", back=PERIODS)),
          sql="marts/value_concentration", key_check=True,
          description="Revenue concentration: top 1 / 5 / 20 % shares, Gini, top tier worth in mass clients "
                      "(client analysis 2)."),
    Table("mart.attribute_profile", "client_analysis", ("as_of_date", "attribute", "category"), BY_SESSION,
          reads=(Read("mart.client_profile", back=("indicators.lookback", -1)),
                 Read(CW, back=("indicators.lookback", -1)), Read(C), Read("mart.client_segments")),
          sql="marts/attribute_profile", key_check=True,
          description="Per attribute and category of the clients on D: assets, revenue, activity, dormancy, "
                      "churn and segment mix (client analysis 4)."),
    Table("mart.attribute_association", "client_analysis", ("as_of_date", "attribute"), BY_SESSION,
          reads=(Read("mart.attribute_profile"),),
          sql="marts/attribute_association", key_check=True,
          description="Cramér's V between each attribute and the segment (client analysis 4)."),
    Table("mart.client_loyalty", "client_analysis", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(CW), Read(C), Read(CR, back="indicators.annual_sessions"),
                 Read("mart.branch_daily", back="indicators.annual_sessions"),
                 Read("mart.client_month", back=PERIODS)),
          sql="marts/client_loyalty", key_check=True,
          description="Loyalty score per client on D and its five components: tenure, presence, asset "
                      "retention against the 12-month peak, net transfers, trading regularity."),
    Table("mart.loyalty_distribution", "client_analysis", ("as_of_date", "group_type", "group_value"), BY_SESSION,
          reads=(Read("mart.client_loyalty"), Read(CW), Read("mart.client_segments")),
          sql="marts/loyalty_distribution", key_check=True,
          description="Loyalty score over all clients on D, per segment and per wealth tier: clients, mean, "
                      "quartiles, shares of low and high scores."),
    Table("mart.loyalty_movers", "client_analysis", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read("mart.client_loyalty", back=PERIODS), Read("mart.branch_daily", back=PERIODS)),
          sql="marts/loyalty_movers", key_check=True,
          description="The clients whose loyalty score rose or fell most since the last session of the "
                      "previous month, ranked."),
    Table("mart.coholding", "client_analysis", ("as_of_date", "market_a", "security_a", "market_b", "security_b"),
          BY_SESSION, reads=(Read("raw.positions"),), sql="marts/coholding", key_check=True,
          description="Securities held together with the most-held ones, by lift (client analysis 6)."),
    Table("mart.client_habits", "client_analysis", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(CW), Read(CR, back="indicators.window"),
                 Read("raw.trades", back=("indicators.window", -1)), Read("raw.positions"),
                 Read("raw.quotes", back=FIRST)),
          sql="marts/client_habits", key_check=True,
          description="Per client on D: the industry it holds most (ref.securities), how many it holds, those "
                      "it is trapped in, and its average holding period in sessions over the window (平均持股周期)."),
    Table("mart.trapped_industries", "client_analysis", ("as_of_date", "industry_a", "industry_b"), BY_SESSION,
          reads=(Read("mart.client_habits"),), sql="marts/trapped_industries", key_check=True,
          description="Industries clients are trapped in together, by lift."),
    Table("mart.client_channel_month", "client_periods", ("month_start", "client_id", "channel"), BY_MONTH,
          reads=(Read("raw.trades", back=PERIODS, forward=PERIODS),),
          sql="marts/client_channel_month", key_check=True,
          description="Internal: per month, client and trading channel, the month's trades."),
    Table("mart.channel_period", "client_periods", ("period_type", "period_start", "channel"), BY_PERIOD,
          reads=(Read("raw.trades", back=PERIODS, forward=PERIODS),
                 Read("mart.client_channel_month", back=PERIODS, forward=PERIODS),
                 Read("mart.branch_daily", back=PERIODS, forward=PERIODS)),
          sql="marts/channel_period", key_check=True,
          description="Trades and commission by trading channel per calendar period (client analysis 5)."),
    Table("mart.client_changes", "client_analysis", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read(CW, back=FIRST), Read(C), Read(CR, back=1), Read("raw.clients")),
          sql="marts/client_changes", key_check=True,
          description="Internal: per session, the clients opened, closed, churned, gone dormant or woken up."),
    Table("mart.client_exits", "client_analysis", ("as_of_date", "client_id"), BY_SESSION,
          reads=(Read("mart.client_changes", back=PERIODS), Read(C, back=PERIODS),
                 Read("mart.client_month", back=FIRST)),
          sql="marts/client_exits", key_check=True,
          description="Internal: per session, the clients that left on it (their month's first close or churn) "
                      "and the total assets of their latest row before (what flow_projection's lost_assets sums)."),
    Table("mart.client_flow", "client_periods", ("month_start",), BY_MONTH,
          reads=(Read("mart.client_changes", back=PERIODS, forward=PERIODS),
                 Read("mart.branch_daily", back=PERIODS, forward=PERIODS),
                 Read(CW, forward=PERIODS), Read(C, forward=PERIODS)),
          sql="marts/client_flow", key_check=True,
          description="Per month: clients opened, closed, churned, gone dormant, woken up; clients and new "
                      "clients' assets at its end (client analysis 7)."),
    Table("mart.flow_projection", "client_periods", ("month_start",), BY_MONTH,
          reads=(Read("mart.branch_daily", back=PERIODS, forward=PERIODS),
                 Read("mart.client_flow", back=PERIODS, forward=PERIODS),
                 Read("mart.client_exits", back=PERIODS, forward=PERIODS)),
          sql="marts/flow_projection", key_check=True,
          description="Per month: clients and assets at its end, new and lost assets, the naive projection "
                      "of its end from the months before and its error, and the next month's."),
    # ---- the end of a session's run ------------------------------------------------------
    Table("quality.published", "published", ("as_of_date",), BY_SESSION,
          reads=(Read("quality.loads"), Read("quality.warnings"), Read("mart.security_trapped"),
                 Read("mart.branch_period"), Read("mart.broker_ranking"), Read("mart.segment_profile"),
                 Read("mart.churn_scores"), Read("mart.indicator_correlation"), Read("mart.attribute_profile"),
                 Read("mart.client_flow")),
          sql="quality/published",
          description="Sessions whose run completed (every writer, checks passed) and their fingerprint."),
)

WRITERS: tuple[Writer, ...] = (
    Writer("raw_extracts", "core.ingest:build_raw", "raw",
           "Load each session's seven files in one transaction; bad rows go to quality.rejects."),
    Writer("client_daily", "core.build:build_sql", "marts",
           "Per client and session: assets, flows, fees, revenue and daily P&L (spec 1), and the held "
           "securities valued at an earlier close (quality.warnings), in one transaction per chunk."),
    Writer("client_running", "core.build:extend_running", "marts",
           "Running totals per client, extended to the range's last session."),
    Writer("client_windows", "core.build:build_sql", "marts", "Window indicators per client (spec 2)."),
    Writer("security_trapped", "core.build:build_sql", "marts", "Trapped holders per security (spec 5)."),
    Writer("branch_daily", "core.build:build_sql", "marts", "The branch's day (spec 3)."),
    Writer("branch_period", "core.build:build_sql", "marts", "The branch's calendar periods (spec 3)."),
    Writer("rankings", "core.build:rebuild_rankings", "marts",
           "Both rankings per chunk, in one transaction, from one pass over the clients' months (spec 4)."),
    Writer("client_features", "core.build:build_sql", "models", "The models' inputs per client and session."),
    Writer("client_segments", "models.segment_sessions:build_segments", "models",
           "Segments per session in order (fit schedule, hysteresis), with profile and transitions."),
    Writer("churn_scores", "models.churn_sessions:build_churn", "models",
           "Churn risk per session in order (monthly refit), with the top drivers."),
    Writer("indicator_correlation", "models.correlation:build_correlation", "models",
           "Spearman correlations between the indicators (churn_risk included), per session."),
    Writer("client_analysis", "core.build:build_analysis", "analysis",
           "Client profiles, value by tier and its concentration, attributes against behaviour, co-holding, "
           "loyalty and its movers, holdings by industry and holding period, industries trapped together."),
    Writer("client_periods", "core.build:build_sql", "analysis",
           "Trades by channel per calendar period, and the client base's flow and its projection per month."),
    Writer("published", "core.build:publish", "quality",
           "Marks the range's sessions complete, with their fingerprints (what `crm run` compares), "
           "and unpublishes the later sessions that read a changed one."),
)

# Views over registered tables: what readers (the report, the spec's names) see.
VIEWS: dict[str, tuple[str, ...]] = {
    "mart.client_indicators": (CW, "mart.client_segments", "mart.churn_scores"),
    "mart.model_runs": ("model.segmentation_runs", "model.churn_runs"),
    "mart.client_directory": ("raw.clients", "raw.brokers"),
    "mart.broker_directory": ("raw.brokers",),
    "mart.security_quotes": ("raw.quotes",),
}

# What the daily report reads (sql/reports/), views expanded to their tables.
REPORT_READS: tuple[str, ...] = (
    C, CW, "mart.client_segments", "mart.churn_scores", "mart.churn_drivers", "mart.security_trapped",
    "mart.branch_daily", "mart.branch_period", "mart.broker_ranking", "mart.team_ranking", "mart.ranking_periods",
    "mart.client_month",  # the rankings to a day that is not a run's last: int_ranking reads the stored months
    "mart.segment_profile", "mart.segment_transitions", "mart.indicator_correlation", "model.segmentation_runs",
    "model.churn_runs", "quality.loads", "quality.rejects", "quality.warnings", "raw.clients", "raw.brokers",
    "raw.quotes", "raw.positions",
    # client analysis; client_running: the concentration curve from int_client_value
    "mart.value_by_tier", "mart.value_concentration", "mart.attribute_profile", "mart.attribute_association",
    "mart.channel_period", "mart.client_flow", "mart.coholding", "mart.client_running",
    "mart.loyalty_distribution", "mart.loyalty_movers", "mart.client_habits", "mart.trapped_industries",
    "mart.flow_projection",
    # the broker books (reports/books.py): loyalty in the table, recent trades in the cards
    "mart.client_loyalty", "raw.trades",
)

BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def writer_tables(writer: str) -> list[Table]:
    return [t for t in TABLES if t.writer == writer]


def writer(name: str) -> Writer:
    return next(w for w in WRITERS if w.name == name)


def readers(table: str) -> list[tuple[Table, Read]]:
    """Every (table, read) that reads `table`, itself included."""
    return [(t, r) for t in TABLES for r in t.reads if r.table == table]


def resolve(window: Window, settings: Settings) -> int | str:
    """A window in sessions: an int, a dotted Settings field ('indicators.lookback'), or a
    tuple summed; FIRST and PERIODS stay as they are."""
    if window in (FIRST, PERIODS):
        return window
    parts = window if isinstance(window, tuple) else (window,)
    total = 0
    for p in parts:
        if isinstance(p, int):
            total += p
        else:
            section, name = p.split(".")
            total += int(getattr(getattr(settings, section), name))
    return total


@cache
def period_reach(sessions: tuple[dt.date, ...]) -> tuple[int, int]:
    """Most sessions a PERIODS window reaches back (to the start of the previous year) and
    forward (to the end of the year) from any session of the calendar."""
    back = forward = 0
    first_of_year: dict[int, int] = {}
    last_of_year: dict[int, int] = {}
    for i, d in enumerate(sessions):
        first_of_year.setdefault(d.year, i)
        last_of_year[d.year] = i
    for i, d in enumerate(sessions):
        back = max(back, i - first_of_year.get(d.year - 1, first_of_year[d.year]))
        forward = max(forward, last_of_year[d.year] - i)
    return back, forward


def offsets(read: Read, settings: Settings, sessions: tuple[dt.date, ...]) -> tuple[int, int]:
    """(sessions back, sessions forward) of a read, as numbers of sessions of the calendar."""
    reach_back, reach_forward = period_reach(sessions)

    def n(window: Window, period: int) -> int:
        w = resolve(window, settings)
        return len(sessions) - 1 if w == FIRST else period if w == PERIODS else int(w)

    return n(read.back, reach_back), n(read.forward, reach_forward)
