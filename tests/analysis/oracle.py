"""A second, independent implementation of docs/spec/client-analysis.md in plain polars.

It reads only the warehouse's raw tables (raw.clients, raw.trades, raw.positions,
raw.quotes), the indicator tables it builds on (mart.client_daily, mart.client_windows,
mart.client_segments) and the session calendar (ref.sessions), and rebuilds the eight
client-analysis tables from the spec's words, so tests can hold the warehouse's SQL marts
against it cell by cell. It is written for clarity, not speed: one function per table, each
quoting the spec sentence it implements.

Where the spec is silent, both implementations read it the same way (agreed beforehand):
- "Clients on D" are the rows of mart.client_windows on D.
- "The period's sessions up to D" are the *loaded* sessions (dates with mart.client_daily
  rows) of the calendar month / quarter / year containing D, up to and including D.
- A security's market value on D (preferred_board) is quantity x its close on D, or its
  latest earlier close when D has none, 0 when it was never quoted.
- The "window" of main_channel / avg_trade_hour is the 20 XSHG sessions ending at D (by
  ref.sessions.session_idx); main_channel ignores trades without a channel.
- churned_60 looks at the 60 sessions ending at D by session_idx.
- A trade without a channel is channel `unknown` in channel_period.
The rest is in each function's docstring.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import duckdb
import polars as pl

# ---------------------------------------------------------------------------------------
# Constants of the spec
# ---------------------------------------------------------------------------------------

WINDOW = 20            # W, the indicators' window (sessions)
CHURN_LOOKBACK = 60    # churned_60
YEAR_SESSIONS = 250    # annualisation
TIERS = ["mass", "affluent", "wealth", "hnw", "uhnw"]  # ascending
VALUE_PERIODS = ["month", "quarter", "year"]
CHANNEL_PERIODS = ["week", "month", "quarter", "half", "year"]
TOP_PERCENTS = {"top1_share": 1, "top5_share": 5, "top20_share": 20}
BOARD_ORDER = ["sh_main", "sz_main", "chinext", "star", "bj", "other"]  # ties of preferred_board
CHANNEL_ORDER = ["online", "phone", "counter"]                         # ties of main_channel
ATTRIBUTES = ["age_band", "gender", "tenure_band", "open_channel", "city", "risk_level",
              "preferred_board", "main_channel"]
SEGMENTS = ["stable", "aggressive", "conservative", "inactive"]
COHOLD_TOP, COHOLD_MIN_PAIR, COHOLD_KEEP = 20, 3, 5


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inputs:
    """The oracle's only inputs, read from a warehouse file."""
    clients: pl.DataFrame    # raw.clients
    trades: pl.DataFrame     # raw.trades (+ session_idx)
    positions: pl.DataFrame  # raw.positions
    quotes: pl.DataFrame     # raw.quotes
    daily: pl.DataFrame      # mart.client_daily
    windows: pl.DataFrame    # mart.client_windows (+ total_assets, segment, session_idx)
    sessions: pl.DataFrame   # ref.sessions: session_date, session_idx
    loaded: pl.DataFrame     # loaded sessions: as_of_date, session_idx (dates of client_daily)


def load(warehouse: Path | str) -> Inputs:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def read(sql: str) -> pl.DataFrame:
            return con.execute(sql).pl()

        sessions = read("select session_date, session_idx from ref.sessions")
        clients = read("""select as_of_date, client_id, gender, birth_date, open_date, close_date,
                                 risk_level, channel, city from raw.clients""")
        trades = read("""select as_of_date, client_id, trade_time, amount, commission, exchange_fee,
                                channel from raw.trades""")
        positions = read("select as_of_date, client_id, market, security_code, quantity from raw.positions")
        quotes = read("select as_of_date, market, security_code, close from raw.quotes")
        daily = read("""select as_of_date, client_id, total_assets, trade_count, revenue
                        from mart.client_daily""")
        windows = read("""select as_of_date, client_id, wealth_tier, revenue_w, activity,
                                 turnover_rate_annual, is_dormant, churn_event, tenure_days
                          from mart.client_windows""")
        segments = read("select as_of_date, client_id, segment from mart.client_segments")
    idx = sessions.rename({"session_date": "as_of_date"})
    loaded = daily.select("as_of_date").unique().join(idx, on="as_of_date", how="left").sort("as_of_date")
    windows = (windows
               .join(daily.select("as_of_date", "client_id", "total_assets"), on=["as_of_date", "client_id"], how="left")
               .join(segments, on=["as_of_date", "client_id"], how="left")
               .join(idx, on="as_of_date", how="left"))
    trades = trades.join(idx, on="as_of_date", how="left")
    return Inputs(clients=clients, trades=trades, positions=positions, quotes=quotes, daily=daily,
                  windows=windows, sessions=sessions, loaded=loaded)


# ---------------------------------------------------------------------------------------
# Small pure helpers (unit-tested on their own)
# ---------------------------------------------------------------------------------------

def gini(values: Iterable[float]) -> float | None:
    """"with r sorted ascending as r_1..r_N, gini = 2 x sum(i x r_i) / (N x sum r) - (N + 1) / N;
    null when sum r = 0"."""
    r = sorted(values)
    n, total = len(r), sum(r)
    if n == 0 or total == 0:
        return None
    return 2 * sum(i * x for i, x in enumerate(r, start=1)) / (n * total) - (n + 1) / n


def top_share(by_client: Sequence[tuple[str, float]], percent: int) -> float | None:
    """"share of revenue from the ceil(p x N) clients with the largest r (ties broken by
    client_id ascending); null when revenue = 0". ceil(p x N) in integers: (percent x N) / 100
    rounded up, so no double rounding (0.07 x 100 = 7.000000000000001) can add a client."""
    n = len(by_client)
    total = sum(r for _, r in by_client)
    if n == 0 or total == 0:
        return None
    k = -(-percent * n // 100)
    largest = sorted(by_client, key=lambda cr: (-cr[1], cr[0]))[:k]
    return sum(r for _, r in largest) / total


def cramers_v(table: Sequence[Sequence[int]]) -> float | None:
    """"V = sqrt(chi2 / (n x (min(r, c) - 1))), chi2 the Pearson statistic of the r x c
    contingency table ...; null when min(r, c) < 2". Every cell counts, zero cells included."""
    r = len(table)
    c = len(table[0]) if r else 0
    if min(r, c) < 2:
        return None
    rows = [sum(row) for row in table]
    cols = [sum(table[i][j] for i in range(r)) for j in range(c)]
    n = sum(rows)
    chi2 = 0.0
    for i in range(r):
        for j in range(c):
            expected = rows[i] * cols[j] / n
            chi2 += (table[i][j] - expected) ** 2 / expected
    return math.sqrt(chi2 / (n * (min(r, c) - 1)))


def board(code: str | None) -> str:
    """"`star` 688xxx / 689xxx; `sh_main` other codes starting 6; `chinext` 300xxx / 301xxx;
    `sz_main` other codes starting 0; `bj` codes starting 4, 8 or 920; `other` anything else"."""
    code = code or ""
    if code.startswith(("688", "689")):
        return "star"
    if code.startswith("6"):
        return "sh_main"
    if code.startswith(("300", "301")):
        return "chinext"
    if code.startswith("0"):
        return "sz_main"
    if code.startswith(("4", "8", "920")):
        return "bj"
    return "other"


def age_years(birth: dt.date | None, day: dt.date) -> int | None:
    """"whole years from birth_date to D": the birthday not yet reached in D's year subtracts one."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(age: int | None) -> str:
    """"`<25`, `25-34`, `35-44`, `45-54`, `55-64`, `65+`; `unknown` when age is null"."""
    if age is None:
        return "unknown"
    for upper, band in [(25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")]:
        if age < upper:
            return band
    return "65+"


def tenure_band(days: int | None) -> str | None:
    """"by tenure_days: `<1y` (< 365), `1-3y` (< 1,095), `3-5y` (< 1,826), `5-10y` (< 3,652), `10y+`"."""
    if days is None:
        return None
    for upper, band in [(365, "<1y"), (1095, "1-3y"), (1826, "3-5y"), (3652, "5-10y")]:
        if days < upper:
            return band
    return "10y+"


def period_start(date: pl.Expr, period_type: str) -> pl.Expr:
    """Calendar periods: weeks start on Monday, halves on 1 January and 1 July."""
    if period_type == "week":
        return date - pl.duration(days=date.dt.weekday() - 1)
    months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[period_type]
    return pl.date(date.dt.year(), (date.dt.month() - 1) // months * months + 1, 1)


def _empty_to(col: str, value: str) -> pl.Expr:
    """The column with `value` where it is null or blank."""
    c = pl.col(col)
    return pl.when(c.is_null() | (c.str.strip_chars() == "")).then(pl.lit(value)).otherwise(c).alias(col)


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den, null when den is 0 or null."""
    return pl.when(den != 0).then(num / den).otherwise(None)


# ---------------------------------------------------------------------------------------
# 1-2. Value by tier, concentration
# ---------------------------------------------------------------------------------------

def _period_sessions(inp: Inputs, period_types: Sequence[str]) -> pl.DataFrame:
    """(as_of_date, period_type, session_date): the loaded sessions of the period containing
    D, up to and including D."""
    frames = []
    for p in period_types:
        s = inp.loaded.select("as_of_date").with_columns(start=period_start(pl.col("as_of_date"), p))
        pairs = (s.join(s.rename({"as_of_date": "session_date"}), on="start")
                 .filter(pl.col("session_date") <= pl.col("as_of_date")))
        frames.append(pairs.select("as_of_date", pl.lit(p).alias("period_type"), "session_date"))
    return pl.concat(frames)


def _period_client_sums(inp: Inputs) -> pl.DataFrame:
    """Per D, period type and client on D: its wealth_tier and total_assets on D, r = its
    revenue summed over the period's sessions up to D (0 when none), its total_assets summed
    over those sessions (0 on a session without a row), and the number of those sessions."""
    pairs = _period_sessions(inp, VALUE_PERIODS)
    n_sessions = pairs.group_by("as_of_date", "period_type").agg(sessions=pl.len())
    on_d = inp.windows.select("as_of_date", "client_id", "wealth_tier", "total_assets")
    sums = (on_d.select("as_of_date", "client_id")
            .join(pairs, on="as_of_date")
            .join(inp.daily.select(pl.col("as_of_date").alias("session_date"), "client_id",
                                   pl.col("revenue").alias("s_revenue"),
                                   pl.col("total_assets").alias("s_assets")),
                  on=["session_date", "client_id"])
            .group_by("as_of_date", "period_type", "client_id")
            .agg(r=pl.col("s_revenue").sum(), assets_sum=pl.col("s_assets").sum()))
    return (on_d.join(pl.DataFrame({"period_type": VALUE_PERIODS}), how="cross")
            .join(sums, on=["as_of_date", "period_type", "client_id"], how="left")
            .with_columns(pl.col("r").fill_null(0.0), pl.col("assets_sum").fill_null(0.0))
            .join(n_sessions, on=["as_of_date", "period_type"], how="left"))


def value_by_tier(inp: Inputs) -> pl.DataFrame:
    """`mart.value_by_tier` (key: as_of_date, period_type, wealth_tier).

    "Each client on D is placed by its wealth_tier on D; a row exists for each tier with at
    least one client."
    - clients: "clients on D in the tier"
    - total_assets: "sum of their total_assets on D"
    - revenue: "sum of their client_daily.revenue over the period's sessions up to D"
    - revenue_share: "revenue / (revenue of all clients on D over the same sessions); null
      when that is 0"
    - revenue_per_client: "revenue / clients"
    - avg_assets: "sum over the period's sessions up to D of their total_assets, divided by the
      number of those sessions (a client without a row on a session counts 0)"
    - profitability: "revenue / avg_assets x 250 / sessions in the period to date; null when
      avg_assets = 0"
    """
    per_client = _period_client_sums(inp)
    all_revenue = per_client.group_by("as_of_date", "period_type").agg(all_revenue=pl.col("r").sum())
    return (per_client
            .group_by("as_of_date", "period_type", "wealth_tier")
            .agg(clients=pl.len(), total_assets=pl.col("total_assets").sum(), revenue=pl.col("r").sum(),
                 assets_sum=pl.col("assets_sum").sum(), sessions=pl.col("sessions").first())
            .join(all_revenue, on=["as_of_date", "period_type"])
            .with_columns(avg_assets=pl.col("assets_sum") / pl.col("sessions"))
            .select("as_of_date", "period_type", "wealth_tier", "clients", "total_assets", "revenue",
                    _ratio(pl.col("revenue"), pl.col("all_revenue")).alias("revenue_share"),
                    (pl.col("revenue") / pl.col("clients")).alias("revenue_per_client"),
                    "avg_assets",
                    _ratio(pl.col("revenue"), pl.col("avg_assets")).mul(YEAR_SESSIONS)
                    .truediv(pl.col("sessions")).alias("profitability"))
            .sort("as_of_date", "period_type", "wealth_tier"))


def value_concentration(inp: Inputs) -> pl.DataFrame:
    """`mart.value_concentration` (key: as_of_date, period_type).

    "Over clients on D, each with r = its revenue summed over the period's sessions up to D
    (0 when none). N = number of clients on D."
    - clients: N; revenue: "sum of r"
    - top1/5/20_share: "share of revenue from the ceil(p x N) clients with the largest r
      (p = 1 %, 5 %, 20 %; ties broken by client_id ascending); null when revenue = 0"
    - gini: see `gini`
    - top_tier: "the highest wealth_tier present on D (order mass < affluent < wealth < hnw < uhnw)"
    - worth_ratio: "mean r of clients in top_tier / mean r of `mass` clients; null when the
      mass mean is 0 or there is no mass client"
    """
    rows = []
    per_client = _period_client_sums(inp).sort("as_of_date", "period_type", "client_id")
    for (day, period_type), g in per_client.group_by("as_of_date", "period_type", maintain_order=True):
        r = g["r"].to_list()
        by_client = list(zip(g["client_id"].to_list(), r))
        tiers = g["wealth_tier"].to_list()
        top = max(tiers, key=TIERS.index)
        top_r = [x for x, t in zip(r, tiers) if t == top]
        mass_r = [x for x, t in zip(r, tiers) if t == "mass"]
        mass_mean = sum(mass_r) / len(mass_r) if mass_r else 0.0
        row = {"as_of_date": day, "period_type": period_type, "clients": len(r), "revenue": sum(r)}
        for name, percent in TOP_PERCENTS.items():
            row[name] = top_share(by_client, percent)
        row |= {"gini": gini(r), "top_tier": top,
                "worth_ratio": (sum(top_r) / len(top_r)) / mass_mean if mass_mean != 0 else None}
        rows.append(row)
    return pl.DataFrame(rows, schema={
        "as_of_date": pl.Date, "period_type": pl.String, "clients": pl.Int64, "revenue": pl.Float64,
        "top1_share": pl.Float64, "top5_share": pl.Float64, "top20_share": pl.Float64,
        "gini": pl.Float64, "top_tier": pl.String, "worth_ratio": pl.Float64,
    }).sort("as_of_date", "period_type")


# ---------------------------------------------------------------------------------------
# 3. Client profile
# ---------------------------------------------------------------------------------------

def _preferred_board(inp: Inputs) -> pl.DataFrame:
    """"the board with the largest market value in the client's positions on D (ties: first
    in the order sh_main, sz_main, chinext, star, bj); null without positions". Market value
    = quantity x close on D, or the latest earlier close, 0 when never quoted. `other` comes
    last in the tie order (the spec's list leaves it out)."""
    on_d = inp.windows.select("as_of_date", "client_id")
    positions = (inp.positions.filter(pl.col("quantity") > 0)
                 .join(on_d, on=["as_of_date", "client_id"], how="semi")
                 .sort("as_of_date"))
    quotes = inp.quotes.rename({"as_of_date": "quote_date"}).sort("quote_date")
    valued = (positions.join_asof(quotes, left_on="as_of_date", right_on="quote_date",
                                  by=["market", "security_code"], strategy="backward",
                                  check_sortedness=False)
              .with_columns(value=(pl.col("quantity") * pl.col("close")).fill_null(0.0),
                            board=pl.col("security_code").map_elements(board, return_dtype=pl.String)))
    order = pl.col("board").replace_strict(BOARD_ORDER, list(range(len(BOARD_ORDER))))
    return (valued.group_by("as_of_date", "client_id", "board").agg(value=pl.col("value").sum())
            .sort("as_of_date", "client_id", pl.col("value"), order, descending=[False, False, True, False])
            .group_by("as_of_date", "client_id", maintain_order=True)
            .agg(preferred_board=pl.col("board").first()))


def _window_trades(inp: Inputs) -> pl.DataFrame:
    """The client's trades in the window: the 20 sessions ending at D (session_idx D-19..D)."""
    on_d = inp.windows.select("as_of_date", "client_id", pl.col("session_idx").alias("d_idx"))
    trades = inp.trades.select("client_id", pl.col("session_idx").alias("t_idx"), "trade_time",
                               "amount", "channel")
    return (on_d.join(trades, on="client_id")
            .filter(pl.col("t_idx").is_between(pl.col("d_idx") - (WINDOW - 1), pl.col("d_idx"))))


def _main_channel(inp: Inputs) -> pl.DataFrame:
    """"the trades.channel with the largest trade amount in the window (ties: online, phone,
    counter); null without trades in the window". Trades without a channel are ignored."""
    trades = _window_trades(inp).filter(pl.col("channel").is_not_null()
                                        & (pl.col("channel").str.strip_chars() != ""))
    order = pl.col("channel").replace_strict(CHANNEL_ORDER, list(range(len(CHANNEL_ORDER))),
                                             default=len(CHANNEL_ORDER))
    return (trades.group_by("as_of_date", "client_id", "channel").agg(amount=pl.col("amount").sum())
            .sort("as_of_date", "client_id", "amount", order, "channel",
                  descending=[False, False, True, False, False])
            .group_by("as_of_date", "client_id", maintain_order=True)
            .agg(main_channel=pl.col("channel").first()))


def _avg_trade_hour(inp: Inputs) -> pl.DataFrame:
    """"mean hour (trade_time hour + minute / 60) of the client's trades in the window,
    weighted by amount; null without trades" (and null when their amounts sum to 0)."""
    hour = pl.col("trade_time").dt.hour().cast(pl.Float64) + pl.col("trade_time").dt.minute() / 60
    return (_window_trades(inp)
            .group_by("as_of_date", "client_id")
            .agg(weighted=(pl.col("amount") * hour).sum(), amount=pl.col("amount").sum())
            .select("as_of_date", "client_id",
                    _ratio(pl.col("weighted"), pl.col("amount")).alias("avg_trade_hour")))


def client_profile(inp: Inputs) -> pl.DataFrame:
    """`mart.client_profile` (key: as_of_date, client_id). "One row per client on D."

    - age: "whole years from birth_date to D; null when birth_date is missing"
    - age_band, tenure_band: see `age_band`, `tenure_band`
    - gender, open_channel, city, risk_level: "from the client's row in D's clients file
      (open_channel = clients.channel); `unknown` when empty"
    - preferred_board, main_channel, avg_trade_hour: see the helpers above.
    """
    clients = inp.clients.select("as_of_date", "client_id", "birth_date", "gender",
                                 pl.col("channel").alias("open_channel"), "city", "risk_level")
    base = (inp.windows.select("as_of_date", "client_id", "tenure_days")
            .join(clients, on=["as_of_date", "client_id"], how="left"))
    ages = [age_years(b, d) for b, d in zip(base["birth_date"], base["as_of_date"])]
    base = base.with_columns(
        age=pl.Series(ages, dtype=pl.Int64),
        age_band=pl.Series([age_band(a) for a in ages], dtype=pl.String),
        tenure_band=pl.Series([tenure_band(t) for t in base["tenure_days"]], dtype=pl.String),
        *[_empty_to(c, "unknown") for c in ["gender", "open_channel", "city", "risk_level"]],
    )
    keys = ["as_of_date", "client_id"]
    return (base
            .join(_preferred_board(inp), on=keys, how="left")
            .join(_main_channel(inp), on=keys, how="left")
            .join(_avg_trade_hour(inp), on=keys, how="left")
            .select(*keys, "age", "age_band", "tenure_band", "gender", "open_channel", "city",
                    "risk_level", "preferred_board", "main_channel", "avg_trade_hour")
            .sort(keys))


# ---------------------------------------------------------------------------------------
# 4. Attributes against behaviour
# ---------------------------------------------------------------------------------------

def _categories(profile: pl.DataFrame) -> pl.DataFrame:
    """(as_of_date, client_id, attribute, category): the client's value of each attribute on
    D, "null values as `none`"."""
    return (profile.select("as_of_date", "client_id", *ATTRIBUTES)
            .unpivot(index=["as_of_date", "client_id"], on=ATTRIBUTES,
                     variable_name="attribute", value_name="category")
            .with_columns(pl.col("category").fill_null("none")))


def _churned_60(inp: Inputs, profile: pl.DataFrame) -> pl.DataFrame:
    """"number of clients with a churn_event in the 60 sessions ending at D, each placed in the
    category of its latest client_profile row up to D (so clients who left are counted too)"."""
    events = inp.windows.filter(pl.col("churn_event").fill_null(False)).select(
        "client_id", pl.col("session_idx").alias("e_idx"))
    churned = (inp.loaded.rename({"session_idx": "d_idx"})
               .join(events, how="cross")
               .filter(pl.col("e_idx").is_between(pl.col("d_idx") - (CHURN_LOOKBACK - 1), pl.col("d_idx")))
               .select("as_of_date", "client_id").unique()
               .sort("as_of_date"))
    latest = (churned.join_asof(profile.rename({"as_of_date": "profile_date"}).sort("profile_date"),
                                left_on="as_of_date", right_on="profile_date", by="client_id",
                                strategy="backward", check_sortedness=False)
              .drop("profile_date"))
    return (_categories(latest)
            .group_by("as_of_date", "attribute", "category").agg(churned_60=pl.len()))


def attribute_profile(inp: Inputs, profile: pl.DataFrame | None = None) -> pl.DataFrame:
    """`mart.attribute_profile` (key: as_of_date, attribute, category).

    "category is the client's value of that attribute on D (null values as `none`). Over the
    clients on D in the category:" clients (count), total_assets (sum on D), revenue_w (sum),
    avg_activity / avg_turnover_annual ("means of activity and turnover_rate_annual (nulls
    ignored)"), dormant_share ("share with is_dormant"), churned_60 (see `_churned_60`),
    stable/aggressive/conservative/inactive_share ("shares by segment on D").

    Rows are the categories of the clients on D: a churned client whose category no client
    on D has is not given a row of its own.
    """
    profile = client_profile(inp) if profile is None else profile
    metrics = inp.windows.select("as_of_date", "client_id", "total_assets", "revenue_w", "activity",
                                 "turnover_rate_annual", "is_dormant", "segment")
    keys = ["as_of_date", "attribute", "category"]
    return (_categories(profile)
            .join(metrics, on=["as_of_date", "client_id"])
            .group_by(keys)
            .agg(clients=pl.len(),
                 total_assets=pl.col("total_assets").sum(),
                 revenue_w=pl.col("revenue_w").sum(),
                 avg_activity=pl.col("activity").mean(),
                 avg_turnover_annual=pl.col("turnover_rate_annual").mean(),
                 dormant=pl.col("is_dormant").fill_null(False).sum(),
                 **{f"{s}_n": (pl.col("segment") == s).fill_null(False).sum() for s in SEGMENTS})
            .join(_churned_60(inp, profile), on=keys, how="left")
            .select(*keys, "clients", "total_assets", "revenue_w", "avg_activity", "avg_turnover_annual",
                    (pl.col("dormant") / pl.col("clients")).alias("dormant_share"),
                    pl.col("churned_60").fill_null(0),
                    *[(pl.col(f"{s}_n") / pl.col("clients")).alias(f"{s}_share") for s in SEGMENTS])
            .sort(keys))


def attribute_association(inp: Inputs, profile: pl.DataFrame | None = None) -> pl.DataFrame:
    """`mart.attribute_association` (key: as_of_date, attribute).

    "Cramér's V between the attribute and `segment` over the clients on D whose segment is
    not `inactive`: V = sqrt(chi2 / (n x (min(r, c) - 1))), chi2 the Pearson statistic of the
    r x c contingency table of the categories present (rows) and segments present (columns);
    null when min(r, c) < 2."

    Columns: cramers_v, n (clients counted), categories (r), segments (c). One row per
    session and attribute, also when no client is counted (n = 0, V null).
    """
    profile = client_profile(inp) if profile is None else profile
    counted = (_categories(profile)
               .join(inp.windows.select("as_of_date", "client_id", "segment"), on=["as_of_date", "client_id"])
               .filter(pl.col("segment").is_not_null() & (pl.col("segment") != "inactive"))
               .group_by("as_of_date", "attribute", "category", "segment").agg(n=pl.len()))
    cells: dict[tuple, dict[tuple[str, str], int]] = {}
    for day, attribute, category, segment, n in counted.iter_rows():
        cells.setdefault((day, attribute), {})[(category, segment)] = n
    rows = []
    for day in inp.loaded["as_of_date"]:
        for attribute in ATTRIBUTES:
            table = cells.get((day, attribute), {})
            categories = sorted({k for k, _ in table})
            segments = sorted({s for _, s in table})
            matrix = [[table.get((k, s), 0) for s in segments] for k in categories]
            rows.append({"as_of_date": day, "attribute": attribute, "cramers_v": cramers_v(matrix),
                         "n": sum(table.values()), "categories": len(categories), "segments": len(segments)})
    return pl.DataFrame(rows, schema={
        "as_of_date": pl.Date, "attribute": pl.String, "cramers_v": pl.Float64, "n": pl.Int64,
        "categories": pl.Int64, "segments": pl.Int64,
    }).sort("as_of_date", "attribute")


# ---------------------------------------------------------------------------------------
# 5. Trading channels
# ---------------------------------------------------------------------------------------

def channel_period(inp: Inputs) -> pl.DataFrame:
    """`mart.channel_period` (key: period_type, period_start, channel).

    "Periods as `branch_period`. Over the period's trades: trade_count, trade_amount,
    commission, net_commission, clients (distinct clients trading through the channel),
    amount_share (trade_amount / all channels' trade_amount)."

    Periods: week (from Monday), month, quarter, half (1 Jan / 1 Jul), year, each over its
    loaded sessions up to the last loaded one (period_end). A trade without a channel counts
    as `unknown`; net_commission = commission - exchange_fee; amount_share is null when the
    period's trade_amount is 0.
    """
    trades = (inp.trades.join(inp.loaded.select("as_of_date"), on="as_of_date", how="semi")
              .with_columns(_empty_to("channel", "unknown")))
    frames = []
    for p in CHANNEL_PERIODS:
        start = period_start(pl.col("as_of_date"), p).alias("period_start")
        ends = (inp.loaded.group_by(start)
                .agg(period_end=pl.col("as_of_date").max()))
        frames.append(
            trades.with_columns(start)
            .group_by("period_start", "channel")
            .agg(trade_count=pl.len(), trade_amount=pl.col("amount").sum(),
                 commission=pl.col("commission").sum(),
                 net_commission=(pl.col("commission") - pl.col("exchange_fee")).sum(),
                 clients=pl.col("client_id").n_unique())
            .join(ends, on="period_start", how="left")
            .with_columns(period_type=pl.lit(p),
                          amount_share=_ratio(pl.col("trade_amount"),
                                              pl.col("trade_amount").sum().over("period_start"))))
    return (pl.concat(frames)
            .select("period_type", "period_start", "period_end", "channel", "trade_count", "trade_amount",
                    "commission", "net_commission", pl.col("clients").cast(pl.Int64), "amount_share")
            .sort("period_type", "period_start", "channel"))


# ---------------------------------------------------------------------------------------
# 6. Held together
# ---------------------------------------------------------------------------------------

def coholding(inp: Inputs) -> pl.DataFrame:
    """`mart.coholding` (key: as_of_date, security_a, security_b; the market beside each).

    "On D, N = clients with at least one position; n_x = clients holding security x (market
    and code together identify a security). For each security_a among the 20 most-held on D
    (by n, ties by market then code), every other security_b with n_ab >= 3 clients holding
    both: n_ab, lift = n_ab x N / (n_a x n_b). Keep the 5 rows of each security_a with the
    largest lift (ties: larger n_ab, then market, code)."

    N and n_x count raw.positions of D (quantity > 0). The lifts are ranked as exact
    fractions, so two equal lifts are a tie whatever their doubles round to.
    """
    held = (inp.positions.filter(pl.col("quantity") > 0)
            .join(inp.loaded.select("as_of_date"), on="as_of_date", how="semi")
            .select("as_of_date", "client_id", "market", "security_code").unique())
    n_clients = held.group_by("as_of_date").agg(N=pl.col("client_id").n_unique())
    n_x = held.group_by("as_of_date", "market", "security_code").agg(n=pl.len())
    top = (n_x.sort("as_of_date", "n", "market", "security_code", descending=[False, True, False, False])
           .group_by("as_of_date", maintain_order=True).head(COHOLD_TOP)
           .rename({"market": "market_a", "security_code": "security_a", "n": "n_a"}))
    a_side = held.rename({"market": "market_a", "security_code": "security_a"}).join(
        top, on=["as_of_date", "market_a", "security_a"], how="semi")
    b_side = held.rename({"market": "market_b", "security_code": "security_b"})
    pairs = (a_side.join(b_side, on=["as_of_date", "client_id"])
             .filter((pl.col("market_a") != pl.col("market_b")) | (pl.col("security_a") != pl.col("security_b")))
             .group_by("as_of_date", "market_a", "security_a", "market_b", "security_b").agg(n_ab=pl.len())
             .filter(pl.col("n_ab") >= COHOLD_MIN_PAIR)
             .join(top, on=["as_of_date", "market_a", "security_a"])
             .join(n_x.rename({"market": "market_b", "security_code": "security_b", "n": "n_b"}),
                   on=["as_of_date", "market_b", "security_b"])
             .join(n_clients, on="as_of_date"))
    rows = []
    groups: dict[tuple, list[dict]] = {}
    for row in pairs.iter_rows(named=True):
        groups.setdefault((row["as_of_date"], row["market_a"], row["security_a"]), []).append(row)
    for candidates in groups.values():
        candidates.sort(key=lambda x: (-Fraction(x["n_ab"] * x["N"], x["n_a"] * x["n_b"]), -x["n_ab"],
                                       x["market_b"], x["security_b"]))
        for x in candidates[:COHOLD_KEEP]:
            rows.append({k: x[k] for k in ["as_of_date", "market_a", "security_a", "market_b", "security_b",
                                           "n_a", "n_b", "n_ab"]}
                        | {"lift": x["n_ab"] * x["N"] / (x["n_a"] * x["n_b"])})
    return pl.DataFrame(rows, schema={
        "as_of_date": pl.Date, "market_a": pl.String, "security_a": pl.String, "market_b": pl.String,
        "security_b": pl.String, "n_a": pl.Int64, "n_b": pl.Int64, "n_ab": pl.Int64, "lift": pl.Float64,
    }).sort("as_of_date", "market_a", "security_a", "market_b", "security_b")


# ---------------------------------------------------------------------------------------
# 7. Client flow
# ---------------------------------------------------------------------------------------

def client_flow(inp: Inputs) -> pl.DataFrame:
    """`mart.client_flow` (key: month_start), one row per calendar month with loaded sessions.

    "Per calendar month with sessions up to D:"
    - opened: "clients whose open_date is in the month and who have a row in it" (the
      open_date of the client's raw.clients row on the day of that client_windows row)
    - closed: "close_date in the month": distinct clients whose raw.clients row on a session
      of the month has a close_date in the month
    - churned: "churn_event in the month" (distinct clients)
    - went_dormant: "clients whose is_dormant turns true in the month, from false or absent on
      their previous row" (the previous row: the client's latest earlier row, anywhere before)
    - woke_up: "is_dormant turns false in the month because the client traded": false on a row
      of the month, true on the previous row, and client_daily.trade_count > 0 on that row
    - clients_end: "clients on the month's last session" (last loaded session)
    - new_assets: "total_assets on the month's last session of the clients opened in the
      month" (0 when none of them is there)
    """
    month = pl.col("as_of_date").dt.month_start().alias("month_start")
    months = (inp.loaded.group_by(month).agg(month_end=pl.col("as_of_date").max()))

    def in_month(col: str) -> pl.Expr:
        return pl.col(col).is_not_null() & (pl.col(col).dt.month_start() == pl.col("month_start"))

    rows = (inp.windows.select("as_of_date", "client_id", "is_dormant", "churn_event")
            .join(inp.daily.select("as_of_date", "client_id", "trade_count"), on=["as_of_date", "client_id"],
                  how="left")
            .join(inp.clients.select("as_of_date", "client_id", "open_date"), on=["as_of_date", "client_id"],
                  how="left")
            .sort("client_id", "as_of_date")
            .with_columns(month,
                          dormant=pl.col("is_dormant").fill_null(False),
                          was_dormant=pl.col("is_dormant").fill_null(False).shift(1).over("client_id")
                          .fill_null(False)))
    opened = rows.filter(in_month("open_date")).select("month_start", "client_id").unique()
    per_month = rows.group_by("month_start").agg(
        opened=pl.col("client_id").filter(in_month("open_date")).n_unique(),
        churned=pl.col("client_id").filter(pl.col("churn_event").fill_null(False)).n_unique(),
        went_dormant=pl.col("client_id").filter(pl.col("dormant") & ~pl.col("was_dormant")).n_unique(),
        woke_up=pl.col("client_id").filter(~pl.col("dormant") & pl.col("was_dormant")
                                           & (pl.col("trade_count").fill_null(0) > 0)).n_unique(),
    )
    closed = (inp.clients.join(inp.loaded.select("as_of_date"), on="as_of_date", how="semi")
              .with_columns(month)
              .filter(in_month("close_date"))
              .group_by("month_start").agg(closed=pl.col("client_id").n_unique()))
    end = (months.join(inp.windows.select(pl.col("as_of_date").alias("month_end"), "client_id", "total_assets"),
                       on="month_end"))
    clients_end = end.group_by("month_start").agg(clients_end=pl.len())
    new_assets = (end.join(opened, on=["month_start", "client_id"], how="semi")
                  .group_by("month_start").agg(new_assets=pl.col("total_assets").sum()))
    counts = ["opened", "closed", "churned", "went_dormant", "woke_up", "clients_end"]
    return (months
            .join(per_month, on="month_start", how="left")
            .join(closed, on="month_start", how="left")
            .join(clients_end, on="month_start", how="left")
            .join(new_assets, on="month_start", how="left")
            .with_columns(*[pl.col(c).fill_null(0).cast(pl.Int64) for c in counts],
                          pl.col("new_assets").fill_null(0.0))
            .select("month_start", "month_end", *counts, "new_assets")
            .sort("month_start"))


# ---------------------------------------------------------------------------------------
# All of it
# ---------------------------------------------------------------------------------------

KEYS = {
    "value_by_tier": ["as_of_date", "period_type", "wealth_tier"],
    "value_concentration": ["as_of_date", "period_type"],
    "client_profile": ["as_of_date", "client_id"],
    "attribute_profile": ["as_of_date", "attribute", "category"],
    "attribute_association": ["as_of_date", "attribute"],
    "channel_period": ["period_type", "period_start", "channel"],
    "coholding": ["as_of_date", "market_a", "security_a", "market_b", "security_b"],
    "client_flow": ["month_start"],
}


def build_all(inp: Inputs) -> dict[str, pl.DataFrame]:
    """The eight tables, by their mart names."""
    profile = client_profile(inp)
    return {
        "value_by_tier": value_by_tier(inp),
        "value_concentration": value_concentration(inp),
        "client_profile": profile,
        "attribute_profile": attribute_profile(inp, profile),
        "attribute_association": attribute_association(inp, profile),
        "channel_period": channel_period(inp),
        "coholding": coholding(inp),
        "client_flow": client_flow(inp),
    }
