"""Fitted models stored in the warehouse: model.<name>_versions holds each version's bytes.

A copy of the .duckdb file is then a complete backup: a rerun on the copy finds the same
models in force as on the original. The version (the fit's session, ISO date) is also
recorded with the fit's metrics in model.<name>_runs.
"""

from __future__ import annotations

import datetime as dt
import io

import duckdb
import joblib

NAMES = ("segmentation", "churn")


def _table(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"unknown model {name!r}")
    return f"model.{name}_versions"


def save_model(con: duckdb.DuckDBPyConnection, name: str, version: str, fitted_on: dt.date, obj: object) -> None:
    """Store (or replace) one version; the caller's transaction makes it atomic with its scores."""
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    con.execute(f"delete from {_table(name)} where version = ?", [version])
    con.execute(f"insert into {_table(name)} values (?, ?, ?)", [version, fitted_on, buf.getvalue()])


def load_model(con: duckdb.DuckDBPyConnection, name: str, version: str) -> object | None:
    row = con.execute(f"select artefact from {_table(name)} where version = ?", [version]).fetchone()
    return joblib.load(io.BytesIO(row[0])) if row else None


def model_in_force(con: duckdb.DuckDBPyConnection, name: str, day: dt.date) -> object | None:
    """The latest version fitted on a session before `day`, or None."""
    row = con.execute(f"select artefact from {_table(name)} where as_of_date < ? "
                      "order by as_of_date desc limit 1", [day]).fetchone()
    return joblib.load(io.BytesIO(row[0])) if row else None


def delete_from(con: duckdb.DuckDBPyConnection, name: str, day: dt.date) -> None:
    """Drop the versions fitted on `day` (the session is being recomputed)."""
    con.execute(f"delete from {_table(name)} where as_of_date = ?", [day])
