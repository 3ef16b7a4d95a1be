"""`crm`: generate extracts, run the pipeline through Dagster, and the end-to-end demo."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Analytical CRM for a brokerage branch.")
console = Console(stderr=True)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@app.command()
def generate(
    out_dir: Path,
    clients: int = typer.Option(5000, help="number of clients at the start"),
    start: str = typer.Option("2024-09-02", help="first session (YYYY-MM-DD)"),
    sessions: int = typer.Option(60, help="number of sessions"),
    seed: int = typer.Option(7, help="random seed: same seed, same files"),
    encoding: str = typer.Option("utf-8", help="CSV encoding: utf-8 or gbk"),
    format: str = typer.Option("csv", "--format", help="csv or parquet"),
) -> None:
    """Write a realistic branch's daily extracts into OUT_DIR/YYYY-MM-DD/."""
    from generator import generate as gen

    t0 = time.perf_counter()
    days = gen(out_dir, clients=clients, start=dt.date.fromisoformat(start), sessions=sessions,
               seed=seed, encoding=encoding, fmt=format)
    console.print(f"wrote {len(days)} sessions {days[0]}..{days[-1]} for {clients} clients "
                  f"in {time.perf_counter() - t0:.1f}s")
    print(out_dir)


CONFIG_HELP = "TOML file of settings (default: $CRM_CONFIG, else the documented defaults)"


def _settings(config: Path | None):
    from core.config import Settings

    return Settings.load(config)


def _run(extracts: Path, warehouse: Path, start: dt.date | None, end: dt.date | None,
         config: Path | None = None, downstream: bool = True) -> None:
    from core.db import OldLayoutError
    from core.extracts import ExtractFileError
    from core.ingest import session_folders
    from core.plan import plan_run
    from core.sessions import NotASessionError, trading_calendar

    try:
        days = session_folders(extracts, trading_calendar())
    except (ValueError, NotASessionError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    days = [d for d in days if (start is None or d >= start) and (end is None or d <= end)]
    if not days:
        console.print(f"[red]error:[/red] no session folders in {extracts} for that range")
        raise typer.Exit(2)
    t0 = time.perf_counter()
    settings = _settings(config)
    try:  # before Dagster is imported: an unchanged rerun costs the hashing only
        plan = plan_run(warehouse, extracts, days, settings)
    except (ExtractFileError, OldLayoutError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if not plan.changed:
        console.print(f"{len(days)} session{'s' * (len(days) != 1)} {days[0]}..{days[-1]} unchanged since loaded: "
                      "nothing to rebuild "
                      f"({time.perf_counter() - t0:.1f}s)")
        return
    console.print(plan.line())
    todo = plan.rebuild if downstream else plan.changed
    from pipelines.runner import RunFailed, run_sessions

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("sessions", total=len(trading_calendar().between(todo[0], todo[-1])))
        try:
            run_sessions(warehouse, extracts, todo[0], todo[-1], settings=settings,
                         on_chunk=lambda chunk: progress.update(
                             task, advance=len(chunk), description=f"up to {chunk[-1]}"))
        except RunFailed as exc:
            progress.stop()
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    console.print(f"rebuilt {todo[0]}..{todo[-1]} in {time.perf_counter() - t0:.1f}s -> {warehouse}")
    if not downstream and plan.downstream:
        stale = plan.downstream
        console.print(f"[yellow]stale:[/yellow] {len(stale)} later sessions ({stale[0]}..{stale[-1]}) read the "
                      "changed sessions and were not rebuilt (--no-downstream); run again without it")


@app.command()
def run(
    extracts: Path = typer.Option(..., help="root folder of the day folders"),
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), help="DuckDB file"),
    start: str = typer.Option(None, help="first session to run (default: first folder)"),
    end: str = typer.Option(None, help="last session to run (default: last folder)"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
    downstream: bool = typer.Option(True, help="also rebuild the later sessions that read a changed one"),
) -> None:
    """Bring the warehouse in line with the session folders of EXTRACTS, through Dagster.

    Sessions whose files, settings and code are those they were loaded with are left alone;
    a changed (new, corrected, late) session is rebuilt with every later session that reads
    it (the registry's windows), to the last loaded session."""
    _run(extracts, warehouse, _date(start), _date(end), config, downstream)


@app.command()
def backfill(
    start: str = typer.Option(..., help="first session (YYYY-MM-DD)"),
    end: str = typer.Option(..., help="last session (YYYY-MM-DD)"),
    select: str = typer.Option(None, help='Dagster asset selection, e.g. \'key:"mart/client_windows"+\''),
    extracts: Path = typer.Option(Path("data/extracts"), help="root folder of the day folders"),
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), help="DuckDB file"),
    wait: bool = typer.Option(True, help="wait for the backfill (starts a daemon if none runs)"),
) -> None:
    """Launch a Dagster backfill of the range (one run per range) on the project instance."""
    from pipelines.backfill import run_backfill

    t0 = time.perf_counter()
    with console.status("backfill") as status:
        try:
            backfill_id, n, state = run_backfill(
                dt.date.fromisoformat(start), dt.date.fromisoformat(end), select,
                warehouse.resolve(), extracts.resolve(), wait=wait,
                on_tick=lambda s, runs: status.update(f"backfill {s}, {runs} run(s), "
                                                      f"{time.perf_counter() - t0:.0f}s"))
        except (ValueError, TimeoutError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    console.print(f"backfill {backfill_id}: {n} sessions {start}..{end}, "
                  f"{state.value if state else 'queued'} in {time.perf_counter() - t0:.1f}s")
    if state is not None and state.value not in ("COMPLETED", "COMPLETED_SUCCESS"):
        raise typer.Exit(1)


@app.command()
def report(
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), help="DuckDB file"),
    date: str = typer.Option(..., "--date", help="session to report (YYYY-MM-DD)"),
    out: Path = typer.Option(Path("data/reports"), help="folder for the HTML files"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """Write the self-contained HTML report of one session and the index of all reports."""
    from reports.render import render_report

    t0 = time.perf_counter()
    path = render_report(warehouse, dt.date.fromisoformat(date), out, _settings(config))
    console.print(f"report rendered in {time.perf_counter() - t0:.2f}s")
    print(path)


@app.command()
def demo(
    out: Path = typer.Option(Path("data/demo"), help="folder for extracts, warehouse, report"),
    clients: int = typer.Option(5000),
    sessions: int = typer.Option(120),
    start: str = typer.Option("2024-06-03"),
    seed: int = typer.Option(7),
) -> None:
    """Generate a default branch, run the whole pipeline, print where the output is."""
    from generator import generate as gen

    out = out.resolve()
    extracts = out / "extracts"
    if extracts.exists():
        import shutil

        shutil.rmtree(extracts)
    t0 = time.perf_counter()
    days = gen(extracts, clients=clients, start=dt.date.fromisoformat(start), sessions=sessions,
               seed=seed)
    console.print(f"generated {clients} clients x {len(days)} sessions in {time.perf_counter() - t0:.1f}s")
    warehouse = out / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    _run(extracts, warehouse, None, None)
    from pipelines.assets_report import reports_dir

    report = reports_dir(warehouse) / f"report-{days[-1].isoformat()}.html"
    console.print(f"warehouse: {warehouse}\nreports:   {report.parent}/index.html")
    print(report)


if __name__ == "__main__":
    app()
