"""Synthetic daily extracts of one brokerage branch, moving with the real A-share market.

Demo and test data for the whole pipeline: `generate()` writes the extract folders of
shared/spec/extracts.md for consecutive XSHG sessions. Prices, the security list and
market turnover are real (data/reference/, see its README); the clients are invented.

Clients follow the SSE account-size distribution and one of five behaviours, so that
segmentation and churn models have something real to find:
  stable        moderate turnover, 4-8 positions, 15-40 % cash
  aggressive    trades most days, 1-3 concentrated short-lived positions, little cash
  conservative  rare trades, 50-90 % cash, positions held long
  dormant       no trades and no transfers at all, assets >= 10,000
  churner       trades like `stable`, slows down and withdraws, then sells everything
                over a few days and withdraws >= 80 % of its assets; a third of them
                close the account that day (listed once with close_date, then gone)
`Leavers` changes who leaves and how (shares, timing, a gradual fade, leavers of other
personas); its default is the churner above and leaves the output byte-identical.

Who a client is goes with how it behaves, as in a Chinese branch, strongly enough to be
found on a few thousand clients and never decisively (each client's persona is drawn
first, by account size; its attributes follow the persona, its habits its age):
  | attribute           | planted relation                                                      |
  | ------------------- | --------------------------------------------------------------------- |
  | age                 | mean 34 aggressive, 42 churner, 45 stable, 56 conservative and        |
  |                     | dormant (sd 11); 33 for accounts opened in the range (sd 8)           |
  | risk_level          | P(C1..C5 | persona) (BEHAVIOUR.risk): aggressive 82 % C4/C5, never    |
  |                     | C1; conservative 60 % C1/C2                                           |
  | clients.channel     | online by age (0.81 at 20, 0.45 at 40, 0.09 at 60), not before        |
  |                     | 2013; else branch / referral / bank by persona (BEHAVIOUR.opened_by): |
  |                     | churners rarely referred (10 % vs 25-35 %), conservative and dormant  |
  |                     | clients more often through a bank (45 % vs 25-35 %)                   |
  | cash                | bank-opened clients aim higher in their persona's cash range          |
  | trades.channel      | a usual channel per client by age (counter and phone rise from ~50:   |
  |                     | online 0.94 at 30, 0.68 at 60), kept on 70-98 % of its trades         |
  | board of a security | growth boards (ChiNext, STAR, BJ) weigh exp(tilt) against the main    |
  | bought or held      | boards: tilt +0.4 at 30 or younger .. -0.4 at 60 or older, +0.3       |
  |                     | aggressive, noise sd 0.3                                              |
  | trade_time          | aggressive clients trade earlier in the session                       |
The persona of each client (and the day it churned), its usual trade channel and loyalty to
it, its board tilt and preferred boards go to `_truth/personas.parquet`, a folder the ingest
skips, so tests and model evaluation can compare with the truth.

Cash earns interest (结息): each quarter's interest is credited on the first session on or
after the 21st of March, June, September and December, as `other_flow_amount` of the cash file.

The whole branch is simulated as numpy arrays, one day at a time (never a Python loop
over clients): money is held in integer cents so cash and cost reconcile exactly.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from core.sessions import trading_calendar

from . import people

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"
BRANCH_ID, BRANCH_NAME = "0731", "长沙五一大道营业部"
ENCODINGS = ("utf-8", "gbk", "gb18030")  # gbk: what Chinese counter systems export
# A quarter's interest on cash: the demand-deposit benchmark rate 0.35 % a year (活期基准利率)
# for 91 of 360 days, on the previous session's balance, floored to the cent.
QUARTER_INTEREST = 0.0035 * 91 / 360
INTEREST_MONTHS = (3, 6, 9, 12)

# Fees (indicators.md section 6): rates of the amount; commission has a 5 CNY minimum.
STAMP_TAX, TRANSFER_FEE, EXCHANGE_FEE = 0.0005, 0.00001, 0.0000341 + 0.00002
MIN_COMMISSION = 500  # cents
COMMISSION_RATES = np.array([0.00015, 0.0002, 0.00025, 0.0003])  # 万1.5 .. 万3
SH_SHARE = 0.45  # market.csv splits the whole-market turnover SH 45 % / SZ 55 %

# SSE investor account sizes (CNY): <100k, 100-500k, 0.5-3M, 3-10M, >10M.
SIZE_EDGES = np.array([500, 100_000, 500_000, 3_000_000, 10_000_000, 50_000_000])
SIZE_SHARES = np.array([0.587, 0.286, 0.109, 0.014, 0.004])

PERSONAS = ("stable", "aggressive", "conservative", "dormant", "churner")
STABLE, AGGRESSIVE, CONSERVATIVE, DORMANT, CHURNER = range(5)
PERSONA_SHARES = np.array([0.35, 0.15, 0.30, 0.12, 0.08])
NEW_ACCOUNT_SHARE = 0.03
NEW_ACCOUNT_AGE = 33.0  # sd 8
BANK_CASH = 2.0  # bank-opened clients: cash target at 1 - (1 - u) ** BANK_CASH of the persona's range
# Boards by security code (client-analysis.md section 3); the growth boards are the ones
# young and aggressive clients lean to.
BOARDS = ("sh_main", "sz_main", "chinext", "star", "bj")
GROWTH = np.array([False, False, True, True, True])
SLOTS = 8  # most positions a client can hold
# A day's trades as parallel arrays: client row, security index, side (1 = sell), money in cents.
TRADE_KEYS = (
    "row", "sec", "side", "qty", "price", "amount",
    "commission", "exchange_fee", "stamp_tax", "transfer_fee", "time",
)


@dataclass(frozen=True)
class _Behaviour:
    """Per-persona parameters, each indexed by persona id."""

    p_trade: tuple = (0.15, 0.65, 0.04, 0.0, 0.15)  # chance to trade on a day
    p_round2: tuple = (0.0, 0.45, 0.0, 0.0, 0.0)  # ... and to trade again that day
    pos_min: tuple = (4, 1, 1, 1, 2)
    pos_max: tuple = (8, 3, 6, 5, 6)
    cash_lo: tuple = (0.15, 0.02, 0.50, 0.05, 0.10)  # target cash ratio range
    cash_hi: tuple = (0.40, 0.12, 0.90, 0.60, 0.40)
    p_sell: tuple = (0.55, 0.85, 0.5, 0.0, 0.55)  # on a trading day
    p_sell_all: tuple = (0.4, 0.9, 0.5, 0.0, 0.4)  # whole position, else part of it
    p_buy: tuple = (0.75, 0.95, 0.6, 0.0, 0.75)
    buy_lo: tuple = (0.4, 0.85, 0.4, 0.0, 0.4)  # share of free cash put into a buy
    p_deposit: tuple = (0.010, 0.015, 0.006, 0.0, 0.010)
    p_withdraw: tuple = (0.008, 0.012, 0.004, 0.0, 0.008)
    age_mean: tuple = (45, 34, 56, 56, 42)  # sd 11; new accounts NEW_ACCOUNT_AGE
    cost_mu: tuple = (0.03, 0.0, 0.06, 0.10, 0.05)  # log(cost / price) of initial holdings
    cost_sd: tuple = (0.15, 0.04, 0.25, 0.30, 0.20)
    risk: tuple = (  # P(C1..C5)
        (0.02, 0.15, 0.43, 0.33, 0.07),
        (0.0, 0.03, 0.15, 0.42, 0.40),
        (0.18, 0.42, 0.30, 0.09, 0.01),
        (0.10, 0.30, 0.40, 0.18, 0.02),
        (0.02, 0.18, 0.40, 0.30, 0.10),
    )
    opened_by: tuple = (  # P(branch, referral, bank) of those not opened online
        (0.35, 0.35, 0.30),
        (0.40, 0.35, 0.25),
        (0.25, 0.30, 0.45),
        (0.30, 0.25, 0.45),
        (0.55, 0.10, 0.35),
    )
    growth_tilt: tuple = (0.0, 0.3, 0.0, 0.0, 0.0)  # added to the age's tilt to the growth boards
    early: tuple = (1.0, 1.6, 1.0, 1.0, 1.0)  # trade times: fraction of the session ** early


BEHAVIOUR = _Behaviour()


@dataclass(frozen=True)
class Leavers:
    """Who leaves and how (the defaults are the churner persona of the module docstring).

    Another configuration checks that a churn score does not just learn one way of leaving
    (bench/churn_eval.py): other shares and timing, and leavers drawn from other personas,
    who keep their persona's habits until they fade out.
    """

    churner_share: float = 0.08  # share of the churner persona (the others scale to fill)
    also_leave: tuple = (0.0, 0.0, 0.0)  # share of stable, aggressive, conservative clients who leave too
    first: float = 0.1  # sell-offs start between this share of the range and 5 sessions before its end
    fade: tuple = (5, 21)  # sessions of slow-down before the sell-off: integers in [lo, hi)
    fade_trade: float = 0.3  # trading chance while fading, times the persona's
    gradual: bool = False  # the trading chance falls linearly to fade_trade over the fade (else at once)
    fade_withdraw: float = 0.15  # chance of a withdrawal on a fading day
    fade_withdraw_share: tuple = (0.2, 0.4)  # share of cash withdrawn then: lo + width x U(0, 1)
    sell_days: tuple = (1, 5)  # sessions of the sell-off: integers in [lo, hi)
    close_share: float = 1 / 3  # leavers who close the account on their churn day


LEAVERS = Leavers()


def _arr(name: str) -> np.ndarray:
    return np.asarray(getattr(BEHAVIOUR, name))


@dataclass(frozen=True)
class Reference:
    """Real market data as dense (day, security) matrices of prices in cents."""

    dates: list[dt.date]
    market: pl.Series
    code: pl.Series
    name: pl.Series
    low: np.ndarray
    high: np.ndarray
    close: np.ndarray  # forward-filled over suspensions; 0 before listing
    prev_close: np.ndarray  # close of the previous bar (the open on the very first day)
    tradable: np.ndarray  # a bar exists that day
    turnover: np.ndarray  # CNY, whole market
    board: np.ndarray  # index into BOARDS, per security


@functools.lru_cache(maxsize=2)
def load_reference(ref_dir: Path = REFERENCE_DIR) -> Reference:
    """Read data/reference into matrices (cached: every generate() call reuses it)."""
    sec = pl.read_parquet(ref_dir / "securities.parquet").sort("market", "code")
    bars = pl.read_parquet(ref_dir / "bars.parquet")
    turnover = pl.read_parquet(ref_dir / "market_turnover.parquet").sort("date")
    dates = turnover["date"].to_list()
    keyed = bars.join(sec.with_row_index("s").select("market", "code", "s"), on=["market", "code"]).join(
        turnover.with_row_index("t").select("date", "t"), on="date"
    )
    t, s = keyed["t"].to_numpy(), keyed["s"].to_numpy()
    shape = (len(dates), sec.height)

    def matrix(col: str) -> np.ndarray:
        m = np.zeros(shape, dtype=np.int64)
        m[t, s] = np.rint(keyed[col].to_numpy() * 100).astype(np.int64)
        return m

    tradable = np.zeros(shape, dtype=bool)
    tradable[t, s] = True
    close = matrix("close")
    last = np.where(tradable, np.arange(shape[0])[:, None], 0)
    np.maximum.accumulate(last, axis=0, out=last)
    close_ff = close[last, np.arange(shape[1])]
    prev = np.vstack([np.zeros((1, shape[1]), dtype=np.int64), close_ff[:-1]])
    prev = np.where(prev > 0, prev, matrix("open"))
    return Reference(
        dates=dates,
        market=sec["market"],
        code=sec["code"],
        name=sec["security_name"],
        low=matrix("low"),
        high=matrix("high"),
        close=close_ff,
        prev_close=prev,
        tradable=tradable & (prev > 0),
        turnover=turnover["turnover_cny"].to_numpy(),
        board=board_of(sec["code"].to_numpy()),
    )


def board_of(codes: np.ndarray) -> np.ndarray:
    """Index into BOARDS of 6-digit codes: star 688/689, sh_main other 6, chinext 300/301,
    sz_main other 0, bj 4 / 8 / 920 (-1: none of them)."""
    codes = np.asarray(codes, dtype="U6")
    three = codes.astype("U3")
    first = codes.astype("U1")
    board = np.full(len(codes), -1)
    board[first == "6"] = BOARDS.index("sh_main")
    board[np.isin(three, ["688", "689"])] = BOARDS.index("star")
    board[first == "0"] = BOARDS.index("sz_main")
    board[np.isin(three, ["300", "301"])] = BOARDS.index("chinext")
    board[np.isin(first, ["4", "8"]) | (three == "920")] = BOARDS.index("bj")
    return board


def _half_up(x: np.ndarray) -> np.ndarray:
    """Round cents half up, as fee schedules do (numpy's rint rounds half to even)."""
    return np.floor(x + 0.5 + 1e-9).astype(np.int64)


def fees(amount: np.ndarray, rate: np.ndarray, sell: bool) -> tuple[np.ndarray, ...]:
    """(commission, exchange_fee, stamp_tax, transfer_fee) in cents for amounts in cents."""
    commission = np.maximum(MIN_COMMISSION, _half_up(amount * rate))
    stamp = _half_up(amount * STAMP_TAX) if sell else np.zeros_like(amount)
    return commission, _half_up(amount * EXCHANGE_FEE), stamp, _half_up(amount * TRANSFER_FEE)


def _stratified(rng: np.random.Generator, n: int, shares: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 in exactly the given shares (largest remainder), shuffled."""
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: n - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def persona_shares(leavers: Leavers) -> np.ndarray:
    """PERSONA_SHARES with the churner share of `leavers`, the other personas scaled to fill."""
    if leavers.churner_share == PERSONA_SHARES[CHURNER]:
        return PERSONA_SHARES
    rest = PERSONA_SHARES[:CHURNER] * (1 - leavers.churner_share) / PERSONA_SHARES[:CHURNER].sum()
    return np.append(rest, leavers.churner_share)


def _assign_personas(rng: np.random.Generator, assets: np.ndarray, shares: np.ndarray = PERSONA_SHARES) -> np.ndarray:
    """Personas in `shares`; dormant only with >= 20,000 CNY, churners >= 5,000."""
    n = len(assets)
    counts = np.bincount(_stratified(rng, n, shares), minlength=5)
    persona = np.full(n, -1)
    for p, floor in ((DORMANT, 2_000_000), (CHURNER, 500_000)):
        pool = rng.permutation(np.flatnonzero((persona < 0) & (assets >= floor)))
        persona[pool[: counts[p]]] = p
    rest = np.flatnonzero(persona < 0)
    persona[rest] = _stratified(rng, len(rest), counts[:3].astype(float))
    return persona


class _Branch:
    """The branch's books for all clients as arrays; one `step()` per session."""

    def __init__(self, rng: np.random.Generator, ref: Reference, tix: list[int], n: int,
                 leavers: Leavers = LEAVERS):
        self.rng, self.ref, self.tix, self.n, self.leavers = rng, ref, tix, n, leavers
        n_days = len(tix)
        bucket = _stratified(rng, n, SIZE_SHARES)
        lo, hi = np.log(SIZE_EDGES[bucket]), np.log(SIZE_EDGES[bucket + 1])
        self.init_assets = np.rint(np.exp(lo + rng.random(n) * (hi - lo)) * 100).astype(np.int64)
        self.persona = p = _assign_personas(rng, self.init_assets, persona_shares(leavers))
        big = self.init_assets >= 50_000_000
        rate_probs = np.where(big[:, None], [0.5, 0.3, 0.15, 0.05], [0.1, 0.25, 0.3, 0.35])
        self.rate = COMMISSION_RATES[people.pick_rows(rng, rate_probs)]

        # ~3 % of (non-dormant, non-churning) clients open their account inside the range.
        self.open_idx = np.full(n, -1)
        pool = np.flatnonzero(p <= CONSERVATIVE)
        new = rng.choice(pool, size=min(len(pool), round(n * NEW_ACCOUNT_SHARE)), replace=False)
        self.open_idx[new] = rng.integers(0, n_days, size=len(new))
        self.close_idx = np.full(n, np.iinfo(np.int64).max)

        # Who the client is goes with how it behaves (the module docstring's table).
        new = self.open_idx >= 0
        self.age = people.ages(rng, np.where(new, NEW_ACCOUNT_AGE, _arr("age_mean")[p]), np.where(new, 8, 11))
        self.risk = people.pick_rows(rng, np.asarray(BEHAVIOUR.risk)[p])  # 0..4: C1..C5
        self.opened_by = people.open_channels(rng, self.age, new, np.asarray(BEHAVIOUR.opened_by)[p])
        u = rng.random(n)
        u = np.where(self.opened_by == "bank", 1 - (1 - u) ** BANK_CASH, u)
        self.cash_target = _arr("cash_lo")[p] + u * (_arr("cash_hi")[p] - _arr("cash_lo")[p])
        self.channel, self.loyalty = people.trade_channels(rng, self.age)
        self.tilt = people.growth_tilt(rng, self.age) + _arr("growth_tilt")[p]
        self.board_weight = np.where(GROWTH, np.exp(self.tilt)[:, None], 1.0)  # (n, boards)

        # Churn schedule: slow-down from pre_start, sell-off from sell_start for sell_days.
        never = n_days + 10**6
        churner = p == CHURNER
        if any(leavers.also_leave):  # drawn only then: the default branch stays byte-identical
            churner |= rng.random(n) < np.append(leavers.also_leave, [0.0, 0.0])[p]  # not dormant ones
        self.sell_start = np.full(n, never)
        if n_days >= 8:
            first = max(1, int(n_days * leavers.first + 1e-9))
            self.sell_start[churner] = rng.integers(first, n_days - 5, size=churner.sum())
        self.pre_start = self.sell_start - rng.integers(*leavers.fade, size=n)
        self.sell_days = rng.integers(*leavers.sell_days, size=n)
        self.closes = churner & (rng.random(n) < leavers.close_share)
        self.churn_state = np.zeros(n, dtype=np.int8)  # 0 normal, 1 selling out, 2 gone
        self.churn_day = np.full(n, -1)

        self.pos_sec = np.full((n, SLOTS), -1, dtype=np.int64)
        self.pos_qty = np.zeros((n, SLOTS), dtype=np.int64)
        self.pos_cost = np.zeros((n, SLOTS), dtype=np.int64)
        self.cash = np.zeros(n, dtype=np.int64)
        self._initial_holdings(tix[0])

    def _affordable(self, t: int, budget: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """A security whose 100-share lot fits the budget (cents), -1 if none: a board drawn
        with the client's board `weight` (broadcast to budget.shape + (boards,)) times its
        number of affordable securities, then one of those uniformly. With equal weights
        every affordable security is equally likely."""
        cand = np.flatnonzero(self.ref.tradable[t] & (self.ref.board >= 0))
        if len(cand) == 0:
            return np.full(budget.shape, -1)
        lot = self.ref.prev_close[t, cand] * 100 * 1.001 + MIN_COMMISSION
        board = self.ref.board[cand]
        order = np.lexsort((lot, board))  # by board, then by the cost of a lot
        cand, lot, board = cand[order], lot[order], board[order]
        first = np.searchsorted(board, np.arange(len(BOARDS)))
        last = np.searchsorted(board, np.arange(len(BOARDS)), side="right")
        n_aff = np.stack([np.searchsorted(lot[a:b], budget, side="right") for a, b in zip(first, last)], axis=-1)
        mass = n_aff * weight
        cum = np.cumsum(mass, axis=-1)
        total = cum[..., -1]
        # the first board whose cumulative mass passes u x total (its mass is > 0; the last
        # board with mass if rounding lets u x total reach the total)
        top = len(BOARDS) - 1 - np.argmax(mass[..., ::-1] > 0, axis=-1)
        pick_board = np.minimum((self.rng.random(budget.shape)[..., None] * total[..., None] >= cum).sum(axis=-1), top)
        k = np.take_along_axis(n_aff, pick_board[..., None], axis=-1)[..., 0]
        pick = first[pick_board] + np.minimum((self.rng.random(budget.shape) * k).astype(np.int64), k - 1)
        return np.where(total > 0, cand[pick.clip(0, len(cand) - 1)], -1)

    def _initial_holdings(self, t: int) -> None:
        """Existing clients start with persona-shaped portfolios bought at various costs."""
        rng, p, n = self.rng, self.persona, self.n
        old = self.open_idx < 0
        k = rng.integers(_arr("pos_min")[p], _arr("pos_max")[p] + 1)
        w = rng.gamma(2.0, size=(n, SLOTS)) * (np.arange(SLOTS) < k[:, None])
        invest = self.init_assets * (1 - self.cash_target) * old
        budget = invest[:, None] * w / w.sum(axis=1, keepdims=True)
        sec = self._affordable(t, budget, self.board_weight[:, None, :])
        price = self.ref.prev_close[t][sec]
        shares = np.floor(budget / np.maximum(price, 1)).astype(np.int64)
        odd = rng.random((n, SLOTS)) < 0.05  # bonus shares leave some odd lots
        qty = np.where(odd, shares, shares // 100 * 100) * (sec >= 0)
        # A security drawn twice for one client: keep the first draw only.
        order = np.argsort(sec, axis=1, kind="stable")
        s_sorted = np.take_along_axis(sec, order, axis=1)
        dup = np.zeros_like(sec, dtype=bool)
        np.put_along_axis(dup, order[:, 1:], (s_sorted[:, 1:] == s_sorted[:, :-1]), axis=1)
        qty[dup] = 0
        held = qty > 0
        self.pos_sec = np.where(held, sec, -1)
        self.pos_qty = qty * held
        drift = np.exp(rng.normal(_arr("cost_mu")[p, None], _arr("cost_sd")[p, None], size=(n, SLOTS)))
        self.pos_cost = np.rint(self.pos_qty * price * drift).astype(np.int64)
        self.cash = (self.init_assets - (self.pos_qty * price).sum(axis=1)) * old

    # ---- one session -------------------------------------------------------------
    def step(self, d: int, interest: bool = False) -> dict[str, np.ndarray]:
        """Simulate session d (`interest`: the quarter's interest day); return its trades as
        arrays (cents, seconds after 09:30)."""
        rng, n, p, t = self.rng, self.n, self.persona, self.tix[d]
        self.bought = np.zeros((n, SLOTS), dtype=bool)
        self.trades: list[dict[str, np.ndarray]] = []
        present = (self.open_idx <= d) & (self.close_idx >= d)
        # credited before the day's business, on the previous session's balance
        self.other = np.where(present, np.floor(self.cash * QUARTER_INTEREST), 0).astype(np.int64) if interest \
            else np.zeros(n, dtype=np.int64)
        self.cash += self.other
        opening = self.open_idx == d
        self.deposit = np.where(opening, self.init_assets, 0)
        self.withdraw = np.zeros(n, dtype=np.int64)
        self.cash += self.deposit
        # Empty slots hold -1, which indexes the last security: harmless, their quantity is 0.
        self.assets = self.cash + (self.pos_qty * self.ref.prev_close[t][self.pos_sec]).sum(axis=1)

        self.churn_state[(self.churn_state == 0) & (d >= self.sell_start)] = 1
        normal = present & (self.churn_state == 0) & ~opening
        slowing = normal & (d >= self.pre_start)
        self._transfers(normal, slowing)
        self._churn(d, t, present)

        fade = self.leavers.fade_trade
        if self.leavers.gradual:  # from 1 on pre_start down to fade_trade on the sell-off
            span = np.maximum(self.sell_start - self.pre_start, 1)
            fade = 1.0 - (1.0 - fade) * np.clip((d - self.pre_start) / span, 0.0, 1.0)
        p_trade = np.where(slowing, fade, 1.0) * _arr("p_trade")[p]
        p_trade = np.where(opening, np.maximum(p_trade, 0.8), p_trade)
        active = (normal | opening) & (rng.random(n) < p_trade)
        self._round(t, active)
        self._round(t, active & (rng.random(n) < _arr("p_round2")[p]))
        return {k: np.concatenate([tr[k] for tr in self.trades] or [np.zeros(0, np.int64)]) for k in TRADE_KEYS}

    def _transfers(self, normal: np.ndarray, slowing: np.ndarray) -> None:
        """Occasional bank transfers in round hundreds; clients about to churn drain cash."""
        rng, n, p = self.rng, self.n, self.persona
        dep = normal & ~slowing & (rng.random(n) < _arr("p_deposit")[p])
        amount = np.maximum(np.rint(self.assets * (0.05 + 0.25 * rng.random(n)) / 10_000), 10) * 10_000
        self.deposit = np.where(dep, amount, self.deposit).astype(np.int64)
        p_wd = np.where(slowing, self.leavers.fade_withdraw, _arr("p_withdraw")[p])
        wd = normal & ~dep & (rng.random(n) < p_wd)
        lo, width = self.leavers.fade_withdraw_share
        share = np.where(slowing, lo + width * rng.random(n), 0.1 + 0.5 * rng.random(n))
        self.withdraw = np.where(wd, np.floor(self.cash * share / 10_000) * 10_000, 0).astype(np.int64)
        self.cash += np.where(dep, self.deposit, 0) - self.withdraw

    def _churn(self, d: int, t: int, present: np.ndarray) -> None:
        """Sell out over a few days, withdrawing cash; the day after the last sale, leave."""
        rng, n = self.rng, self.n
        selling = present & (self.churn_state == 1)
        done = selling & (self.pos_qty.sum(axis=1) == 0) & (d > self.sell_start)
        keep = np.where(self.closes, 0, np.floor(self.cash * (0.02 + 0.08 * rng.random(n))))
        part = np.floor(self.cash * (0.5 + 0.45 * rng.random(n)))
        out = np.where(done, self.cash - keep, np.where(selling, part, 0)).astype(np.int64)
        self.withdraw += out
        self.cash -= out
        self.churn_state[done] = 2
        self.churn_day[done] = d
        self.close_idx[done & self.closes] = d
        left = np.maximum(self.sell_start + self.sell_days - d, 1)
        sell = (selling & ~done)[:, None] & (self.pos_qty > 0) & self.ref.tradable[t][self.pos_sec]
        sell &= rng.random((n, SLOTS)) < 1.0 / left[:, None]
        rows, slots = np.nonzero(sell)
        self._sell(t, rows, slots, self.pos_qty[rows, slots], rng.integers(0, 14_400, size=len(rows)))

    def _round(self, t: int, active: np.ndarray) -> None:
        """One decision per active client: maybe sell one holding, then maybe buy."""
        rng, p = self.rng, self.persona
        early = rng.random((self.n, 2)) ** _arr("early")[p, None]  # aggressive clients trade earlier
        times = np.sort((early * 14_400).astype(np.int64), axis=1)
        ok = (self.pos_qty > 0) & self.ref.tradable[t][self.pos_sec] & ~self.bought
        rows = np.flatnonzero(active & ok.any(axis=1) & (rng.random(self.n) < _arr("p_sell")[p]))
        keys = np.where(ok[rows], rng.random((len(rows), SLOTS)), -1.0)
        slots = keys.argmax(axis=1)
        held = self.pos_qty[rows, slots]
        part = np.floor(held * (0.3 + 0.4 * rng.random(len(rows))) / 100).astype(np.int64) * 100
        whole = (rng.random(len(rows)) < _arr("p_sell_all")[p[rows]]) | (part <= 0) | (part >= held)
        self._sell(t, rows, slots, np.where(whole, held, part), times[rows, 0])

        n_pos = (self.pos_qty > 0).sum(axis=1)
        target = np.where(n_pos == 0, self.cash, self.assets) * self.cash_target
        share = _arr("buy_lo")[p] + (1 - _arr("buy_lo")[p]) * rng.random(self.n)
        budget = np.maximum(self.cash - target, 0) * share
        want = active & ((rng.random(self.n) < _arr("p_buy")[p]) | (n_pos == 0)) & (budget > 0)
        rows = np.flatnonzero(want)
        sec = self._affordable(t, budget[rows], self.board_weight[rows])
        # At the persona's maximum: add to a holding instead of opening another one.
        full = n_pos[rows] >= _arr("pos_max")[p[rows]]
        hold_keys = np.where(self.pos_qty[rows] > 0, rng.random((len(rows), SLOTS)), -1.0)
        top_up = self.pos_sec[rows, hold_keys.argmax(axis=1)]
        sec = np.where(full, top_up, sec)
        ok = (sec >= 0) & self.ref.tradable[t][sec]
        rows = rows[ok]
        self._buy(t, rows, sec[ok], budget[rows], times[rows, 1])

    def _price(self, t: int, sec: np.ndarray) -> np.ndarray:
        """A price on the cent grid between the day's real low and high."""
        lo, hi = self.ref.low[t, sec], self.ref.high[t, sec]
        return lo + np.minimum((self.rng.random(len(sec)) * (hi - lo + 1)).astype(np.int64), hi - lo)

    def _record(self, rows, sec, side, qty, price, amount, fee, times) -> None:
        values = (rows, sec, np.full(len(rows), side), qty, price, amount, *fee, times)
        self.trades.append(dict(zip(TRADE_KEYS, values)))

    def _sell(self, t: int, rows, slots, qty, times) -> None:
        sec = self.pos_sec[rows, slots]
        price = self._price(t, sec)
        amount = qty * price
        fee = fees(amount, self.rate[rows], sell=True)
        np.add.at(self.cash, rows, amount - fee[0] - fee[2] - fee[3])
        held, cost = self.pos_qty[rows, slots], self.pos_cost[rows, slots]
        left = held - qty
        self.pos_qty[rows, slots] = left
        self.pos_cost[rows, slots] = np.where(left > 0, cost - _half_up(cost * qty / held), 0)
        self.pos_sec[rows, slots] = np.where(left > 0, sec, -1)
        self._record(rows, sec, 1, qty, price, amount, fee, times)

    def _buy(self, t: int, rows, sec, budget, times) -> None:
        """Whole lots only, never more than the cash on hand (fees included)."""
        price = self._price(t, sec)
        rate = self.rate[rows]
        qty = np.floor(budget / (price * (1 + rate + TRANSFER_FEE)) / 100).astype(np.int64) * 100
        for _ in range(3):  # the 5 CNY minimum commission can push a lot over the cash
            fee = fees(qty * price, rate, sell=False)
            over = qty * price + fee[0] + fee[3] > self.cash[rows]
            qty = np.where(over, qty - 100, qty)
        fee = fees(qty * price, rate, sell=False)
        slots_sec = self.pos_sec[rows]
        same = slots_sec == sec[:, None]
        empty = slots_sec < 0
        slot = np.where(same.any(axis=1), same.argmax(axis=1), empty.argmax(axis=1))
        ok = (qty > 0) & (qty * price + fee[0] + fee[3] <= self.cash[rows]) & (same | empty).any(axis=1)
        rows, sec, qty, price, slot, times = rows[ok], sec[ok], qty[ok], price[ok], slot[ok], times[ok]
        amount = qty * price
        fee = tuple(f[ok] for f in fee)
        self.cash[rows] -= amount + fee[0] + fee[3]
        self.pos_sec[rows, slot] = sec
        self.pos_qty[rows, slot] += qty
        self.pos_cost[rows, slot] += amount + fee[0] + fee[3]
        self.bought[rows, slot] = True
        self._record(rows, sec, 0, qty, price, amount, fee, times)


# ---- the extract files ----------------------------------------------------------------
def _sessions(start: dt.date, sessions: int, ref: Reference) -> tuple[list[dt.date], list[int]]:
    """`sessions` XSHG sessions from the first one >= start, all inside the reference bars."""
    if sessions < 1:
        raise ValueError(f"sessions must be >= 1, got {sessions}")
    first, last = ref.dates[0], ref.dates[-1]
    days = trading_calendar().between(start, last)[:sessions]
    if days and days[0] < first:
        raise ValueError(f"start {start} is before the reference bars (they cover {first} .. {last})")
    if len(days) < sessions:
        raise ValueError(
            f"{sessions} sessions from {start} go beyond the reference bars, which end {last} "
            f"(only {len(days)} sessions left)"
        )
    pos = {d: i for i, d in enumerate(ref.dates)}
    missing = [d for d in days if d not in pos]
    if missing:
        raise ValueError(f"no reference bars for session(s) {missing[:3]}")
    return days, [pos[d] for d in days]


def interest_days(days: list[dt.date]) -> set[dt.date]:
    """The first session of `days` on or after the 21st of each interest month."""
    firsts: dict[tuple[int, int], dt.date] = {}
    for day in days:
        if day.month in INTEREST_MONTHS and day.day >= 21:
            firsts.setdefault((day.year, day.month), day)
    return set(firsts.values())


def staff(clients: int) -> int:
    """Brokers of a branch: real branches have tens to a few hundred brokers and advisers with
    hundreds to thousands of clients each; here about 700 each, 6 to 300 brokers."""
    return min(300, max(6, round(clients / 700)))


def _roster(rng: np.random.Generator, branch: _Branch, days: list[dt.date]) -> tuple[pl.DataFrame, ...]:
    """Static client master (close_date filled per day) and the broker roster."""
    new = branch.open_idx >= 0
    opened = np.where(new, np.array(days, dtype="datetime64[D]")[branch.open_idx.clip(0)], np.datetime64("NaT"))
    staffing = np.random.default_rng(rng.integers(2**63))  # one draw, whatever the staff
    roster = people.brokers(staffing, staff(branch.n), BRANCH_ID, BRANCH_NAME, days[0])
    risk_level = np.char.add("C", (branch.risk + 1).astype("U1"))
    clients = people.client_master(
        rng, BRANCH_ID, days[0], branch.age, branch.persona == AGGRESSIVE, opened, risk_level, branch.opened_by, roster,
        staffing,
    )
    return clients, roster


def _money(cents: np.ndarray) -> pl.Series:
    return pl.Series(cents, dtype=pl.Int64) / 100


def _trades(branch: _Branch, tr: dict[str, np.ndarray], day: dt.date, clients: pl.DataFrame) -> pl.DataFrame:
    ref, k = branch.ref, len(tr["row"])
    order = np.lexsort((tr["time"], tr["row"]))
    tr = {key: v[order] for key, v in tr.items()}
    # `time` counts trading seconds: 0..7199 from 09:30, 7200..14399 from 13:00.
    secs = tr["time"] + np.where(tr["time"] < 7_200, 34_200, 46_800 - 7_200)
    # the client's usual channel, or (1 - loyalty of the time) one drawn from the branch's mix
    usual = branch.rng.random(k) < branch.loyalty[tr["row"]]
    other = people.pick_rows(branch.rng, np.tile(people.CHANNEL_MIX, (k, 1)))
    channel = np.array(people.TRADE_CHANNELS)[np.where(usual, branch.channel[tr["row"]], other)]
    seq = np.char.zfill(np.arange(1, k + 1).astype("U7"), 7)
    return pl.DataFrame(
        {
            "trade_id": pl.Series(np.char.add(f"T{day:%Y%m%d}", seq), dtype=pl.String),
            "client_id": clients["client_id"].gather(tr["row"]),
            "trade_date": pl.Series([day] * k, dtype=pl.Date),
            "trade_time": pl.Series(secs * 1_000_000_000, dtype=pl.Int64).cast(pl.Time),
            "market": ref.market.gather(tr["sec"]),
            "security_code": ref.code.gather(tr["sec"]),
            "side": pl.Series(np.where(tr["side"] == 1, "S", "B"), dtype=pl.String),
            "quantity": pl.Series(tr["qty"], dtype=pl.Int64),
            "price": _money(tr["price"]),
            "amount": _money(tr["amount"]),
            "commission": _money(tr["commission"]),
            "exchange_fee": _money(tr["exchange_fee"]),
            "stamp_tax": _money(tr["stamp_tax"]),
            "transfer_fee": _money(tr["transfer_fee"]),
            "channel": pl.Series(channel, dtype=pl.String),
        }
    )


def _day_frames(
    branch: _Branch, d: int, day: dt.date, tr: dict, clients: pl.DataFrame, brokers: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """The seven extract tables of session d, after branch.step(d)."""
    ref, t = branch.ref, branch.tix[d]
    present = (branch.open_idx <= d) & (branch.close_idx >= d)
    rows = np.flatnonzero(present)
    closing = pl.Series(branch.close_idx[rows] == d)
    rows_p, slots = np.nonzero(branch.pos_qty > 0)
    sec_p = branch.pos_sec[rows_p, slots]
    order = np.lexsort((sec_p, rows_p))
    rows_p, slots, sec_p = rows_p[order], slots[order], sec_p[order]
    quoted = np.unique(np.concatenate([sec_p, tr["sec"]]))
    turnover = round(float(ref.turnover[t]), 2)
    sh = round(turnover * SH_SHARE, 2)
    return {
        "clients": clients[rows].with_columns(
            close_date=pl.when(closing).then(pl.lit(day)).otherwise(pl.lit(None, dtype=pl.Date))
        ),
        "brokers": brokers,
        "trades": _trades(branch, tr, day, clients),
        "positions": pl.DataFrame(
            {
                "client_id": clients["client_id"].gather(rows_p),
                "market": ref.market.gather(sec_p),
                "security_code": ref.code.gather(sec_p),
                "quantity": pl.Series(branch.pos_qty[rows_p, slots], dtype=pl.Int64),
                "cost_amount": _money(branch.pos_cost[rows_p, slots]),
            }
        ),
        "cash": pl.DataFrame(
            {
                "client_id": clients["client_id"].gather(rows),
                "cash_balance": _money(branch.cash[rows]),
                "deposit_amount": _money(branch.deposit[rows]),
                "withdraw_amount": _money(branch.withdraw[rows]),
                "other_flow_amount": _money(branch.other[rows]),
            }
        ),
        "quotes": pl.DataFrame(
            {
                "market": ref.market.gather(quoted),
                "security_code": ref.code.gather(quoted),
                "security_name": ref.name.gather(quoted),
                "close": _money(ref.close[t, quoted]),
                "prev_close": _money(ref.prev_close[t, quoted]),
            }
        ),
        "market": pl.DataFrame({"market": ["SH", "SZ"], "turnover_amount": [sh, round(turnover - sh, 2)]}),
    }


def _write(df: pl.DataFrame, path: Path, encoding: str) -> None:
    if path.suffix == ".parquet":
        df.write_parquet(path)
        return
    text = df.write_csv(float_precision=2, date_format="%Y-%m-%d", time_format="%H:%M:%S")
    path.write_bytes(text.encode(encoding))


def generate(
    out_dir: Path,
    clients: int,
    start: dt.date,
    sessions: int,
    seed: int,
    encoding: str = "utf-8",
    fmt: str = "csv",
    leavers: Leavers = LEAVERS,
) -> list[dt.date]:
    """Write `sessions` days of extracts for `clients` clients under out_dir; return the days.

    Folders are out_dir/YYYY-MM-DD/ (the first one is the first session >= start) plus
    out_dir/_truth/personas.parquet. Same arguments give byte-identical files.
    `encoding` (utf-8, gbk, gb18030) applies to CSV; `fmt` is csv or parquet; `leavers`
    changes who leaves and how (the default is the churner persona).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    if encoding.lower() not in ENCODINGS:
        raise ValueError(f"encoding must be one of {sorted(ENCODINGS)}, got {encoding!r}")
    if not 1 <= clients <= 1_000_000:
        raise ValueError(f"clients must be in 1..1,000,000 (6-digit client numbers), got {clients}")
    ref = load_reference()
    days, tix = _sessions(start, sessions, ref)
    rng = np.random.default_rng(seed)
    branch = _Branch(rng, ref, tix, clients, leavers)
    client_frame, brokers = _roster(rng, branch, days)
    out_dir = Path(out_dir)
    credited = interest_days(days)
    for d, day in enumerate(days):
        tr = branch.step(d, interest=day in credited)
        folder = out_dir / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for name, df in _day_frames(branch, d, day, tr, client_frame, brokers).items():
            _write(df, folder / f"{name}.{fmt}", encoding.lower())
    truth = out_dir / "_truth"
    truth.mkdir(parents=True, exist_ok=True)
    churn_date = np.array(days, dtype="datetime64[D]")[branch.churn_day.clip(0)]
    pl.DataFrame(
        {
            "client_id": client_frame["client_id"],
            "persona": np.array(PERSONAS)[branch.persona],
            "churn_date": np.where(branch.churn_day >= 0, churn_date, np.datetime64("NaT")),
            "preferred_channel": np.array(people.TRADE_CHANNELS)[branch.channel],
            "channel_loyalty": branch.loyalty.round(4),
            "growth_tilt": branch.tilt.round(4),
            "preferred_boards": pl.Series(
                [list(np.array(BOARDS)[GROWTH]), list(np.array(BOARDS)[~GROWTH])], dtype=pl.List(pl.String)
            ).gather((branch.tilt <= 0).astype(np.int64)),
        }
    ).with_columns(pl.col("churn_date").cast(pl.Date)).write_parquet(truth / "personas.parquet")
    return days
