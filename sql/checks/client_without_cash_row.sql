-- Clients with positions, trades or indicators on a day without a cash row that day: they
-- would silently fall out of every mart.
select as_of_date, client_id, 'positions' as source from raw.positions
where as_of_date between $start and $end
    and (as_of_date, client_id) not in (select as_of_date, client_id from raw.cash where as_of_date between $start and $end)
union
select as_of_date, client_id, 'trades' from raw.trades
where as_of_date between $start and $end
    and (as_of_date, client_id) not in (select as_of_date, client_id from raw.cash where as_of_date between $start and $end)
union
select as_of_date, client_id, 'client_indicators' from mart.client_windows
where as_of_date between $start and $end
    and (as_of_date, client_id) not in (select as_of_date, client_id from raw.cash where as_of_date between $start and $end)
