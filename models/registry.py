"""Fitted models on disk: `<warehouse folder>/models/<name>-<version>.joblib`.

The version (the fit's session, ISO date) is recorded in mart.model_runs, which is where
the assets look up the model in force on a day.
"""

from __future__ import annotations

from pathlib import Path

import joblib


def model_dir(database: str | Path) -> Path:
    """The models folder beside a DuckDB warehouse file."""
    return Path(database).resolve().parent / "models"


def model_path(folder: Path, name: str, version: str) -> Path:
    return Path(folder) / f"{name}-{version}.joblib"


def save_model(obj: object, folder: Path, name: str, version: str) -> Path:
    path = model_path(folder, name, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(obj, path)
    return path


def load_model(folder: Path, name: str, version: str) -> object | None:
    """The stored model, or None when its file is missing (then the asset refits)."""
    path = model_path(folder, name, version)
    return joblib.load(path) if path.exists() else None
