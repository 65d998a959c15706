"""CSV the app writes, safe to open in a spreadsheet.

Every writer comes from here. defusedcsv prefixes a text cell that starts with = + - @ | % with a
single quote, so a spreadsheet shows it as text instead of running it as a formula; text that is
a plain number ("-12.5", "1,000") and numeric values (int, Decimal, float) are written as they
are, so numbers stay numbers. On top of that, a text cell starting with a tab or a carriage return
(which some spreadsheets skip before reading a formula) is quoted the same way."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import defusedcsv.csv as defused

_ALSO_ESCAPED = ("\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_ALSO_ESCAPED):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]):
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **fmtparams) -> _SafeWriter:
    """csv.writer(stream) whose cells can never be read as spreadsheet formulas."""
    return _SafeWriter(defused.writer(stream, **fmtparams))
