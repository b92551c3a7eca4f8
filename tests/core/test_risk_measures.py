"""Prosecutor, journalist and marketer risk, sample uniques and l-diversity, by hand."""

from __future__ import annotations

import pytest

from pseudodesk.core.check.classes import ClassCounter
from pseudodesk.core.check.measures import Diversity, measure
from pseudodesk.core.check.risk import risk_lines, risk_verdict
from pseudodesk.core.errors import ProfileError
from pseudodesk.core.package.reports import risk_to_html
from pseudodesk.core.run.check import assess
from tests.helpers import fixture


def test_the_three_attackers_on_the_fixture(tmp_path):
    """Classes A 4, B 3, C 2, D 1, E 1: 11 people (one per row in each class) in 5 classes."""
    risk, _ = assess(*fixture(tmp_path))
    m = risk.measures
    assert (m.subjects, m.population) == (11, None)
    assert m.prosecutor_max == 1.0  # D and E are alone
    assert m.prosecutor_average == pytest.approx(5 / 11)  # (4 x 1/4 + 3 x 1/3 + 2 x 1/2 + 1 + 1) / 11
    assert m.journalist_max == 1.0 and m.marketer == pytest.approx(5 / 11)  # no population: the extract is it
    assert m.sample_uniques == 2 and m.diversity == []


def test_a_population_lowers_journalist_and_marketer_risk(tmp_path):
    """Drawn from 110 people, each person in the extract stands for 10: D's class is ~10 out there."""
    risk, _ = assess(*fixture(tmp_path, extra="population = 110"))
    m = risk.measures
    assert m.population == 110 and m.prosecutor_max == 1.0  # the prosecutor knows who is in
    assert m.journalist_max == pytest.approx(1 / 10)
    assert m.marketer == pytest.approx(5 / 110)
    text = "\n".join(risk_lines(risk))
    assert "journalist risk, highest: 10.0% (matching against the population; the extract drawn from 110" in text
    assert "marketer risk: 4.5%" in text and "sample uniques: 2 (records whose class is one person)" in text
    assert "prosecutor risk, average: 45.5% (classes over people)" in text


def test_l_diversity_of_a_declared_sensitive_field(tmp_path):
    """By DOB and postcode, every class is of one sex: SEX is given away in all five."""
    extra = 'quasi_identifiers = ["DOB", "POSTCODE"]\nsensitive = ["SEX"]'
    risk, _ = assess(*fixture(tmp_path, extra=extra))
    assert risk.measures.diversity == [Diversity("SEX", 1, 5, 11)]
    assert "In 5 of the groups everyone has the same SEX" in risk_verdict(risk)
    page = risk_to_html(risk)
    assert "Risk measures (as sdcMicro and ARX define them)" in page and "l-diversity of SEX" in page
    assert "5 class(es), 11 record(s), where everyone has the same SEX" in page


def test_l_diversity_counts_distinct_values_per_class():
    counts = ClassCounter(sensitive=1)
    keys = [("a",)] * 4 + [("b",)] * 3 + [("c",)] * 2
    counts.add(keys, None, [["x", "y", "z", "x", "x", "y", "x", "x", ""]])
    m = measure(counts, sensitive=("OUTCOME",))
    assert m.diversity == [Diversity("OUTCOME", 2, 0, 0)]  # a: 3 values, b: 2, c: 2 (a blank is a value)
    counts.add([("d",)], None, [["x"]])
    assert measure(counts, sensitive=("OUTCOME",)).diversity == [Diversity("OUTCOME", 1, 1, 1)]


def test_the_default_quasi_identifiers_leave_out_a_sensitive_field(tmp_path):
    profile, _, _ = fixture(tmp_path, extra='sensitive = ["SEX"]')
    assert profile.quasi_identifiers() == ["DOB", "POSTCODE"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('sensitive = ["PERSON_ID"]', "must be a kept output field that is not a quasi-identifier"),
        ('quasi_identifiers = ["DOB", "SEX"]\nsensitive = ["SEX"]', "not a quasi-identifier"),
        ('sensitive = "SEX"', "must be a list of output field names"),
        ("population = 0", "how many people the extract is drawn from"),
    ],
)
def test_sensitive_fields_and_population_are_checked(tmp_path, extra, message):
    with pytest.raises(ProfileError, match=message):
        fixture(tmp_path, extra=extra)
