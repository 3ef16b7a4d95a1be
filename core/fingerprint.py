"""What a session's results are a function of: its files, the settings and the code.

`session_fingerprint` is recorded in quality.loads when a session is loaded; a rerun whose
fingerprint equals the stored one has nothing to change (docs/operations.md, reruns).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import NamedTuple

from .config import Settings
from .extracts import FILES, file_digest, find_file
from .reference import SECURITIES

ROOT = Path(__file__).resolve().parent.parent
CODE = ("core", "models", "sql")  # what computes the warehouse (the report and Dagster wiring do not)
NOT_CODE = ("sql/reports",)
REFERENCE = (SECURITIES,)  # data of the repository the warehouse loads (core/reference.py)


@cache
def code_version() -> str:
    """A digest of every .py and .sql file under core/, models/ and sql/ (the report's SQL
    aside: it reads the warehouse, it does not compute it) and of the reference files the
    warehouse loads (ref.securities): a changed industry changes what reads it."""
    h = hashlib.blake2b(digest_size=16)
    for folder in CODE:
        for p in sorted((ROOT / folder).rglob("*")):
            rel = p.relative_to(ROOT).as_posix()
            if p.suffix in (".py", ".sql") and "__pycache__" not in p.parts and not rel.startswith(NOT_CODE):
                h.update(str(p.relative_to(ROOT)).encode())
                h.update(p.read_bytes())
    for p in REFERENCE:
        h.update(p.relative_to(ROOT).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


class Stamp(NamedTuple):
    """What a session was loaded from: its fingerprint, each file's digest, and the basis
    (settings and code) the fingerprint includes."""

    fingerprint: str | None
    digests: dict[str, str]
    basis: str | None = None


def basis(settings: Settings) -> str:
    """A digest of the settings and the code version: what every session's results share."""
    return hashlib.blake2b(f"{settings.fingerprint()}|{code_version()}".encode(), digest_size=16).hexdigest()


def file_digests(folder: Path) -> dict[str, str]:
    """Each extract file's digest, by file name (e.g. 'trades.csv')."""
    return {p.name: file_digest(p) for p in (find_file(folder, name) for name in FILES)}


def session_fingerprint(digests: dict[str, str], settings: Settings) -> str:
    """One digest of a session's files, the settings and the code version."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(digests):
        h.update(f"{name}={digests[name]};".encode())
    h.update(basis(settings).encode())
    return h.hexdigest()


def stamp_folder(folder: Path, settings: Settings) -> Stamp:
    digests = file_digests(folder)
    return Stamp(session_fingerprint(digests, settings), digests, basis(settings))
