"""The model writers end to end on a small branch: every client-day has a segment and a churn
risk, and the stored features equal a plain recomputation."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl


def test_every_row_gets_a_segment_and_a_churn_risk(small_branch):
    with duckdb.connect(str(small_branch), read_only=True) as con:
        rows = con.execute("""
            select i.segment, i.churn_risk, d.total_assets, i.days_since_last_trade
            from mart.client_indicators as i
            inner join mart.client_daily as d using (as_of_date, client_id)""").pl()
        runs = con.execute("select model, version, note from mart.model_runs").pl()
        drivers = con.execute("select count(*), count(distinct as_of_date), count(driver_1) from mart.churn_drivers"
                              ).fetchone()
        versions = con.execute("select count(*) from model.segmentation_versions").fetchone()[0]
    assert rows.height > 30_000
    assert set(rows["segment"]) == {"stable", "aggressive", "conservative", "inactive"}
    eligible = (rows["total_assets"] >= 1000) & (rows["days_since_last_trade"] <= 59).fill_null(False)
    assert (rows.filter(~eligible)["segment"] == "inactive").all()
    assert (rows.filter(eligible)["segment"] != "inactive").all()
    assert rows["churn_risk"].null_count() == 0
    assert rows["churn_risk"].min() >= 0 and rows["churn_risk"].max() <= 1
    # the first sessions have no known 20-session future: the rule, said so in model_runs
    rule = runs.filter(pl.col("version") == "rule")
    assert rule.height > 0 and rule["note"].str.contains("fallback rule score").all()
    assert runs.filter(pl.col("model") == "segmentation").height > 0
    assert drivers[1] == 60 and drivers[0] == 60 * 200 and drivers[2] > 0
    # the fitted models are in the warehouse file, not in a folder beside it
    assert versions > 0
    assert not (small_branch.parent / "models").exists()


def test_stored_features_equal_a_plain_per_client_recomputation(small_branch):
    """mart.client_features of the last session against polars over each client's own rows:
    windows of 20 / 60 sessions counted by session, written a second way (tail of a sorted list)."""
    with duckdb.connect(str(small_branch), read_only=True) as con:
        daily = con.execute("select as_of_date, client_id, total_assets, net_inflow, trade_count "
                            "from mart.client_daily").pl()
        events = con.execute("select client_id, as_of_date from mart.client_indicators where churn_event").pl()
        stored = con.execute("select * from mart.client_features where as_of_date = "
                             "(select max(as_of_date) from mart.client_features)").pl()
    sessions = sorted(daily["as_of_date"].unique())
    day, w20, w60 = sessions[-1], set(sessions[-20:]), set(sessions[-60:])
    expected = (
        daily.filter(pl.col("as_of_date").is_in(list(w60)))
        .sort("as_of_date")
        .group_by("client_id")
        .agg(
            present=pl.len(),
            today=pl.col("total_assets").filter(pl.col("as_of_date") == day).first(),
            peak=pl.col("total_assets").max(),
            out20=-pl.col("net_inflow").filter(pl.col("as_of_date").is_in(list(w20))).sum(),
            withdraw20=(pl.col("net_inflow").filter(pl.col("as_of_date").is_in(list(w20))) < 0).sum(),
            active20=(pl.col("trade_count").filter(pl.col("as_of_date").is_in(list(w20))) > 0).mean(),
            active60=(pl.col("trade_count") > 0).mean(),
        )
        .filter(pl.col("today").is_not_null())
        .with_columns(churned=pl.col("client_id").is_in(
            events.filter(pl.col("as_of_date").is_in(list(w60)))["client_id"].to_list()).cast(pl.Int32))
    )
    both = expected.join(stored, on="client_id", how="full", coalesce=True)
    assert both.height == stored.height == expected.height > 500

    def close(a, b):
        return np.allclose(both[a].to_numpy().astype(float), both[b].to_numpy().astype(float), rtol=1e-9, atol=1e-9)
    assert close("withdraw20", "withdraw_days_w") and close("active20", "activity_w")
    assert close("active60", "activity_l") and close("churned", "churned_recently")
    assert np.allclose(both["present"].to_numpy() / 60, both["history_share"].to_numpy())
    peak = both["peak"].to_numpy()
    assert np.allclose(np.where(peak > 0, both["today"].to_numpy() / np.where(peak > 0, peak, 1), 1),
                       both["assets_to_peak"].to_numpy())
    assert np.allclose(np.where(peak > 0, both["out20"].to_numpy() / np.where(peak > 0, peak, 1), 0),
                       both["net_outflow_share_w"].to_numpy())
    assert np.allclose(np.arcsin(np.sqrt(both["active60"].to_numpy())), both["seg_activity"].to_numpy())
