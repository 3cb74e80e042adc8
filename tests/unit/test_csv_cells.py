"""CSV injection (CWE-1236): the export writes no cell a spreadsheet reads as a formula, and
the import takes off exactly the quote the export put on, so the round trip is exact."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.csv_export import COLUMNS, JSON_COLUMNS, guard, unguard, write_csv
from console.csv_import import check_file

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HYPERLINK = '=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("-1 step checkout", "'-1 step checkout"),
        ("+1 from sales", "'+1 from sales"),
        ("@here look", "'@here look"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'=genuinely typed so", "''=genuinely typed so"),  # a quote before a formula: one more
        ("''-x", "'''-x"),
        ("'quoted, but no formula", "'quoted, but no formula"),  # a quote before text: as is
        ("'", "'"),
        ("plain = text - fine", "plain = text - fine"),
        ("", ""),
    ],
)
def test_a_cell_is_guarded_only_when_a_spreadsheet_would_read_a_formula(
    cell: str, written: str
) -> None:
    assert guard(cell) == written
    assert unguard(written) == cell


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", " "])))
def test_guarding_is_undone_exactly_and_never_leaves_a_formula(cell: str) -> None:
    written = guard(cell)
    assert unguard(written) == cell
    assert not written.startswith(FORMULA_STARTS)


def test_the_import_reads_a_hand_typed_formula_as_the_text_it_is() -> None:
    """An unguarded `-` or `=` (a file not written by the export) is kept as typed."""
    assert unguard("-2% churn") == "-2% churn"
    assert unguard("=1+1") == "=1+1"


def record(**values: object) -> dict[str, object]:
    empty: dict[str, object] = {name: None for name in COLUMNS}
    return empty | {name: [] for name in JSON_COLUMNS} | values


def test_the_export_writes_no_live_formula_and_the_import_reads_each_title_back() -> None:
    titles = [HYPERLINK, "-1 step checkout", "'=not a formula", "'plain quote", "@channel"]
    out = io.StringIO()
    write_csv(
        [
            record(
                team_id="T1",
                key=f"H-{n}",
                channel_id="C1",
                title=title,
                state="proposed",
                hypothesis=f"We believe {n} for admins will cut tickets",
                owner="UALICE",
                creator="UALICE",
                learned="'starts with a quote",
                created_at="2026-09-01T00:00:00+00:00",
            )
            for n, title in enumerate(titles, start=1)
        ],
        out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert [row[3] for row in rows[1:]] == [
        "'" + HYPERLINK,
        "'-1 step checkout",
        "''=not a formula",
        "'plain quote",
        "'@channel",
    ]
    assert out.getvalue().startswith('"team_id","key"')  # every cell quoted

    checked = check_file(io.StringIO(out.getvalue()), NOW)

    assert checked.errors == []
    assert [row.title for row in checked.rows] == titles
    assert {row.learned for row in checked.rows} == {"'starts with a quote"}
