-- The industries clients hold most on $day (mart.client_habits.top_industry): per industry the
-- clients whose largest holding it is, their share of the clients with positions, and the
-- median holding period (holding_sessions) of those who sold in the window; the $top
-- industries with the most clients (ties by name).
with

habits as (
    select *
    from mart.client_habits
    where as_of_date = $day and top_industry is not null
),

final as (
    select
        top_industry as industry,
        count(*) as clients,
        count(*) / (select count(*) from habits) as client_share,
        median(holding_sessions) as median_holding,
        count(holding_sessions) as sellers,
        (select count(*) from habits) as holders
    from habits
    group by all
)

select *
from final
order by clients desc, industry
limit $top
