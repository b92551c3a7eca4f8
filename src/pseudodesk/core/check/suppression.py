"""Local suppression to reach k ([disclosure] enforce): which quasi-identifier values to blank,
class by class, and which records to suppress whole within the agreement's limit.

Greedy and deterministic. First, if the records in classes smaller than k are few enough
(``[disclosure] max_suppressed_share`` of all records), those records are suppressed whole:
every quasi-identifier of theirs is blanked and nothing else changes. Otherwise, for each
position in the suppression order (most identifying first: postcode, date of birth,
ethnicity, gender), that value is blanked in every class still smaller than k, the classes
are counted again, and the same test is made; it stops as soon as no class is smaller than k.
Records still in small classes after every position was blanked are suppressed whole if the
limit allows, and otherwise the export is refused.

A record whose every quasi-identifier is blank carries nothing an intruder could match, so it
is not counted as a class of its own once suppressed. When the export names people,
:func:`consistent_plan` blanks a field for a person in all their rows instead. Records of one class are treated alike,
so the plan maps a class's values to what is sent instead. With a person pseudonym, class sizes
are distinct people (:mod:`.classes`); the limit counts records (rows).
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from pseudodesk.core.check.classes import ClassCounter, Key, as_classes

SUPPRESSION_ORDER = ("postcode", "dob", "ethnicity", "gender")  # most identifying first


class LocalSuppression(NamedTuple):
    masks: dict[Key, Key]  # only classes that change: their values -> what is sent instead
    blanked: Counter[int]  # values blanked at each position (records)
    left: int  # records still in classes smaller than k beyond the limit: the export is refused
    records_suppressed: int  # records whose quasi-identifiers were all blanked, within the limit


def suppression_plan(
    counts: Counter[Key] | ClassCounter, k: int, order: list[int], *, max_records: int = 0
) -> LocalSuppression:
    """The plan for classes counted by rows (a Counter) or by people (a :class:`ClassCounter`);
    ``max_records`` is how many records may be suppressed whole."""
    classes = as_classes(counts)
    current = {values: values for values in classes.rows}
    blanked: Counter[int] = Counter()

    def small_classes() -> tuple[set[Key], int]:
        regrouped = classes.regroup(lambda values: current[values])
        small = {key for key, size in regrouped.sizes().items() if size < k}
        return small, sum(regrouped.rows[key] for key in small)

    def blank(original: Key, position: int) -> None:
        now = current[original]
        if now[position] != "":
            current[original] = now[:position] + ("",) + now[position + 1 :]
            blanked[position] += classes.rows[original]

    small, at_risk = small_classes()
    for position in [-1, *order]:
        if position >= 0:
            for original in classes.rows:
                if current[original] in small:
                    blank(original, position)
            small, at_risk = small_classes()
        if not at_risk:
            break
        if at_risk <= max_records:
            for original in classes.rows:
                if current[original] in small:
                    for p in range(len(original)):
                        blank(original, p)
            return LocalSuppression(_changed(current), blanked, 0, at_risk)
    return LocalSuppression(_changed(current), blanked, at_risk, 0)


def _changed(current: dict[Key, Key]) -> dict[Key, Key]:
    return {original: now for original, now in current.items() if now != original}


def consistent_plan(
    keys: list[Key], persons: list[str], k: int, order: list[int], *, max_records: int = 0
) -> tuple[LocalSuppression, dict[str, frozenset[int]]]:
    """The plan when the export names people: a field is blanked for a *person*, in all their
    rows, or the release linked with itself on the pseudonym would give a blanked value back.

    ``keys`` and ``persons`` are each row's class and pseudonym (a blank pseudonym is a person
    of its own, row by row). The same greedy as :func:`suppression_plan`, by people: for each
    position in ``order``, everyone in a class still smaller than k has that field blanked in
    all their rows, the classes are counted again (a person's other rows may now make a small
    class elsewhere), and so on until nothing more changes at that position; whole-record
    suppression within ``max_records`` as there. Returns the plan (its masks only for the rows
    with no pseudonym, by class) and each pseudonym's blanked positions.
    """
    ids = [person or f"\0{row}" for row, person in enumerate(persons)]
    width = len(keys[0]) if keys else 0
    forced: dict[str, set[int]] = {}

    def state() -> tuple[list[Key], set[Key], int]:
        current = [_blanked(key, forced.get(i)) for key, i in zip(keys, ids)]
        classes = ClassCounter(by_person=True)
        classes.add(current, ids)
        small = {key for key, size in classes.sizes().items() if size < k}
        return current, small, sum(classes.rows[key] for key in small)

    whole = 0
    current, small, at_risk = state()
    for position in [-1, *order]:
        while position >= 0 and at_risk > max_records:
            grew = False
            for key, i in zip(current, ids):
                if key in small and key[position] != "":
                    forced.setdefault(i, set()).add(position)
                    grew = True
            if not grew:
                break
            current, small, at_risk = state()
        if not at_risk:
            break
        if at_risk <= max_records:
            for key, i in zip(current, ids):
                if key in small:
                    forced.setdefault(i, set()).update(range(width))
            whole, at_risk = at_risk, 0
            current = [_blanked(key, forced.get(i)) for key, i in zip(keys, ids)]
            break
    blanked: Counter[int] = Counter()
    masks: dict[Key, Key] = {}
    for key, now, person in zip(keys, current, persons):
        for p, (before, after) in enumerate(zip(key, now)):
            if before != after:
                blanked[p] += 1
        if not person and now != key:
            masks[key] = now
    plan = LocalSuppression(masks, blanked, at_risk, whole)
    return plan, {i: frozenset(p) for i, p in forced.items() if not i.startswith("\0")}


def _blanked(key: Key, positions: set[int] | None) -> Key:
    if not positions:
        return key
    return tuple("" if p in positions else v for p, v in enumerate(key))
