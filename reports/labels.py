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
