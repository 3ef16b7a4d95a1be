-- The clients on $day by attribute and category (mart.attribute_profile) with each
-- attribute's Cramér's V against the segment (mart.attribute_association), and each
-- segment's share of all the clients on $day (the same over every attribute: each one
-- partitions them).
with

profile as (
    select *
    from mart.attribute_profile
    where as_of_date = $day
),

overall as (
    select
        attribute,
        sum(clients) as all_clients,
        sum(clients * stable_share) / sum(clients) as stable_overall,
        sum(clients * aggressive_share) / sum(clients) as aggressive_overall,
        sum(clients * conservative_share) / sum(clients) as conservative_overall,
        sum(clients * inactive_share) / sum(clients) as inactive_overall
    from profile
    group by attribute
),

final as (
    select
        p.*,
        o.* exclude (attribute),
        a.cramers_v,
        a.n as association_clients
    from profile as p
    inner join overall as o on o.attribute = p.attribute
    left join mart.attribute_association as a on a.as_of_date = p.as_of_date and a.attribute = p.attribute
)

select * from final
order by attribute, clients desc, category
