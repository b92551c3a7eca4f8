"""Property tests: every normaliser is idempotent and never raises, on arbitrary text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pseudodesk.core.conventions import CONVENTIONS, ColumnContext, Status

CONTEXT = ColumnContext(today=dt.date(2026, 11, 21))

# Arbitrary text, plus text shaped like the values each convention accepts, so the
# valid paths are exercised too, not only the rejections.
shaped = st.one_of(
    st.text(),
    st.text(alphabet=" \t\u00a0-/.,:()+@'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", max_size=30),
    st.from_regex(r"\A\s?[0-3]?\d[/.\-][01]?\d[/.\-](19|20)?\d\d\s?\Z"),
    st.from_regex(r"\A(19|20)\d\d-[01]\d-[0-3]\d( 00:00:00)?\Z"),
    st.from_regex(r"\A[1-9]\d{0,6}\Z"),
    st.from_regex(r"\A[0-3]?\d[ -](Jan|feb|MAR|April|may|Sept|dec)[ -,]+\d{2,4}\Z"),
    st.from_regex(r"\A ?[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2} ?\Z"),
    st.from_regex(r"\A\d{3}[ -]?\d{3}[ -]?\d{4}\Z"),
    st.from_regex(r"\A[A-Z]\d{11}[0-9A-Z]\Z"),
    st.from_regex(r"\A(\+44 ?|0)[1-9][\d ]{8,11}\Z"),
    st.from_regex(r"\A[a-z.]{1,8}@[A-Za-z]{1,8}\.(org|co\.uk)\Z"),
    st.sampled_from(
        [
            "M",
            "f",
            "Male",
            "girl",
            "1",
            "2",
            "WBRI",
            "White British",
            "A",
            "C",
            "99",
            "X",
            "12",
            "Gypsy or Irish Traveller",
            "WENG",
            " 01 ",
        ]
    ),
)

OPTION_SETS = [
    (name, options)
    for name, conv in sorted(CONVENTIONS.items())
    for options in [{}] + [{spec.name: choice} for spec in conv.options for choice in spec.choices]
]


def fresh(name, options):
    return CONVENTIONS[name].rule(options, CONTEXT)


@pytest.mark.parametrize(("name", "options"), OPTION_SETS, ids=[f"{n}-{o}" for n, o in OPTION_SETS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=shaped)
def test_never_raises_and_is_idempotent(name, options, raw):
    rule = fresh(name, options)
    if rule.needs_survey:
        rule.observe(raw)
    first = rule.check(raw)
    assert isinstance(first.value, str)
    assert first.status in Status
    if first.status is Status.INVALID or first.status is Status.EMPTY:
        assert first.value == ""
        return
    # Normalising the normalised value again changes nothing and is accepted as it is.
    # (A generalised postcode is coarser than a postcode, so it is not re-read as one.)
    if name == "postcode" and options.get("output", "full") != "full":
        return
    # A date column's declared input order (order = "MDY") describes the source, not the
    # DD/MM/YYYY output, so the output is read back as what it is.
    again_rule = fresh(name, CONVENTIONS[name].output_options(options))
    if again_rule.needs_survey:
        again_rule.observe(first.value)
    again = again_rule.check(first.value)
    assert again.value == first.value, (raw, first, again)
    assert again.status is Status.VALID, (raw, first, again)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(shaped, max_size=20))
def test_date_column_survey_never_raises(values):
    rule = fresh("dob", {})
    for v in values:
        rule.observe(v)
    assert isinstance(rule.decision(), str)
    for v in values:
        rule.check(v)
