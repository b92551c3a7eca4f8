"""The profile's [disclosure] and [aggregate] tables: the disclosure-control rules."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pseudodesk.core.agreement.model import PERSON_ROLES, AggregateOutput, DisclosureRules, OutputField
from pseudodesk.core.agreement.profile_reader import Reader
from pseudodesk.core.errors import ProfileError


def disclosure_rules(r: Reader, doc: dict[str, Any], outputs: tuple[OutputField, ...]) -> DisclosureRules:
    item = doc.get("disclosure", {})
    if not isinstance(item, dict):
        raise ProfileError(r.source, "disclosure", "must be a table")
    r.only(
        item,
        "disclosure",
        {
            "quasi_identifiers",
            "k",
            "reference_date",
            "age_bands",
            "enforce",
            "person",
            "max_suppressed_share",
            "sensitive",
            "population",
            "consistent_releases",
            "suppressed_records",
        },
    )
    enforce = item.get("enforce", False)
    if not isinstance(enforce, bool):
        raise ProfileError(r.source, "disclosure.enforce", "must be true or false")
    names = item.get("quasi_identifiers", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ProfileError(r.source, "disclosure.quasi_identifiers", "must be a list of output field names")
    roles = {o.name: o.role for o in outputs}
    for name in names:
        if name not in roles:
            raise ProfileError(r.source, "disclosure.quasi_identifiers", f"'{name}' is not an output field")
        if roles[name] != "keep":
            raise ProfileError(
                r.source,
                "disclosure.quasi_identifiers",
                f"'{name}' is a {roles[name]} field; only kept values are quasi-identifiers",
            )
    k = item.get("k", 5)
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ProfileError(r.source, "disclosure.k", "must be a whole number, 2 or more")
    reference = item.get("reference_date")
    if reference is not None and not (isinstance(reference, dt.date) and not isinstance(reference, dt.datetime)):
        raise ProfileError(r.source, "disclosure.reference_date", "must be a date written as YYYY-MM-DD without quotes")
    bands_raw = item.get("age_bands")
    bands = DisclosureRules.age_bands
    if bands_raw is not None:
        parsed: list[tuple[int, int]] = []
        for text in bands_raw if isinstance(bands_raw, list) else [None]:
            m = re.match(r"^\s*(\d+)\s*-\s*(\d+)\s*$", text) if isinstance(text, str) else None
            if not m or int(m.group(1)) > int(m.group(2)):
                raise ProfileError(r.source, "disclosure.age_bands", 'must be a list like ["0-4", "5-10", "11-15"]')
            parsed.append((int(m.group(1)), int(m.group(2))))
        if any(b[0] <= a[1] for a, b in zip(parsed, parsed[1:])):
            raise ProfileError(r.source, "disclosure.age_bands", "must be in order and must not overlap")
        bands = tuple(parsed)
    person = item.get("person")
    if person is not None:
        if not isinstance(person, str) or (person and roles.get(person) not in PERSON_ROLES):
            raise ProfileError(
                r.source,
                "disclosure.person",
                'must name the pseudonym output field that identifies a person, or be "" to count rows',
            )
    share = item.get("max_suppressed_share", 0.0)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share < 1:
        raise ProfileError(
            r.source,
            "disclosure.max_suppressed_share",
            "must be a share from 0 up to (not including) 1, e.g. 0.001 for one record in a thousand",
        )
    sensitive = item.get("sensitive", [])
    if not isinstance(sensitive, list) or not all(isinstance(n, str) for n in sensitive):
        raise ProfileError(r.source, "disclosure.sensitive", 'must be a list of output field names, e.g. ["OUTCOME"]')
    for name in sensitive:
        if roles.get(name) != "keep" or name in names:
            raise ProfileError(
                r.source,
                "disclosure.sensitive",
                f"'{name}' must be a kept output field that is not a quasi-identifier",
            )
    population = item.get("population")
    if population is not None and (not isinstance(population, int) or isinstance(population, bool) or population < 1):
        raise ProfileError(
            r.source,
            "disclosure.population",
            "must be a whole number: how many people the extract is drawn from (e.g. a county's children)",
        )
    whole = item.get("suppressed_records", "blank")
    if whole not in ("blank", "exclude"):
        raise ProfileError(r.source, "disclosure.suppressed_records", 'must be "blank" or "exclude"')
    consistent = item.get("consistent_releases", False)
    if not isinstance(consistent, bool):
        raise ProfileError(r.source, "disclosure.consistent_releases", "must be true or false")
    has_person = person if person is not None else next((o.name for o in outputs if o.role in PERSON_ROLES), "")
    if consistent and not (enforce and has_person):
        raise ProfileError(
            r.source,
            "disclosure.consistent_releases",
            "needs enforce = true and a person pseudonym field: it remembers which person's fields were blanked",
        )
    return DisclosureRules(
        tuple(names),
        k,
        reference,
        bands,
        enforce,
        person=person,
        max_suppressed_share=float(share),
        sensitive=tuple(dict.fromkeys(sensitive)),
        population=population,
        consistent_releases=consistent,
        suppressed_records=str(whole),
    )


def aggregate_output(r: Reader, doc: dict[str, Any], outputs: tuple[OutputField, ...]) -> AggregateOutput | None:
    item = doc.get("aggregate")
    if item is None:
        return None
    if not isinstance(item, dict):
        raise ProfileError(r.source, "aggregate", "must be a table")
    r.only(item, "aggregate", {"dimensions", "rule", "threshold", "protection_level"})
    names = item.get("dimensions")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ProfileError(
            r.source, "aggregate.dimensions", 'must list the output fields to count by, e.g. ["POST CODE", "GENDER"]'
        )
    roles = {o.name: o.role for o in outputs}
    for name in names:
        if roles.get(name) != "keep":
            raise ProfileError(r.source, "aggregate.dimensions", f"'{name}' is not a kept output field")
    if len(set(names)) != len(names):
        raise ProfileError(r.source, "aggregate.dimensions", "names a field twice")
    rule = item.get("rule", "threshold")
    if rule not in ("threshold", "nhs_digital"):
        raise ProfileError(r.source, "aggregate.rule", 'must be "threshold" or "nhs_digital"')
    threshold = item.get("threshold", 10)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise ProfileError(r.source, "aggregate.threshold", "must be a whole number, 1 or more")
    level = item.get("protection_level")
    if level is not None and (not isinstance(level, int) or isinstance(level, bool) or level < 1):
        raise ProfileError(
            r.source,
            "aggregate.protection_level",
            "must be a whole number, 1 or more: how wide the range each suppressed count could lie in must be",
        )
    return AggregateOutput(tuple(names), str(rule), threshold, level)
