"""Where the broker books and team pages are, as file names and as links from the daily report.

Apart from reports/books.py so that the report's templates can link to the books without
importing what writes them (books.py imports render.py).
"""

from __future__ import annotations

import re
from pathlib import Path

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]+")


def file_id(group_id: str | None) -> str:
    """A broker or team id as a file name part: kept when plain, else '~' and its UTF-8 hex
    ('~' cannot occur in a kept id, so two ids never share a file; no id: '~')."""
    if group_id is None:
        return "~"
    return group_id if _SAFE_ID.fullmatch(group_id) else "~" + group_id.encode().hex()


def book_href(broker_id: str | None) -> str:
    """The broker's book, relative to the day's books folder."""
    return f"broker-{file_id(broker_id)}.html"


def team_href(team_id: str | None) -> str:
    """The team's page, relative to the day's books folder."""
    return f"team-{file_id(team_id)}.html"


def books_dir(out_dir: Path) -> Path:
    """The folder of the books: out_dir/books/ (those of the last day written: one day's books
    of a 200k-client branch take ~190 MB, so no history of them is kept)."""
    return Path(out_dir) / "books"


def report_book_href(broker_id: str | None) -> str:
    """The broker's book relative to a report in out_dir."""
    return f"books/{book_href(broker_id)}"


def report_team_href(team_id: str | None) -> str:
    """The team's page relative to a report in out_dir."""
    return f"books/{team_href(team_id)}"
