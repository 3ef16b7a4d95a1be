"""The fitted models live in the warehouse file: a copy of the .duckdb file alone carries
every version, and a rerun on the copy finds the same model in force as the original."""

from __future__ import annotations

import shutil

import duckdb
import polars as pl
import pytest

from core.build import rebuild
from core.db import connect
from models import artefacts

from ..conftest import SMALL_BRANCH_SETTINGS


@pytest.fixture
def copy(small_branch, tmp_path):
    """The warehouse file alone, in a folder of its own."""
    assert not small_branch.with_name(small_branch.name + ".wal").exists()  # all of it is in the file
    path = tmp_path / "elsewhere" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(small_branch, path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["warehouse.duckdb"]
    return path


def segments(con, day) -> pl.DataFrame:
    return con.execute("select client_id, segment, model_version from mart.client_segments "
                       "where as_of_date = ? order by client_id", [day]).pl()


def test_the_copy_holds_every_fitted_version(small_branch, copy):
    with duckdb.connect(str(small_branch), read_only=True) as con:
        fitted = set(con.execute("select distinct model, version from mart.model_runs where rows_train > 0").fetchall())
    with duckdb.connect(str(copy), read_only=True) as con:
        stored = {(name, v) for name in artefacts.NAMES
                  for (v,) in con.execute(f"select version from model.{name}_versions").fetchall()}
        assert {m for m, _ in fitted} == {"segmentation", "churn"}
        assert stored == fitted
        for name, version in fitted:
            model = artefacts.load_model(con, name, version)
            assert model is not None and model.version == version


def test_a_rerun_on_the_copy_uses_the_model_from_the_file(small_branch, copy):
    """Segments of the last session recomputed on the copy equal the original's, model
    version included. Without the stored versions the rerun would fit a model of its own."""
    with duckdb.connect(str(small_branch), read_only=True) as con:
        day = con.execute("select max(as_of_date) from mart.client_segments").fetchone()[0]
        original = segments(con, day)
        fitted_on_day = con.execute("select count(*) from model.segmentation_versions where as_of_date = ?",
                                    [day]).fetchone()[0]
    assert fitted_on_day == 0  # the day's segments came from an earlier fit: the model in force
    assert original.height > 500 and original["model_version"].n_unique() == 1
    with connect(copy) as con:
        con.execute("delete from mart.client_segments where as_of_date = ?", [day])
        rebuild(con, "client_segments", [day], SMALL_BRANCH_SETTINGS)
        assert segments(con, day).equals(original)

        # the converse: with no model in the file, the same rerun fits one of its own that day
        con.execute("delete from model.segmentation_versions")
        rebuild(con, "client_segments", [day], SMALL_BRANCH_SETTINGS)
        refit = segments(con, day)
    assert refit["model_version"].to_list() == [day.isoformat()] * refit.height
    assert not refit.equals(original)
