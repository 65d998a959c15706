"""/staff/pipeline.csv: company names are typed by founders, so a cell that a spreadsheet would
run as a formula is written as text; ids, dates and amounts stay as they are."""
import csv
import io
from decimal import Decimal

import pytest

from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db

NAMES = {
    '=HYPERLINK("https://evil.example","Open")': '\'=HYPERLINK("https://evil.example","Open")',
    "+1+cmd|' /C calc'!A0": "'+1+cmd\\|' /C calc'!A0",
    "-1+2": "'-1+2",
    "@SUM(A1:A2)": "'@SUM(A1:A2)",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "-42": "-42",  # text that is a number is still a number
    "Parsewell": "Parsewell",
}


def test_formula_cells_are_escaped_and_numbers_are_not(client, staff_user):
    intakes = {IntakeFactory(company_name=name).pk: name for name in NAMES}
    client.force_login(staff_user)
    response = client.get("/staff/pipeline.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    assert {int(row["intake_id"]): row["company_name"] for row in rows} == {
        pk: NAMES[name] for pk, name in intakes.items()}
    for row in rows:
        assert Decimal(row["credits_approved_usd"]) == 0 and row["intake_at"][:1].isdigit()


def test_the_csv_writer_leaves_numbers_alone_and_quotes_formulas():
    from core.exports import csv_writer

    out = io.StringIO()
    csv_writer(out).writerow([Decimal("-12.50"), -7, 1.5, "-3", "-3.25", "1,000", "=1", "-", "-1e5", None, True])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [
        "-12.50", "-7", "1.5", "-3", "-3.25", "1,000", "'=1", "'-", "'-1e5", "", "True"]


def test_every_csv_the_app_writes_goes_through_the_safe_writer():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    plain_writer = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(root)) for package in ("cloudroute", "intake", "matching", "bakeoff_jobs")
        for path in (root / package).rglob("*.py")
        if path.name != "exports.py" and plain_writer.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "write CSV with core.exports.csv_writer"
