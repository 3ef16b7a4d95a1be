-- mart.loyalty_distribution ($start .. $end): per session D, how the loyalty score
-- (mart.client_loyalty) is spread over the clients on D: over all of them (group_type 'all',
-- group_value 'all'), per segment (mart.client_segments on D; a client without one: 'none')
-- and per wealth tier (mart.client_windows on D). Per group: clients, mean, the quartiles p25,
-- median and p75 by quantile_cont (linear between the order statistics around position
-- (n - 1) x p, numpy's default; one client: its score), and the shares of clients with a score
-- < $loyalty_low (低) and >= $loyalty_high (高), compared as stored (double).
with

scores as (
    select l.as_of_date, l.loyalty, coalesce(s.segment, 'none') as segment, w.wealth_tier
    from mart.client_loyalty as l
    inner join mart.client_windows as w on w.as_of_date = l.as_of_date and w.client_id = l.client_id
    left join mart.client_segments as s on s.as_of_date = l.as_of_date and s.client_id = l.client_id
    where l.as_of_date between $start and $end
        and w.as_of_date between $start and $end
),

stats as (
    select
        as_of_date,
        case when grouping(segment) = 0 then 'segment' when grouping(wealth_tier) = 0 then 'wealth_tier' else 'all' end
            as group_type,
        case when grouping(segment) = 0 then segment when grouping(wealth_tier) = 0 then wealth_tier else 'all' end
            as group_value,
        count(*) as clients,
        avg(loyalty) as mean,
        quantile_cont(loyalty, [0.25, 0.5, 0.75]) as quartiles,
        count(*) filter (where loyalty < $loyalty_low) as low,
        count(*) filter (where loyalty >= $loyalty_high) as high
    from scores
    -- the three groupings in one aggregate
    group by grouping sets ((as_of_date), (as_of_date, segment), (as_of_date, wealth_tier))
),

final as (
    select
        as_of_date,
        group_type,
        group_value,
        clients,
        mean,
        quartiles[1] as p25,
        quartiles[2] as median,
        quartiles[3] as p75,
        low / clients as low_share,
        high / clients as high_share
    from stats
)

select * from final
