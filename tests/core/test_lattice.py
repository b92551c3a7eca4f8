"""The generalisation lattice: every combination of levels counted, the least loss that meets k."""

from __future__ import annotations

import pytest

from pseudodesk.core.check.lattice import hierarchies_for
from pseudodesk.core.check.risk import risk_lines, risk_verdict
from pseudodesk.core.conventions.generalise import generalise_dob, generalise_ethnicity
from pseudodesk.core.package.reports import risk_to_html
from pseudodesk.core.run.check import assess
from tests.helpers import fixture


def options(risk):
    return [(o.generalise(), o.records_suppressed, round(o.loss, 4)) for o in risk.lattice.options]


def test_the_least_loss_that_meets_k_on_the_fixture(tmp_path):
    """DOB (4 levels) by POSTCODE (4 levels): 16 nodes. By district, A+D make 4 people (D is one of
    A's), B 3, C+E 3: k = 3
    is met with DOB in full, precision (0 + 2/3) / 2. By area it is met too (0 + 1) / 2; and
    month-and-year with district, (1/3 + 2/3) / 2 (ties in the order of the levels)."""
    risk, _ = assess(*fixture(tmp_path))
    assert risk.lattice.nodes == 16 and risk.lattice.limit == 0
    assert options(risk) == [
        ({"POSTCODE": "district"}, 0, 0.3333),
        ({"POSTCODE": "area"}, 0, 0.5),
        ({"DOB": "month_year", "POSTCODE": "district"}, 0, 0.5),
    ]
    assert "The generalisation that meets k and loses least: POSTCODE as district: 0 record(s) suppressed" in (
        risk_verdict(risk)
    )
    text = "\n".join(risk_lines(risk))
    assert "generalisations that meet k = 3 with no record suppressed (least information loss first, of 16):" in text
    assert "  2. POSTCODE as area: 0 record(s) suppressed (0.0%), information loss 50%" in text
    assert "Generalisations that would meet k" in risk_to_html(risk)


def test_a_suppression_limit_lets_lighter_generalisations_through(tmp_path):
    """max_suppressed_share = 0.4 of 11 allows 4 records: sending everything as it is (C, D and E
    suppressed, 4 records) loses 4/11; DOB as it is with postcode sectors, 4 suppressed as well,
    (7/11) x (1/6) + 4/11."""
    risk, _ = assess(*fixture(tmp_path, extra="max_suppressed_share = 0.4"))
    assert risk.lattice.limit == 4
    assert options(risk) == [
        ({"POSTCODE": "district"}, 0, 0.3333),
        ({}, 4, round(4 / 11, 4)),
        ({"POSTCODE": "sector"}, 4, round(7 / 11 / 6 + 4 / 11, 4)),
    ]


def test_when_nothing_meets_k_the_report_says_so(tmp_path):
    """k = 6 counting rows: with birth years in 5-year bands and postcode areas, A, C, D and E
    make 8 (F, LN) and only B's 3 (M, PE) are left: the nearest node."""
    risk, _ = assess(*fixture(tmp_path, extra='person = ""'), k=6)
    assert risk.lattice.options == [] and risk.lattice.nearest is not None
    assert risk.lattice.nearest.generalise() == {"DOB": "year_band", "POSTCODE": "area"}
    assert risk.lattice.nearest.records_suppressed == 3
    lines = risk_lines(risk)
    assert "no generalisation of DOB, SEX, POSTCODE meets k = 6 with no record suppressed" in lines
    assert "  the nearest: DOB as 5-year band, POSTCODE as area: 3 record(s) suppressed (27.3%), information " in (
        "\n".join(lines)
    )
    # Counting people (the fixture repeats 4 NHS numbers), no class ever holds 6.
    people, _ = assess(*fixture(tmp_path), k=6)
    assert any(line.startswith("  even the coarsest leaves every record") for line in risk_lines(people))


def test_a_field_the_profile_already_coarsens_starts_from_that_level():
    def coarsen(kind, level):
        return {"dob": lambda v: generalise_dob(v, level, reference=None), "ethnicity": generalise_ethnicity}[kind]

    found = hierarchies_for(
        {"DOB": "dob", "SEX": "gender", "ETH": "ethnicity", "PC": "postcode"},
        {"DOB": "year", "PC": "age_band"},
        coarsen,
    )
    assert {name: [level for level, _ in levels] for name, levels in found.items()} == {
        "DOB": ["", "year_band"],
        "ETH": ["", "group"],
    }
    assert found["DOB"][1][1]("2013") == "2010-2014" and found["ETH"][1][1]("14") == "Black"


@pytest.mark.parametrize(
    ("level", "value", "expected"),
    [("year_band", "01/02/2012", "2010-2014"), ("year_band", "03/2015", "2015-2019"), ("year", "03/2011", "2011")],
)
def test_birth_year_bands(level, value, expected):
    assert generalise_dob(value, level, reference=None) == expected


@pytest.mark.parametrize(
    ("value", "group"), [("1", "White"), ("8", "Mixed"), ("17", "Asian"), ("15", "Black"), ("WBRI", "White"), ("", "")]
)
def test_ethnicity_groups(value, group):
    assert generalise_ethnicity(value) == group
