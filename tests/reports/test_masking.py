"""PII: names, ID and phone numbers masked; names escaped; nothing unmasked in the HTML."""

from __future__ import annotations

import pytest

from reports.masking import mask_name, mask_number, mask_row

from ..conftest import query
from .conftest import EVIL_BROKER, SCRIPT_NAME, html_of


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"), ("张三丰", "张*丰"), ("欧阳娜娜", "欧**娜"), ("张", "*"), ("", ""), (None, None),
    (SCRIPT_NAME, "<" + "*" * 23 + ">"),
])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_numbers_and_rows():
    assert mask_number("430108117408313314") == "430***********3314"
    assert mask_number("13835371097") == "138****1097"
    assert mask_number("1234567") == "*******"
    assert mask_number(None) is None
    row = mask_row({"client_id": "0731000000", "client_name": "朱丽军",
                    "id_number": "430108117408313314", "phone": "13835371097"})
    assert row == {"client_id": "0731000000", "client_name": "朱*军",
                   "id_number": "430***********3314", "phone": "138****1097"}


def test_escaping(models_report):
    html = html_of(models_report)
    # the client named <script>alert(1)</script> is listed (churn list), masked and escaped
    assert "&lt;" + "*" * 23 + "&gt;" in html
    assert "<script>alert(1)" not in html
    assert "alert(1)" not in html
    # a broker name is not PII: shown in full, as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert EVIL_BROKER not in html
    assert html.count("<script") == 1


def test_no_unmasked_pii(models_report, models_warehouse):
    html = html_of(models_report)
    people = query(models_warehouse, "select distinct client_name, id_number, phone from raw.clients")
    brokers = set(query(models_warehouse, "select distinct broker_name from raw.brokers")["broker_name"])
    assert people.height >= 40
    for name, id_number, phone in people.iter_rows():
        assert id_number not in html
        assert phone not in html
        if name not in brokers:
            assert name not in html, name
    # the masked forms are there (the lists above do show these clients)
    shown = [p for p in people["phone"] if mask_number(p) in html]
    assert len(shown) >= 30
