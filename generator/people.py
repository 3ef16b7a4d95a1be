"""Synthetic people for the extract generator: the client master and the broker roster,
and the attributes that go with behaviour (age, open channel, usual trade channel, board
tilt; branch.py decides how they depend on the persona, see its docstring).

Everything is drawn with numpy in bulk (200,000 clients must not cost a Python loop).
PII is shaped like the real thing (18-char resident ID with a valid check digit, 11-digit
mobile numbers with real carrier prefixes) but is random: it belongs to nobody.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

# Common surnames, roughly in order of frequency; weights fall off like the real ranking.
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
MALE_GIVEN = list("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志文博亮林峰海东晨阳龙松彬旭宁")
FEMALE_GIVEN = list("芳娜敏静丽艳娟霞秀玲桂英慧婷雪琳颖倩晶妍洁萍红梅琴云兰燕璐欣怡佳悦蓉薇丹")

# (city, weight, resident-ID region codes of its districts). The branch is in Changsha.
CITIES = [
    ("长沙", 60, ["430102", "430103", "430104", "430105", "430111", "430112", "430121", "430181"]),
    ("株洲", 9, ["430202", "430203", "430204", "430211"]),
    ("湘潭", 8, ["430302", "430304", "430381"]),
    ("岳阳", 6, ["430602", "430603", "430611"]),
    ("衡阳", 5, ["430405", "430406", "430407", "430408"]),
    ("常德", 4, ["430702", "430703"]),
    ("益阳", 3, ["430902", "430903"]),
    ("郴州", 3, ["431002", "431003"]),
    ("娄底", 2, ["431302", "431381"]),
]
# Born elsewhere, moved here: their ID carries their birthplace.
OTHER_REGIONS = ["420102", "420106", "440106", "360102", "110105", "310104", "510104", "450102"]
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "180", "181",
    "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
]
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_CN_DIGITS = "零一二三四五六七八九"
OPEN_CHANNELS = ("online", "branch", "referral", "bank")  # clients.channel
TRADE_CHANNELS = ("online", "phone", "counter")  # trades.channel
CHANNEL_MIX = np.array([0.80, 0.04, 0.16])  # a trade off the client's usual channel
ONLINE_OPENING = "2013-04-01"  # no account was opened online before non-face-to-face opening (2013)


def _digits_to_str(digits: np.ndarray) -> np.ndarray:
    """Rows of ASCII byte codes -> array of Python str (vectorised, no per-row loop)."""
    width = digits.shape[1]
    return np.ascontiguousarray(digits, dtype=np.uint8).view(f"S{width}").ravel().astype(f"U{width}")


def _str_digits(codes: np.ndarray, width: int) -> np.ndarray:
    """Array of digit strings -> (n, width) array of ASCII byte codes."""
    return np.frombuffer(codes.astype(f"S{width}").tobytes(), dtype=np.uint8).reshape(-1, width)


def names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Surname + one or two given characters, gendered."""
    n = len(male)
    w = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    sur = np.array(SURNAMES)[rng.choice(len(SURNAMES), n, p=w / w.sum())]
    m, f = np.array(MALE_GIVEN), np.array(FEMALE_GIVEN)
    g1 = np.where(male, m[rng.integers(len(m), size=n)], f[rng.integers(len(f), size=n)])
    g2 = np.where(male, m[rng.integers(len(m), size=n)], f[rng.integers(len(f), size=n)])
    two = rng.random(n) < 0.7
    return np.char.add(np.char.add(sur, g1), np.where(two, g2, ""))


def cities(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """City of residence and the 6-digit region code printed in the resident ID."""
    w = np.array([c[1] for c in CITIES], dtype=float)
    ci = rng.choice(len(CITIES), n, p=w / w.sum())
    region = np.empty(n, dtype="U6")
    for i, (_, _, codes) in enumerate(CITIES):
        sel = ci == i
        region[sel] = np.array(codes)[rng.integers(len(codes), size=sel.sum())]
    elsewhere = rng.random(n) < 0.12
    region[elsewhere] = np.array(OTHER_REGIONS)[rng.integers(len(OTHER_REGIONS), size=elsewhere.sum())]
    return np.array([c[0] for c in CITIES])[ci], region


def id_numbers(rng: np.random.Generator, region: np.ndarray, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
    """18-char resident IDs: region + YYYYMMDD + sequence (odd = male) + ISO 7064 check."""
    n = len(region)
    ymd = np.datetime_as_string(birth.astype("datetime64[D]")).astype("U10")
    ymd = np.char.replace(ymd, "-", "")
    seq = rng.integers(0, 50, size=n) * 10 + rng.integers(0, 5, size=n) * 2 + male.astype(int)
    body = np.char.add(np.char.add(region, ymd), np.char.zfill(seq.astype("U3"), 3))
    digits = _str_digits(body, 17)
    check = _ID_CHECK[((digits - 48).astype(np.int64) @ _ID_WEIGHTS) % 11]
    return _digits_to_str(np.column_stack([digits, check]))


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """11-digit mainland mobile numbers."""
    prefix = _str_digits(np.array(MOBILE_PREFIXES)[rng.integers(len(MOBILE_PREFIXES), size=n)], 3)
    rest = rng.integers(48, 58, size=(n, 8), dtype=np.uint8)
    return _digits_to_str(np.column_stack([prefix, rest]))


def pick_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (n, k) probability matrix."""
    return (rng.random(len(probs))[:, None] > np.cumsum(probs, axis=1)).sum(axis=1).clip(0, probs.shape[1] - 1)


def ages(rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Age in years on the first day, 20..85."""
    return rng.normal(mean, sd).clip(20, 85)


def _rising(age: np.ndarray, middle: float, scale: float) -> np.ndarray:
    """A logistic step in age: 0 well below `middle`, 1/2 at it, 1 well above."""
    return 1 / (1 + np.exp(-(age - middle) / scale))


def open_channels(rng: np.random.Generator, age: np.ndarray, new: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """How each client came (clients.channel): `online` by age (0.81 at 20, 0.45 at 40, 0.09
    at 60; 0.8 at least for accounts opened in the range), else `branch` / `referral` /
    `bank` by the rows of `weights` (n, 3)."""
    p_online = 0.05 + 0.8 * (1 - _rising(age, 40, 7))
    online = rng.random(len(age)) < np.where(new, np.maximum(p_online, 0.8), p_online)
    other = np.array(OPEN_CHANNELS[1:])[pick_rows(rng, weights / weights.sum(axis=1, keepdims=True))]
    return np.where(online, "online", other)


def trade_channels(rng: np.random.Generator, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each client's usual trade channel (index into TRADE_CHANNELS) and its loyalty to it
    (the share of its trades that go through it, 0.70..0.98; the rest follow CHANNEL_MIX).

    Counter and phone orders rise with age around 58: P(counter) 0.04 -> 0.34 and
    P(phone) 0.02 -> 0.17, online the rest (0.94 at 30, 0.68 at 60, 0.52 at 75)."""
    old = _rising(age, 58, 6)
    counter, phone = 0.04 + 0.30 * old, 0.02 + 0.15 * old
    usual = pick_rows(rng, np.column_stack([1 - counter - phone, phone, counter]))
    return usual, 0.70 + 0.28 * rng.random(len(age))


def growth_tilt(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """Log-weight of the growth boards (ChiNext, STAR, BJ) against the main boards when a
    client picks a security: +0.4 at 30 or younger, 0 at 45, -0.4 at 60 or older, plus
    noise (sd 0.3)."""
    return 0.4 * np.clip((45 - age) / 15, -1, 1) + rng.normal(0, 0.3, len(age))


def client_master(
    rng: np.random.Generator,
    branch_id: str,
    day0: dt.date,
    age: np.ndarray,
    aggressive: np.ndarray,
    opened: np.ndarray,
    risk_level: np.ndarray,
    channel: np.ndarray,
    roster: pl.DataFrame,
    staffing: np.random.Generator,
) -> pl.DataFrame:
    """clients.csv columns for everyone; `opened` is NaT for accounts opened before day0.
    Clients go to brokers by `staffing`, the roster's own generator, so that the number of
    brokers leaves every other draw as it was.

    Age, risk level and open channel come from the branch (they go with behaviour); birth
    dates follow the age, accounts open after the 18th birthday (online ones not before
    ONLINE_OPENING), brokers serve unequal books.
    """
    n = len(age)
    male = rng.random(n) < np.where(aggressive, 0.65, 0.52)
    start = np.datetime64(day0)
    birth = start - (age * 365.25 + rng.random(n) * 365).astype("timedelta64[D]")
    earliest = np.maximum(birth + np.timedelta64(18 * 366, "D"), np.datetime64("2005-01-04"))
    earliest = np.where(channel == "online", np.maximum(earliest, np.datetime64(ONLINE_OPENING)), earliest)
    span = np.maximum((start - earliest).astype(np.int64), 1)
    opened = np.where(np.isnat(opened), earliest + (rng.random(n) * span).astype("timedelta64[D]"), opened)
    city, region = cities(rng, n)
    weight = staffing.lognormal(0, 0.5, roster.height)
    broker = roster["broker_id"].to_numpy()[staffing.choice(roster.height, n, p=weight / weight.sum())]
    return pl.DataFrame(
        {
            "client_id": np.char.add(branch_id, np.char.zfill(np.arange(n).astype("U6"), 6)),
            "client_name": names(rng, male),
            "id_number": id_numbers(rng, region, birth, male),
            "phone": phones(rng, n),
            "gender": np.where(male, "M", "F"),
            "birth_date": birth,
            "open_date": opened,
            "close_date": pl.Series([None] * n, dtype=pl.Date),
            "broker_id": broker,
            "risk_level": risk_level,
            "channel": channel,
            "city": city,
        }
    ).with_columns(pl.col("birth_date", "open_date").cast(pl.Date))


def chinese_number(n: int) -> str:
    """1..9999 in Chinese numerals (team names are 一组, 二组, ..., 十二组, 一百零三组)."""
    if not 0 < n < 10000:
        raise ValueError(f"team number {n} out of range")
    units = ["千", "百", "十", ""]
    digits = [int(c) for c in f"{n:04d}"]
    out, zero = "", False
    for d, u in zip(digits, units):
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
        out += _CN_DIGITS[d] + u
        zero = False
    return out[1:] if out.startswith("一十") else out


def brokers(
    rng: np.random.Generator, n_brokers: int, branch_id: str, branch_name: str, before: dt.date
) -> pl.DataFrame:
    """Broker roster in teams of roughly 6-10 (at least two teams)."""
    n_teams = max(2, round(n_brokers / 8))
    team = np.arange(n_brokers) * n_teams // n_brokers
    member = np.arange(n_brokers) - np.searchsorted(team, team)
    male = rng.random(n_brokers) < 0.5
    first_hire = np.datetime64("2008-01-01")
    span = (np.datetime64(before) - first_hire).astype(int) - 30
    hire = first_hire + rng.integers(0, max(span, 1), size=n_brokers).astype("timedelta64[D]")
    return pl.DataFrame(
        {
            "broker_id": [f"B{t}{m:02d}" for t, m in zip(team, member)],
            "broker_name": names(rng, male),
            "team_id": [f"T{t}" for t in team],
            "team_name": [chinese_number(t + 1) + "组" for t in team],
            "branch_id": branch_id,
            "branch_name": branch_name,
            "hire_date": hire.astype("datetime64[D]"),
        }
    ).with_columns(pl.col("hire_date").cast(pl.Date))
