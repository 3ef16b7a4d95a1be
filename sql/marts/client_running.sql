-- mart.client_running: per client and session, running totals since the client's first row
-- in the warehouse, for the sessions ($after, $end], continuing the rows of $after.
-- A window sum is the difference of two totals (int_client_running_back), so a day reads
-- two rows per client instead of its 60 (docs/performance.md). Rows are dense: a client
-- absent on a session still gets a row, carrying its totals (present = false), so the
-- row n sessions back is one equi-join away. Money totals are DECIMAL: a difference of
-- two totals is then exact, as the churn test's threshold comparison needs. Each row also
-- holds the lookback's peak (a max: aggregated over the reach), the client's first session
-- and latest trade, and its churn test (spec 2), carried over absent sessions.
-- Kept consistent by pipelines/warehouse.py: rebuilding client_daily from a session
-- drops the rows from that session on; the marts reading this table extend it first.
with

sessions as (
    select session_date as as_of_date, session_idx as idx
    from ref.sessions
    where session_date > $after and session_date <= $end
),

-- the chunk's first and last sessions; the lookbacks of its sessions share
-- [shared_from, i0] (see peaks)
bounds as (
    select min(idx) as i0, max(idx) as i1, max(idx) - $lookback + 1 as shared_from
    from sessions
),

base as (
    select * from mart.client_running where as_of_date = $after
),

daily as (
    select
        d.client_id,
        s.idx,
        d.total_assets,
        d.net_inflow,
        1 as days,
        (d.trade_count > 0)::int as active_days,
        (d.net_inflow < 0)::int as withdraw_days,
        d.trade_count,
        d.total_assets::decimal(38, 10) as assets,
        d.market_value::decimal(38, 10) as market_value_sum,
        d.trade_amount::decimal(38, 10) as trade_amount,
        d.net_commission::decimal(38, 10) as net_commission,
        d.interest_income::decimal(38, 10) as interest_income,
        d.revenue::decimal(38, 10) as revenue,
        d.daily_pnl::decimal(38, 10) as pnl,
        (-d.net_inflow)::decimal(38, 10) as outflow,
        d.cash_balance / nullif(d.total_assets, 0) as cash_ratio,
        -- the daily return, where the previous session's assets make it meaningful
        -- (those assets: today's minus P&L minus transfers, spec 1)
        case when int_money(d.total_assets - d.daily_pnl - d.net_inflow) >= int_money($eligible_assets)
            then d.daily_pnl / (d.total_assets - d.daily_pnl - d.net_inflow) end as ret
    from mart.client_daily as d
    inner join sessions as s on s.as_of_date = d.as_of_date
),

-- every client with a row so far, from the first session it needs a row on
clients as (
    select client_id, min(idx) as from_idx
    from (
        select client_id, (select i0 from bounds) as idx from base
        union all
        select client_id, idx from daily
    )
    group by client_id
),

grid as (
    select c.client_id, s.as_of_date, s.idx, d.client_id is not null as present, d.* exclude (client_id, idx)
    from clients as c
    inner join sessions as s on s.idx >= c.from_idx
    left join daily as d on d.client_id = c.client_id and d.idx = s.idx
),

-- The peak of total_assets over the client's rows in each session's lookback (no rows:
-- null). The lookbacks of the chunk's sessions i0..i1 share [i1 - lookback + 1, i0]: its
-- max is taken once per client; the rows before and after that range count for the
-- sessions whose lookback holds them. The chunk reads its lookback + C - 1 sessions once
-- instead of lookback sessions per session.
lookback_rows as (
    select d.client_id, r.session_idx as idx, d.total_assets
    from bounds as b
    inner join ref.sessions as r on r.session_idx between b.i0 - $lookback + 1 and b.i1
    inner join mart.client_daily as d on d.as_of_date = r.session_date
),

peak_parts as (
    select s.idx, m.client_id, m.total_assets
    from (
        select l.client_id, max(l.total_assets) as total_assets
        from lookback_rows as l
        inner join bounds as b on l.idx between b.shared_from and b.i0
        group by l.client_id
    ) as m
    cross join sessions as s
    union all
    select s.idx, l.client_id, l.total_assets
    from lookback_rows as l
    inner join bounds as b on l.idx < b.shared_from or l.idx > b.i0
    inner join sessions as s on s.idx between l.idx and l.idx + $lookback - 1
),

peaks as (
    select idx, client_id, max(total_assets) as peak_assets
    from peak_parts
    group by idx, client_id
),

-- each row's sums over its client's rows of the chunk up to it: a self-join, as chunks are
-- a few sessions (window functions, one per column, cost 4x more at 200k clients a day)
chunk_sums as (
    select
        g.client_id,
        g.idx,
        sum(h.days) as days,
        sum(h.active_days) as active_days,
        sum(h.withdraw_days) as withdraw_days,
        sum(h.trade_count) as trade_count,
        sum(h.assets) as assets,
        sum(h.market_value_sum) as market_value_sum,
        sum(h.trade_amount) as trade_amount,
        sum(h.net_commission) as net_commission,
        sum(h.interest_income) as interest_income,
        sum(h.revenue) as revenue,
        sum(h.pnl) as pnl,
        sum(h.outflow) as outflow,
        count(h.cash_ratio) as cash_ratio_days,
        sum(h.cash_ratio) as cash_ratio,
        count(h.ret) as ret_days,
        sum(h.ret) as ret,
        sum(h.ret * h.ret) as ret_sq,
        min(h.idx) filter (where h.present) as first_idx,
        max(h.idx) filter (where h.active_days = 1) as last_trade_idx
    from grid as g
    inner join grid as h on h.client_id = g.client_id and h.idx <= g.idx
    group by g.client_id, g.idx
),

totals as (
    select
        g.as_of_date,
        g.client_id,
        g.idx,
        g.present,
        g.total_assets,
        coalesce(b.days, 0) + coalesce(c.days, 0) as days,
        coalesce(b.active_days, 0) + coalesce(c.active_days, 0) as active_days,
        coalesce(b.withdraw_days, 0) + coalesce(c.withdraw_days, 0) as withdraw_days,
        coalesce(b.trade_count, 0) + coalesce(c.trade_count, 0) as trade_count,
        coalesce(b.assets, 0) + coalesce(c.assets, 0) as assets,
        coalesce(b.market_value_sum, 0) + coalesce(c.market_value_sum, 0) as market_value_sum,
        coalesce(b.trade_amount, 0) + coalesce(c.trade_amount, 0) as trade_amount,
        coalesce(b.net_commission, 0) + coalesce(c.net_commission, 0) as net_commission,
        coalesce(b.interest_income, 0) + coalesce(c.interest_income, 0) as interest_income,
        coalesce(b.revenue, 0) + coalesce(c.revenue, 0) as revenue,
        coalesce(b.pnl, 0) + coalesce(c.pnl, 0) as pnl,
        coalesce(b.outflow, 0) + coalesce(c.outflow, 0) as outflow,
        coalesce(b.cash_ratio_days, 0) + c.cash_ratio_days as cash_ratio_days,
        coalesce(b.cash_ratio, 0) + coalesce(c.cash_ratio, 0) as cash_ratio,
        coalesce(b.ret_days, 0) + c.ret_days as ret_days,
        coalesce(b.ret, 0) + coalesce(c.ret, 0) as ret,
        coalesce(b.ret_sq, 0) + coalesce(c.ret_sq, 0) as ret_sq,
        coalesce(b.first_idx, c.first_idx) as first_idx,
        greatest(b.last_trade_idx, c.last_trade_idx) as last_trade_idx,
        p.peak_assets,
        -- the churn test's M: the peak over the previous lookback sessions, which is the
        -- previous session's peak
        case when g.idx = (select i0 from bounds) then b.peak_assets else pp.peak_assets end
            as peak_before,
        b.in_churn as base_in_churn,
        b.last_churn_idx as base_last_churn_idx
    from grid as g
    inner join chunk_sums as c on c.client_id = g.client_id and c.idx = g.idx
    left join base as b on b.client_id = g.client_id
    left join peaks as p on p.client_id = g.client_id and p.idx = g.idx
    left join peaks as pp on pp.client_id = g.client_id and pp.idx = g.idx - 1
),

-- outflow totals lookback + 1 sessions back: the churn test's transfers over the
-- previous lookback sessions and D
outflow_back as (
    select t.client_id, t.idx + $lookback + 1 as idx, t.outflow
    from totals as t
    union all
    select r.client_id, s.session_idx + $lookback + 1, r.outflow
    from ref.sessions as s
    inner join mart.client_running as r on r.as_of_date = s.session_date
    where s.session_idx + $lookback + 1 in (select idx from sessions) and s.session_date <= $after
),

flows as (
    select
        t.*,
        t.outflow - coalesce(o.outflow, 0) as net_outflow
    from totals as t
    left join outflow_back as o on o.client_id = t.client_id and o.idx = t.idx
    where t.present
),

closing as (
    select client_id, as_of_date
    from raw.clients
    where close_date = as_of_date and as_of_date > $after and as_of_date <= $end
),

-- in churn on its own row (spec 2, churn_event); null on sessions the client is absent
churn_test as (
    select
        f.client_id,
        f.idx,
        cl.client_id is not null
            or coalesce(
                -- exact on the money (int_at_least): assets < share x M, outflow >= share x M
                not int_at_least(f.total_assets, $churn_asset_share, f.peak_before)
                and int_at_least(f.net_outflow, $churn_outflow_share, f.peak_before),
                false
            ) as in_churn_today
    from flows as f
    left join closing as cl on cl.client_id = f.client_id and cl.as_of_date = f.as_of_date
),

events as (
    select
        t.* exclude (peak_before, base_in_churn, base_last_churn_idx),
        -- the in-churn test of the client's latest row, carried over absent sessions
        coalesce(last_value(c.in_churn_today ignore nulls) over w, t.base_in_churn) as in_churn,
        coalesce(
            c.in_churn_today
                and not coalesce(last_value(c.in_churn_today ignore nulls) over earlier, t.base_in_churn, false),
            false
        ) as churn_event,
        t.base_last_churn_idx
    from totals as t
    left join churn_test as c on c.client_id = t.client_id and c.idx = t.idx
    window
        w as (partition by t.client_id order by t.idx rows between unbounded preceding and current row),
        earlier as (partition by t.client_id order by t.idx rows between unbounded preceding and 1 preceding)
),

final as (
    select
        e.* exclude (total_assets, base_last_churn_idx),
        greatest(e.base_last_churn_idx, max(case when e.churn_event then e.idx end) over (
            partition by e.client_id order by e.idx rows between unbounded preceding and current row
        )) as last_churn_idx
    from events as e
)

-- in session order: the readers look sessions up by date, which DuckDB's zone maps then skip to
select * from final order by as_of_date, client_id
