"""Dagster assets built from the table registry (core/tables.py): one multi-asset per writer,
one asset spec per table it writes, deps and partition mappings from the tables' reads.

Every asset runs a whole partition range in one run (BackfillPolicy.single_run) and
calls the writer's core function, which processes the sessions in order; then the tables'
blocking checks run over the range. All steps of a run write in one DuckDB transaction
(resources.WarehouseResource), committed when the run ends, rolled back when one fails.

No `from __future__ import annotations` here: Dagster reads the parameters' annotations.
"""

import datetime as dt

import dagster as dg

from core import tables
from core.build import CheckFailed, Job, build_writer, builder
from core.checks import table_checks
from core.config import Settings
from core.sessions import trading_calendar

from . import checks
from .partitions import range_sessions
from .resources import ExtractsResource, WarehouseResource

POOL = "duckdb"  # one writer at a time: DuckDB locks the file per process
SINGLE_RUN = dg.BackfillPolicy.single_run()
KINDS = {"raw": {"duckdb"}, "quality": {"duckdb"}, "marts": {"duckdb"}, "analysis": {"duckdb"},
         "models": {"duckdb", "scikitlearn"}}


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(list(tables.BY_NAME[table].key))


def dagster_deps(writer: tables.Writer, settings: Settings, first: dt.date) -> list[dg.AssetDep]:
    """The writer's reads of other writers' tables, one dep per table with the widest window.

    Every spec of a multi-asset gets the same deps (the union over its tables): an asset
    backfill targets a spec's partitions through its parents, and Dagster runs a
    multi-asset only when all its specs are targeted alike. Reads of the writer's own
    tables (a table reading itself a session back: running totals, hysteresis, the model in
    force) stay out of Dagster's graph: a self-dependent asset would make Dagster plan
    backfills partition by partition instead of one single-run range. The registry keeps
    them for the rerun plan."""
    cal = trading_calendar()
    sessions = tuple(cal.between(first, cal.last))  # FIRST reaches the partitions' first session
    widest: dict[str, tuple[int, int]] = {}
    for r in (r for t in tables.writer_tables(writer.name) for r in t.reads):
        if tables.BY_NAME[r.table].writer == writer.name:
            continue
        back, forward = tables.offsets(r, settings, sessions)
        b0, f0 = widest.get(r.table, (0, 0))
        widest[r.table] = (max(back, b0), max(forward, f0))
    deps = []
    for name, (back, forward) in widest.items():
        mapping = (dg.TimeWindowPartitionMapping(start_offset=-back, end_offset=forward)
                   if back or forward else None)
        deps.append(dg.AssetDep(asset_key(name), partition_mapping=mapping))
    return deps


def _metadata(values: dict) -> dict:
    return {k: dg.MetadataValue.json(v) if isinstance(v, (dict, list)) else v for k, v in values.items()}


def writer_asset(writer: tables.Writer, settings: Settings,
                 partitions: dg.TimeWindowPartitionsDefinition) -> dg.AssetsDefinition:
    """The multi-asset of one writer."""
    targets = tables.writer_tables(writer.name)
    builder(writer)  # imported when the definitions load (scikit-learn: seconds), not in the run
    deps = dagster_deps(writer, settings, partitions.start.date())
    specs = [dg.AssetSpec(asset_key(t.name), description=t.description, group_name=writer.group,
                          kinds=KINDS[writer.group], deps=deps) for t in targets]
    check_specs = [checks.spec(c, asset_key(t.name)) for t in targets for c in table_checks(t)]

    @dg.multi_asset(name=writer.name, specs=specs, check_specs=check_specs, partitions_def=partitions,
                    backfill_policy=SINGLE_RUN, pool=POOL, description=writer.description)
    def _asset(context: dg.AssetExecutionContext, duckdb: WarehouseResource, extracts: ExtractsResource,
               settings: dg.ResourceParam[Settings]):
        days = range_sessions(context)
        with duckdb.get_connection() as con:
            written, outcomes = build_writer(con, days, Job(writer, settings, extracts.path, context.log))
        if written.stale:
            wipe_later(context, written.stale)
        failed = [o for o in outcomes if not o.passed]
        if failed:  # the run's transaction rolls back: the previous rows stay
            duckdb.fail()
        else:
            for t in targets:
                yield dg.MaterializeResult(asset_key=asset_key(t.name), metadata={
                    "rows": written.rows.get(t.name, 0), "sessions": len(days),
                    **_metadata(written.metadata.get(t.name, {}))})
        for o in outcomes:
            yield checks.result(o, asset_key(o.table))
        if failed:  # the step's error, which the CLI prints: the check and its first offending row
            raise CheckFailed(failed[0])

    return _asset


def wipe_later(context: dg.AssetExecutionContext, stale: list) -> None:
    """Later sessions a change made stale, not rebuilt by this run (a range materialized from
    the UI, `crm run --no-downstream`): wipe their status on every asset computed from the
    raw tables, so the UI shows them missing until they are rebuilt. Dagster's own staleness
    does not reach them: data versions skip windows of 100+ partitions and do not cascade."""
    keys = [asset_key(t.name) for t in tables.TABLES if tables.writer(t.writer).group != "raw"]
    partitions = [d.isoformat() for d in stale]
    for key in [*keys, dg.AssetKey(["report", "daily"])]:
        context.instance.wipe_asset_partitions(key, partitions)
    context.log.info(f"{len(stale)} later sessions ({stale[0]}..{stale[-1]}) read a changed session and "
                        "were not rebuilt by this run: unpublished, and shown missing until rebuilt")


def build_assets(settings: Settings, partitions: dg.TimeWindowPartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every writer's asset; windows come from `settings`, fixed when the definitions load."""
    return [writer_asset(w, settings, partitions) for w in tables.WRITERS]

