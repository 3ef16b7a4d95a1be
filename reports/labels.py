"""Chinese labels of the warehouse's codes (segments, levels, tiers, indicator names)."""

from __future__ import annotations

SEGMENTS = {
    "stable": "稳健型",
    "aggressive": "激进型",
    "conservative": "保守型",
    "inactive": "不活跃",
}
SEGMENT_ORDER = ["stable", "aggressive", "conservative", "inactive"]
SEGMENT_COLORS = {
    "stable": "#3b6fb6",
    "aggressive": "#d9534f",
    "conservative": "#5aa469",
    "inactive": "#9aa0a6",
}

MODELS = {"segmentation": "分群模型", "segment": "分群模型", "segments": "分群模型",
          "churn": "流失模型"}

TRAPPED_LEVELS = {"none": "未套", "light": "浅套", "medium": "中套", "deep": "深套"}
TRAPPED_COLORS = {"light": "#f4b183", "medium": "#e2703a", "deep": "#b22222"}
# The churn rule's levels (a rank, not a probability: docs/models.md) and their .lvl colours.
CHURN_LEVELS = {"high": "高", "medium": "中", "low": "低"}
CHURN_LEVEL_CLASS = {"high": "deep", "medium": "medium", "low": "light"}
# Why a client is on the day's call list (sql/reports/call_list.sql): what the broker does.
# The suggested action per reason, in this order of urgency: a client at high churn risk is
# kept, a dormant one woken, a trapped one offered a way out. One mapping for the broker books'
# cards and the call lists.
ACTIONS = {"churn": ("流失风险高", "挽留"), "dormant": ("沉寂", "唤醒"), "trapped": ("套牢", "提供解套建议")}
CALL_REASONS = {key: f"{condition}：{action}" for key, (condition, action) in ACTIONS.items()}
# a client without a broker, a broker without a team: its label, and its id in the rankings
# (sql/intermediate/int_client_period.sql, int_group_period.sql)
UNASSIGNED = "未分配"
UNASSIGNED_ID = "UNASSIGNED"


def group_id(group_id: str | None) -> str:
    """A broker's or team's id as the rankings name it: UNASSIGNED_ID for none, so that a
    client without a broker and a broker without a team have one page each."""
    return group_id or UNASSIGNED_ID


def group_name(group_id: str | None, name: str | None = None) -> str:
    """What a page calls a broker or a team: its name, else its id; 未分配 for none."""
    if name:
        return name
    return UNASSIGNED if group_id in (None, UNASSIGNED_ID) else group_id


def shown_id(group_id: str | None) -> str:
    """A broker's or team's id as a page shows it beside the name: none for 未分配."""
    return "" if group_id in (None, UNASSIGNED_ID) else group_id


# What scored a client's churn risk, by mart.churn_scores.model_version: the rule before any fit
# (a rank, shown as a level), the rule calibrated on a fit's labels (`rule-<session>`: a
# probability) or a fitted model (a probability).
SCORERS = {"rule": "规则评分", "calibrated": "规则评分（已校准）", "model": "模型评分"}


def scorer_kind(model_version: str | None) -> str | None:
    if model_version is None:
        return None
    return "rule" if model_version == "rule" else "calibrated" if model_version.startswith("rule-") else "model"


def churn_scorer(rule_scored: int, scored: int, calibrated: int = 0) -> str:
    """What scored a day's churn risk, from the counts of clients scored by each kind."""
    counts = {"rule": rule_scored, "calibrated": calibrated, "model": scored - rule_scored - calibrated}
    return " / ".join(SCORERS[k] for k, n in counts.items() if n)


WEALTH_TIERS = {
    "mass": "大众(<10万)",
    "affluent": "富裕(10-50万)",
    "wealth": "财富(50-300万)",
    "hnw": "高净值(300-1000万)",
    "uhnw": "超高净值(≥1000万)",
}

PERIODS = {"week": "本周", "month": "本月", "quarter": "本季", "half": "本半年", "year": "本年"}
PREVIOUS = {"week": "上周", "month": "上月", "quarter": "上季", "half": "上半年度", "year": "上年"}

# Column names of the warehouse (mart.client_indicators and friends) -> spec names.
INDICATORS = {
    "total_assets": "托管资产",
    "avg_assets": "日均资产",
    "avg_total_assets": "日均资产",
    "market_value": "持仓市值",
    "cash_balance": "现金余额",
    "net_inflow": "净流入",
    "net_inflow_w": "净流入",
    "trade_amount": "成交额",
    "trade_amount_w": "成交额",
    "trade_count": "成交笔数",
    "commission": "佣金",
    "net_commission": "净佣金",
    "net_commission_w": "净佣金",
    "interest_income": "利差收入",
    "interest_income_w": "利差收入",
    "revenue": "收入",
    "revenue_w": "收入",
    "commission_rate": "佣金率",
    "market_share": "市场份额",
    "activity": "活跃度",
    "active_days": "活跃天数",
    "turnover_rate": "资金周转率",
    "turnover_rate_annual": "年化资金周转率",
    "profitability": "客户盈利率",
    "value_share": "价值贡献度",
    "pnl_w": "盈亏",
    "pnl_rate": "收益率",
    "pnl_volatility": "盈亏波动率",
    "unrealized_pnl": "浮动盈亏",
    "cash_ratio": "现金比例",
    "concentration": "持仓集中度",
    "trapped_ratio": "套牢度",
    "trapped_depth": "套牢深度",
    "days_since_last_trade": "距上次交易",
    "tenure_days": "开户天数",
    "present_days": "在册天数",
    "avg_trade_size": "平均单笔成交",
    "trade_size": "平均单笔成交",
    "churn_risk": "流失风险",
    "net_outflow": "净流出",
    "withdraw_amount": "转出金额",
    "deposit_amount": "转入金额",
    "asset_change": "资产变化",
    "age": "年龄",
}


def segment(code: str | None) -> str:
    if code is None:
        return "—"
    return SEGMENTS.get(code, code)


def indicator(code: str | None) -> str:
    """Chinese name of an indicator column; unknown names are shown as they are."""
    if code is None:
        return "—"
    return INDICATORS.get(code, code)


def driver(text: str | None) -> str:
    """A churn driver such as 'days_since_last_trade' or 'activity=+0.12': the feature
    name translated, whatever follows it kept."""
    if text is None:
        return ""
    for sep in ("=", ":", " ", "(", "（"):
        if sep in text:
            head, tail = text.split(sep, 1)
            if head.strip() in INDICATORS:
                return f"{INDICATORS[head.strip()]}{sep}{tail}"
    return INDICATORS.get(text.strip(), text)


# ---- client analysis (docs/spec/client-analysis.md) -------------------------------------

WEALTH_TIER_ORDER = ["mass", "affluent", "wealth", "hnw", "uhnw"]
# the tier alone, for sentences ("一位财富客户"); WEALTH_TIERS adds the asset range
WEALTH_TIER_NAMES = {"mass": "大众", "affluent": "富裕", "wealth": "财富", "hnw": "高净值", "uhnw": "超高净值"}

TRADE_CHANNELS = {"online": "网上交易", "phone": "电话委托", "counter": "柜台委托", "unknown": "未标注渠道"}
CHANNEL_COLORS = {"online": "#3b6fb6", "phone": "#e2703a", "counter": "#5aa469", "unknown": "#9aa0a6"}

# mart.attribute_profile: attribute -> its name, and its categories in display order
ATTRIBUTES = {
    "age_band": "年龄段",
    "gender": "性别",
    "tenure_band": "开户年限",
    "open_channel": "开户渠道",
    "city": "城市",
    "risk_level": "风险等级",
    "preferred_board": "偏好板块",
    "main_channel": "主要交易渠道",
}
CATEGORIES = {
    "age_band": {"<25": "25岁以下", "25-34": "25–34岁", "35-44": "35–44岁", "45-54": "45–54岁",
                 "55-64": "55–64岁", "65+": "65岁及以上"},
    "gender": {"M": "男", "F": "女"},
    "tenure_band": {"<1y": "不满1年", "1-3y": "1–3年", "3-5y": "3–5年", "5-10y": "5–10年", "10y+": "10年以上"},
    "open_channel": {"online": "网上开户", "branch": "营业部开户", "referral": "客户推荐", "bank": "银行渠道"},
    "risk_level": {"C1": "C1", "C2": "C2", "C3": "C3", "C4": "C4", "C5": "C5"},
    "preferred_board": {"sh_main": "沪市主板", "sz_main": "深市主板", "chinext": "创业板", "star": "科创板",
                        "bj": "北交所", "other": "其他板块", "none": "无持仓"},
    "main_channel": {"online": "网上交易", "phone": "电话委托", "counter": "柜台委托", "none": "近期无交易",
                     "unknown": "未标注渠道"},
}
# categories without an attribute's value: shown, never named as a segment's typical trait
NO_VALUE = ("none", "unknown")


def category(attribute: str, code: str | None) -> str:
    """Chinese name of a category of mart.attribute_profile; a city (or an unknown code) as it is."""
    if code is None or code == "none":
        return CATEGORIES.get(attribute, {}).get("none", "无")
    if code == "unknown":
        return "未知"
    return CATEGORIES.get(attribute, {}).get(code, code)


def category_rank(attribute: str, code: str) -> int:
    """Position of a category in its attribute's display order (unlisted ones after, unknown last)."""
    order = list(CATEGORIES.get(attribute, {}))
    if code in NO_VALUE:
        return len(order) + 2
    return order.index(code) if code in order else len(order)

# mart.loyalty_distribution: the groups' names (a segment or a tier as above)
LOYALTY_GROUPS = {"all": "全体客户", "segment": "分群", "wealth_tier": "资产层级"}
NO_SEGMENT = "未分群"

# The reference's industries (ref.securities) as the report names them: as they are, except
# the one spelled with Latin letters (the report's text is Chinese only).
INDUSTRIES = {"IT设备": "信息技术设备", "未分类": "未分类（行业未知）"}


def industry(name: str | None) -> str:
    if name is None:
        return "—"
    return INDUSTRIES.get(name, name)


def loyalty_group(group_type: str, value: str) -> str:
    """The name of a row of mart.loyalty_distribution: 全体客户, a segment or a wealth tier."""
    if group_type == "segment":
        return NO_SEGMENT if value == "none" else segment(value)
    if group_type == "wealth_tier":
        return WEALTH_TIER_NAMES.get(value, value)
    return LOYALTY_GROUPS["all"]
