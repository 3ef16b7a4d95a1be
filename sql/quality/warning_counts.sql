-- What the sessions $start .. $end warn about, for the last line of `crm run`: rows kept out
-- (quality.rejects), optional values nulled (quality.nulled), and quality.warnings by kind
-- (securities valued at an earlier close; clients whose cash did not reconcile; clients
-- credited what was taken as interest). One row per kind, in this order, zeros included.
with

warned as (
    select kind, count(*) as rows, coalesce(sum(clients), 0) as clients
    from quality.warnings
    where as_of_date between $start and $end
    group by kind
),

kinds as (
    select 1 as ord, 'rejected_rows' as kind, (select count(*) from quality.rejects where as_of_date between $start and $end) as n
    union all select 2, 'nulled_values', (select count(*) from quality.nulled where as_of_date between $start and $end)
    union all select 3, 'stale_quotes', (select coalesce(max(rows), 0) from warned where kind = 'stale_quote')
    union all select 4, 'cash_unreconciled', (select coalesce(max(clients), 0) from warned where kind = 'cash_unreconciled')
    union all select 5, 'interest_credits', (select coalesce(max(clients), 0) from warned where kind = 'interest_credit')
)

select kind, n from kinds order by ord
