-- The level of a trapped loss (spec 2, trapped_level): `light` [trap, medium_level),
-- `medium` [medium_level, deep_level), `deep` from deep_level, the depth being
-- loss / cost, decided exactly (int_at_least). For a position (security_trapped, the
-- report's trapped clients) and for a client's trapped positions summed (client_windows).
create or replace temp macro int_trapped_level(loss, cost, medium_level, deep_level) as
    case
        when int_at_least(loss, deep_level, cost) then 'deep'
        when int_at_least(loss, medium_level, cost) then 'medium'
        else 'light'
    end
