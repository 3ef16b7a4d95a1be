-- int_running_lookup(d): whether session d is one whose mart.client_running rows the
-- client-analysis SQL of a range looks up (int_running_lookup_dates). core.db.running_lookup
-- redefines it for a block as a constant list of those dates (it says why); outside such a
-- block it is this definition, which fails on the first row it is asked about.
create or replace temp macro int_running_lookup(d) as
    cast(error('int_running_lookup(d) is defined by core.db.running_lookup, outside it there is no range') as boolean)
