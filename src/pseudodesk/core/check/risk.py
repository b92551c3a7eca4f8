"""Re-identification risk of what would leave: equivalence classes over the quasi-identifiers.

A record that is unique on date of birth, postcode, gender and ethnicity can be found by
anyone who knows those facts about a person, key or no key. The risk report counts, over
the *output* values (after checks and normalising, exactly what the export would write),
how many records share each combination of quasi-identifier values (an equivalence class),
how many records sit in classes smaller than k, and which classes are smallest. It also
previews what each available generalisation (date of birth to month and year, year, age or
age band; postcode to sector, district or area) would do to the records at risk, computed
from the same counts without another pass over the file.

A blank value is a value like any other here: two records with no postcode share "".
When the export carries a person pseudonym, a class's size is the number of distinct people
in it, not rows (:mod:`.classes`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from pseudodesk.core.check.classes import ClassCounter, Key, as_classes
from pseudodesk.core.check.lattice import Search
from pseudodesk.core.check.measures import Measures, measure
from pseudodesk.core.conventions.generalise import (
    DEFAULT_AGE_BANDS,
    DOB_LEVELS,
    ETHNICITY_LEVELS,
    POSTCODE_LEVELS,
    generalise_dob,
    generalise_ethnicity,
    generalise_postcode,
)

if TYPE_CHECKING:
    from pseudodesk.core.agreement.model import Profile

DEFAULT_K = 5
WORST_LISTED = 10
KINDS = {"dob": ("dob", "date"), "postcode": ("postcode",), "gender": ("gender",), "ethnicity": ("ethnicity",)}


@dataclass(frozen=True)
class Preview:
    """What one generalisation of one quasi-identifier would do."""

    field: str
    level: str
    records_at_risk: int
    classes: int

    def describe(self, before: int) -> str:
        return f"{self.field} to {self.level.replace('_', ' ')}: records at risk {before:,} -> {self.records_at_risk:,}"


@dataclass
class RiskReport:
    quasi_identifiers: list[str]
    k: int
    records: int = 0
    classes: int = 0
    class_sizes: dict[int, int] = field(default_factory=dict)  # class size -> how many classes have it
    records_at_risk: int = 0  # records in classes smaller than k
    person_field: str = ""  # the pseudonym whose distinct values are the class sizes; "": rows
    people: int = 0  # distinct people (records when there is no person field)
    people_at_risk: int = 0  # people in classes smaller than k (a person may sit in two classes)
    measures: Measures = field(default_factory=Measures)  # prosecutor, journalist, marketer, l-diversity
    lattice: Search | None = None  # the generalisations that would meet k (check.lattice)
    enforced: bool = False  # the agreement blanks values at export to reach k ([disclosure] enforce)
    consistent: bool = False  # ... and keeps a person's blanked fields blank in later releases
    worst: list[tuple[tuple[str, ...], int]] = field(default_factory=list)  # smallest classes, generalised
    previews: list[Preview] = field(default_factory=list)

    @property
    def share_at_risk(self) -> float:
        return self.records_at_risk / self.records if self.records else 0.0

    @property
    def unit(self) -> str:
        """What a class size counts: "people" or "records"."""
        return "people" if self.person_field else "records"

    @property
    def classes_below_k(self) -> int:
        return sum(n for size, n in self.class_sizes.items() if size < self.k)


def analyse(
    counts: Counter[Key] | ClassCounter,
    quasi_identifiers: list[str],
    k: int,
    generalisers: dict[str, dict[str, Callable[[str], str]]] | None = None,
    *,
    step: Callable[[float], None] | None = None,
    person_field: str = "",
    population: int | None = None,
    sensitive: tuple[str, ...] = (),
) -> RiskReport:
    """The report for records counted by their quasi-identifier values (one Counter key per class),
    or for a :class:`ClassCounter` that also holds the people of each class (``person_field``
    names their pseudonym).

    ``generalisers`` maps a quasi-identifier to its available generalisations (level -> function);
    each is previewed by re-counting the classes with that one field generalised, and so is the
    combination of every field's first generalisation that still keeps some detail (date of birth
    to age band, postcode to district). The smallest classes are described with those same coarse
    values (DESCRIBE_LEVELS), never with a full date of birth or postcode. ``step`` hears the share
    of the previews done (each re-counts every class: the long part on a large file), and may
    raise to cancel.
    """
    if k < 2:
        raise ValueError("k must be 2 or more")
    classes = as_classes(counts)
    report = RiskReport(list(quasi_identifiers), k, person_field=person_field if classes.by_person else "")
    class_size = classes.sizes()
    report.records = classes.records
    report.people = classes.persons
    report.classes = len(classes)
    sizes: Counter[int] = Counter(class_size.values())
    report.class_sizes = dict(sorted(sizes.items()))
    report.measures = measure(classes, population=population, sensitive=sensitive)
    small = [key for key, size in class_size.items() if size < k]
    report.records_at_risk = sum(classes.rows[key] for key in small)
    report.people_at_risk = (
        len(set().union(*(classes.people[key] for key in small)))
        if classes.by_person and small
        else report.records_at_risk
    )
    generalisers = generalisers or {}
    describe = {
        quasi_identifiers.index(name): levels[DESCRIBE_LEVELS[kind]]
        for name, levels in generalisers.items()
        for kind in DESCRIBE_LEVELS
        if DESCRIBE_LEVELS[kind] in levels
    }
    smallest = sorted(class_size.items(), key=lambda item: (item[1], item[0]))[:WORST_LISTED]
    report.worst = [
        (tuple(describe[i](v) if i in describe else v for i, v in enumerate(values)), size)
        for values, size in smallest
        if size < k
    ]
    total = sum(len(levels) for levels in generalisers.values()) + (len(describe) > 1)
    done = 0
    for name, levels in generalisers.items():
        position = quasi_identifiers.index(name)
        for level, generalise in levels.items():
            report.previews.append(_preview(classes, {position: generalise}, k, name, level))
            done += 1
            if step is not None:
                step(done / total)
    if len(describe) > 1:
        names = " and ".join(quasi_identifiers[i] for i in sorted(describe))
        report.previews.append(_preview(classes, describe, k, names, "age band / district together"))
    return report


DESCRIBE_LEVELS = {"dob": "age_band", "postcode": "district"}


def _preview(classes: ClassCounter, change: dict[int, Callable[[str], str]], k: int, name: str, level: str) -> Preview:
    # Each distinct value is generalised once.
    tables = {i: {v: f(v) for v in {key[i] for key in classes.rows}} for i, f in change.items()}
    regrouped = classes.regroup(lambda values: tuple(tables[i][v] if i in tables else v for i, v in enumerate(values)))
    at_risk = sum(regrouped.rows[key] for key, size in regrouped.sizes().items() if size < k)
    return Preview(name, level, at_risk, len(regrouped))


def default_generalisers(
    kinds: dict[str, str], *, reference: dt.date, bands: Iterable[tuple[int, int]] = DEFAULT_AGE_BANDS
) -> dict[str, dict[str, Callable[[str], str]]]:
    """The generalisations available for each quasi-identifier, by what kind of value it holds."""
    bands = tuple(bands)
    out: dict[str, dict[str, Callable[[str], str]]] = {}
    for name, kind in kinds.items():
        if kind == "dob":
            out[name] = {
                level: partial(generalise_dob, level=level, reference=reference, bands=bands) for level in DOB_LEVELS
            }
        elif kind == "postcode":
            out[name] = {level: partial(generalise_postcode, level=level) for level in POSTCODE_LEVELS}
        elif kind == "ethnicity":
            out[name] = {level: partial(generalise_ethnicity, level=level) for level in ETHNICITY_LEVELS}
    return out


def kind_of(profile: Profile, output_name: str) -> str:
    """ "dob", "postcode", "gender", "ethnicity" or "" for an output field, from its convention."""
    field_ = next(o for o in profile.output_fields if o.name == output_name)
    base = profile.source_field(field_.sources[0]).base_convention.name
    return next((kind for kind, names in KINDS.items() if base in names), "")


def risk_verdict(risk: RiskReport) -> str:
    """In words: can anyone be picked out, does the export meet the agreement's rule, and what
    the IG lead could change."""
    qis = ", ".join(risk.quasi_identifiers)
    told = "".join(
        f" In {d.classes_below_2:,} of the groups everyone has the same {d.field}, so placing someone in "
        f"such a group tells their {d.field}."
        for d in risk.measures.diversity
        if d.classes_below_2
    )
    if not risk.records_at_risk:
        return (
            f"No one can be picked out: every combination of {qis} in this export is shared by at least "
            f"{risk.k} {risk.unit}, as the agreement requires.{told}"
        )
    picked = (
        f"{risk.records_at_risk:,} of {risk.records:,} records ({risk.share_at_risk:.0%}) could be picked out by "
        f"their {qis}: fewer than {risk.k} {risk.unit} share each of those combinations."
    )
    if risk.enforced:
        return (
            f"{picked} The agreement blanks the values that single them out when you export (the result "
            "says how many), so this release meets its rule"
            + (
                "; a person's blanked fields stay blank in later releases from here."
                if risk.consistent
                else "; releases that can be linked to it can undo that (see below)."
            )
            + told
        )
    best = min(risk.previews, key=lambda p: p.records_at_risk, default=None)
    change = (
        f" For example, {best.field} as {best.level.replace('_', ' ')} would leave {best.records_at_risk:,}."
        if best is not None and best.records_at_risk < risk.records_at_risk
        else ""
    )
    if risk.lattice is not None and risk.lattice.options:
        change = f" The generalisation that meets k and loses least: {risk.lattice.options[0].describe()}."
    return (
        f"{picked} The agreement does not blank them itself, so this export may let someone be identified. "
        "Tell your IG lead before sending: they can change the agreement, by generalising a field or by "
        f"blanking such values at export.{change}{told}"
    )


def risk_lines(risk: RiskReport) -> list[str]:
    """The report as plain lines (CLI, logs); the values in it are generalised facts, never identifiers."""
    lines = [
        risk_verdict(risk),
        f"quasi-identifiers: {', '.join(risk.quasi_identifiers)}; k = {risk.k}",
        f"{risk.records:,} records in {risk.classes:,} equivalence classes",
    ]
    if risk.person_field:
        lines.append(
            f"class sizes count people (distinct {risk.person_field}), not rows: {risk.people:,} people in "
            f"{risk.records:,} records"
        )
    lines.append(
        f"records in classes smaller than {risk.k}: {risk.records_at_risk:,} ({risk.share_at_risk:.1%}) "
        f"in {risk.classes_below_k:,} classes"
    )
    lines.append(f"class size: classes ({risk.unit})")
    for size, n in risk.class_sizes.items():
        if size < risk.k:
            lines.append(f"  {size}: {n:,} ({size * n:,})")
    larger = {size: n for size, n in risk.class_sizes.items() if size >= risk.k}
    if larger:
        lines.append(f"  {risk.k} or more: {sum(larger.values()):,} ({sum(size * n for size, n in larger.items()):,})")
    if risk.worst:
        lines.append("smallest classes (dates of birth as age bands, postcodes as districts):")
        for values, size in risk.worst:
            described = ", ".join(f"{name} {value or '(blank)'}" for name, value in zip(risk.quasi_identifiers, values))
            lines.append(f"  {size} {'person' if risk.person_field and size == 1 else risk.unit}: {described}")
    if risk.previews:
        lines.append("what each generalisation would change:")
        lines.extend("  " + p.describe(risk.records_at_risk) for p in risk.previews)
    lines.extend(lattice_lines(risk))
    lines.append("linked releases: " + linked_releases(risk))
    lines.append("risk measures (as sdcMicro and ARX define them):")
    lines.extend(f"  {name}: {value} ({meaning})" for name, value, meaning in measure_rows(risk))
    return lines


def measure_rows(risk: RiskReport) -> list[tuple[str, str, str]]:
    """Each risk measure as (name, value, what it means), for the command line, the HTML report
    and the window."""
    m, unit = risk.measures, risk.unit
    frame = (
        f"the extract drawn from {m.population:,} people"
        if m.population
        else "no population given: the extract taken as the whole population"
    )
    rows = [
        (
            "prosecutor risk, highest",
            f"{m.prosecutor_max:.1%}",
            "one over the smallest class: someone who knows a person is in the extract",
        ),
        ("prosecutor risk, average", f"{m.prosecutor_average:.1%}", f"classes over {unit}"),
        ("journalist risk, highest", f"{m.journalist_max:.1%}", f"matching against the population; {frame}"),
        (
            "marketer risk",
            f"{m.marketer:.1%}",
            f"the share of {unit} expected to be re-identified by matching everyone; {frame}",
        ),
        (
            "sample uniques",
            f"{m.sample_uniques:,}",
            "records whose class is one person" if risk.person_field else "records alone in their class",
        ),
    ]
    for d in m.diversity:
        rows.append(
            (
                f"l-diversity of {d.field}",
                f"l = {d.l:,}",
                f"{d.classes_below_2:,} class(es), {d.records_below_2:,} record(s), where everyone has the same "
                f"{d.field}",
            )
        )
    return rows


def linked_releases(risk: RiskReport) -> str:
    """The plain statement about releases that can be linked."""
    who = risk.person_field or "a person pseudonym"
    text = (
        "Blanking works within one release only. Releases that can be linked (next month's extract, or "
        f"another partner's under the same key, joined on {who}) undo it: a value blanked in one and sent "
        "in the other can be put back, and groups smaller than k appear again. A generalisation written "
        "into the profile holds for every release; blanking does not."
    )
    if risk.consistent:
        return text + (
            " This agreement keeps a person's field blank in every later release from this installation once "
            "it has been blanked (releases from other installations are not covered)."
        )
    return text + (
        " The agreement can keep a person's blanked fields blank in every later release from this installation "
        "([disclosure] consistent_releases)."
    )


def lattice_lines(risk: RiskReport) -> list[str]:
    """The generalisations that would meet k, best first, or the nearest when none does."""
    found = risk.lattice
    if found is None or found.nodes <= 1:
        return []
    within = f"with at most {found.limit:,} record(s) suppressed" if found.limit else "with no record suppressed"
    if found.options:
        head = f"generalisations that meet k = {risk.k} {within} (least information loss first, of {found.nodes}):"
        return [head] + [f"  {n}. {option.describe()}" for n, option in enumerate(found.options, start=1)]
    lines = [f"no generalisation of {', '.join(risk.quasi_identifiers)} meets k = {risk.k} {within}"]
    nearest = found.nearest
    if nearest is not None and nearest.records_suppressed < risk.records:
        lines.append(f"  the nearest: {nearest.describe()}")
    elif nearest is not None:
        lines.append(
            "  even the coarsest leaves every record in a class smaller than k: fewer quasi-identifiers, "
            "or more records sent together, are needed"
        )
    return lines
