"""`crm`: generate extracts, run the pipeline through Dagster, and the end-to-end demo."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Analytical CRM for a brokerage branch.")
console = Console(stderr=True)


def _date(value: str | None, option: str = "--date") -> dt.date | None:
    """An option's date, or exit 2 naming the option and the expected form."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        console.print(f"[red]error:[/red] {option} {value!r} is not a date: expected YYYY-MM-DD, e.g. 2024-09-04")
        raise typer.Exit(2) from None


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
         config: Path | None = None, downstream: bool = True, verbose: bool = False) -> None:
    from core.db import OldLayoutError
    from core.extracts import ExtractFileError
    from core.ingest import session_folders
    from core.plan import plan_run
    from core.sessions import NotASessionError, trading_calendar

    try:
        days = session_folders(extracts, trading_calendar(),
                               warn=lambda line: console.print(f"[yellow]warning:[/yellow] {line}", soft_wrap=True))
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
            run_sessions(warehouse, extracts, todo[0], todo[-1], settings=settings, discard_new=True, verbose=verbose,
                         on_chunk=lambda chunk: progress.update(
                             task, advance=len(chunk), description=f"up to {chunk[-1]}"))
        except RunFailed as exc:
            progress.stop()
            first, last = exc.sessions
            console.print(f"details: {_failure_log(exc)} (or --verbose)", soft_wrap=True)
            console.print(f"sessions {first}..{last} were not committed: the warehouse keeps their previous rows "
                          "and does not match their extracts until the cause is fixed and they are run again",
                          soft_wrap=True)
            console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
            raise typer.Exit(1) from None
    if not downstream and plan.downstream:
        stale = plan.downstream
        console.print(f"[yellow]stale:[/yellow] {len(stale)} later sessions ({stale[0]}..{stale[-1]}) read the "
                      "changed sessions and were not rebuilt (--no-downstream); run again without it")
    from core.build import warnings_line

    done = f"rebuilt {todo[0]}..{todo[-1]} in {time.perf_counter() - t0:.1f}s -> {warehouse}"
    warned = warnings_line(warehouse, todo[0], todo[-1])
    # the last line: what was done, and what it warned about (the report and quality.* tell more)
    console.print(f"{done}; [yellow]warnings:[/yellow] {warned}" if warned else done, soft_wrap=True)


def _failure_log(exc) -> Path:
    """A failed run's step errors with their tracebacks, in a file whose path the CLI prints."""
    import tempfile

    log = Path(tempfile.gettempdir()) / "crm-run-failure.log"
    log.write_text(f"run {exc.run_id}, sessions {exc.sessions[0]}..{exc.sessions[1]}\n{exc.details}", encoding="utf-8")
    return log


VERBOSE_HELP = "print Dagster's log lines (INFO and up) as the run goes"


@app.command()
def run(
    extracts: Path = typer.Option(..., help="root folder of the day folders"),
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), help="DuckDB file"),
    start: str = typer.Option(None, help="first session to run (default: first folder)"),
    end: str = typer.Option(None, help="last session to run (default: last folder)"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
    downstream: bool = typer.Option(True, help="also rebuild the later sessions that read a changed one"),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
) -> None:
    """Bring the warehouse in line with the session folders of EXTRACTS, through Dagster.

    Sessions whose files, settings and code are those they were loaded with are left alone;
    a changed (new, corrected, late) session is rebuilt with every later session that reads
    it (the registry's windows), to the last loaded session."""
    _run(extracts, warehouse, _date(start, "--start"), _date(end, "--end"), config, downstream, verbose)


@app.command()
def backfill(
    start: str = typer.Option(..., help="first session (YYYY-MM-DD)"),
    end: str = typer.Option(..., help="last session (YYYY-MM-DD)"),
    select: str = typer.Option(None, help='Dagster asset selection, e.g. \'key:"mart/client_windows"+\''),
    extracts: Path = typer.Option(Path("data/extracts"), help="root folder of the day folders"),
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), help="DuckDB file"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
    wait: bool = typer.Option(True, help="wait for the backfill (starts a daemon if none runs)"),
    timeout: float = typer.Option(4 * 3600, help="seconds to wait before cancelling the backfill"),
) -> None:
    """Launch a Dagster backfill of the range on the warehouse's instance (one run per range).

    Its runs carry the warehouse, extracts and settings, whichever daemon launches them."""
    from pipelines.backfill import BackfillError, run_backfill

    t0 = time.perf_counter()
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    with console.status("backfill") as status:
        try:
            out = run_backfill(
                first, last, select, warehouse, extracts, wait=wait, config=config, timeout=timeout,
                on_tick=lambda s, runs: status.update(f"backfill {s}, {runs} run(s), "
                                                      f"{time.perf_counter() - t0:.0f}s"))
        except (ValueError, OSError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        except BackfillError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    console.print(f"backfill {out.backfill_id}: {out.sessions} sessions {first}..{last}, "
                  f"{out.status.value if out.status else 'queued'} in {time.perf_counter() - t0:.1f}s")
    if out.status is not None and not out.succeeded:
        console.print(f"[red]error:[/red] {out.cause or 'no failed run recorded'}", soft_wrap=True)
        raise typer.Exit(1)


@app.command()
def ui(
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), help="DuckDB file"),
    extracts: Path = typer.Option(Path("data/extracts"), help="root folder of the day folders"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
    port: int = typer.Option(3000, help="port of the web UI"),
) -> None:
    """The Dagster UI (`dagster dev`) on this warehouse's instance: its runs, backfills and
    materializations only; what it launches writes WAREHOUSE from EXTRACTS with these settings."""
    import os

    from pipelines.ui import dev_command

    try:
        argv, env, cwd = dev_command(warehouse, extracts, config, port)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"Dagster UI on {env['DAGSTER_HOME']} (warehouse {env['CRM_WAREHOUSE']}): "
                  f"http://127.0.0.1:{port}")
    os.chdir(cwd)
    os.execve(argv[0], argv, env)


@app.command()
def report(
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), help="DuckDB file"),
    date: str = typer.Option(..., "--date", help="session to report (YYYY-MM-DD)"),
    out: Path = typer.Option(Path("data/reports"), help="folder for the HTML files"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """Write the self-contained HTML report of one session, the index of all reports, and that
    session's broker books, team pages and call list (calls-YYYY-MM-DD.xlsx)."""
    from reports.books import render_books
    from reports.render import render_report

    day = _date(date)
    problem = _report_problem(warehouse, day, out)
    if problem:
        console.print(f"[red]error:[/red] {problem}", soft_wrap=True)
        raise typer.Exit(2 if problem.startswith("--") else 1)
    t0 = time.perf_counter()
    settings = _settings(config)
    path = render_report(warehouse, day, out, settings)
    books = render_books(warehouse, day, out, settings,
                         lambda line: console.print(f"[yellow]warning:[/yellow] {line}", soft_wrap=True))
    console.print(f"report, {len(books) - 1} broker books and team pages and the call list "
                  f"rendered in {time.perf_counter() - t0:.2f}s")
    print(path)


def _report_problem(warehouse: Path, day: dt.date, out: Path) -> str | None:
    """Why `crm report` cannot write that day's report, in one line (None: it can)."""
    import duckdb

    from core.sessions import trading_calendar

    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; give the folder the reports go to"
    if not warehouse.is_file():
        return f"--warehouse {warehouse} does not exist; build it with `crm run`"
    cal = trading_calendar()
    if not cal.is_session(day):
        earlier = cal.between(cal.first, day - dt.timedelta(days=1))
        why = "a weekend" if day.weekday() >= 5 else "an exchange holiday"
        return (f"--date {day} is not a trading session ({why})"
                + (f"; the previous session is {earlier[-1]}" if earlier else ""))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        first, last, has = con.execute(
            "select min(as_of_date), max(as_of_date), bool_or(as_of_date = ?) from mart.branch_daily", [day]).fetchone()
        missing = _missing_tables(con)
    except duckdb.Error:
        return f"{warehouse} holds no pipeline tables; build it with `crm run`"
    finally:
        con.close()
    if missing:
        return (f"{warehouse} was built by an earlier version: it lacks {', '.join(missing[:3])}"
                f"{f' and {len(missing) - 3} more' if len(missing) > 3 else ''}; rebuild it with `crm run`")
    if not has:
        held = f"it holds {first}..{last}" if first else "it holds no session yet"
        return f"no data for {day} in {warehouse} ({held}); load that session with `crm run --start {day} --end {day}`"
    return None


def _missing_tables(con) -> list[str]:
    """The registry's tables and views that the warehouse file does not hold."""
    from core import tables

    held = {f"{schema}.{name}" for schema, name in con.execute(
        "select schema_name, table_name from duckdb_tables() union all "
        "select schema_name, view_name from duckdb_views()").fetchall()}
    return [t for t in [*(t.name for t in tables.TABLES), *tables.VIEWS] if t not in held]


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
        shutil.rmtree(extracts)
    t0 = time.perf_counter()
    days = gen(extracts, clients=clients, start=dt.date.fromisoformat(start), sessions=sessions,
               seed=seed)
    console.print(f"generated {clients} clients x {len(days)} sessions in {time.perf_counter() - t0:.1f}s")
    warehouse = out / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    from pipelines.runner import instance_dir

    shutil.rmtree(instance_dir(warehouse), ignore_errors=True)  # the previous demo's runs
    _run(extracts, warehouse, None, None)
    from pipelines.assets_report import reports_dir

    report = reports_dir(warehouse) / f"report-{days[-1].isoformat()}.html"
    console.print(f"warehouse: {warehouse}\nreports:   {report.parent}/index.html")
    print(report)


def main() -> None:
    """The `crm` entry point: an error nobody anticipated still ends in one line (its
    traceback goes to a log file whose path is printed), never in a traceback."""
    import tempfile
    import traceback

    try:
        app()
    except Exception as exc:  # noqa: BLE001 - the last resort: typer's own exits are SystemExit
        log = Path(tempfile.gettempdir()) / "crm-error.log"
        log.write_text(traceback.format_exc(), encoding="utf-8")
        console.print(f"details: {log}")
        console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
