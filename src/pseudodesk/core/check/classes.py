"""Equivalence classes: records counted by their quasi-identifier values, and, when the export
carries a person pseudonym, the distinct people in each class.

With repeated rows (the same person twice in one extract), counting rows overstates how many
people share a combination: five rows of two people are a class of two. When the profile has
a person field (``[disclosure] person``, by default the first pseudonym output field), a
class's size is the number of distinct pseudonyms in it. A row whose pseudonym is blank (its
identifier was missing or invalid, which the check report lists) cannot be linked to any
other row, so it counts as a person of its own.

People are held as small whole numbers (one per distinct pseudonym), never as the pseudonyms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

Key = tuple[str, ...]


class ClassCounter:
    """Rows per class and, by person, the set of people per class."""

    def __init__(self, *, by_person: bool = False, sensitive: int = 0) -> None:
        self.by_person = by_person
        self.rows: Counter[Key] = Counter()
        # For each declared sensitive field, the distinct values in each class (l-diversity).
        self.sensitive: list[dict[Key, set[str]]] = [{} for _ in range(sensitive)]
        self.people: dict[Key, set[int]] = {}
        self._ids: dict[str, int] = {}
        self._anonymous = 0

    @classmethod
    def of_rows(cls, counts: Mapping[Key, int]) -> ClassCounter:
        """Classes counted by rows alone."""
        counter = cls()
        counter.rows.update(counts)
        return counter

    def add(
        self, keys: list[Key], persons: Iterable[str] | None = None, sensitive: list[list[str]] | None = None
    ) -> None:
        """One class key per row; with ``by_person``, each row's pseudonym alongside; and for each
        sensitive field, each row's value."""
        for values, seen in zip(sensitive or [], self.sensitive, strict=True):
            for key, value in zip(keys, values, strict=True):
                seen.setdefault(key, set()).add(value)
        if not self.by_person:
            self.rows.update(keys)
            return
        assert persons is not None, "counting by person needs each row's pseudonym"
        for key, person in zip(keys, persons, strict=True):
            self.rows[key] += 1
            self.people.setdefault(key, set()).add(self.person_id(person))

    def person_id(self, pseudonym: str) -> int:
        """A small number per distinct pseudonym; a blank one is a person of its own each time."""
        if not pseudonym:
            self._anonymous -= 1
            return self._anonymous
        return self._ids.setdefault(pseudonym, len(self._ids))

    def size(self, key: Key) -> int:
        return len(self.people[key]) if self.by_person else self.rows[key]

    def sizes(self) -> Counter[Key]:
        """Each class's size: people when counting by person, else rows."""
        if self.by_person:
            return Counter({key: len(people) for key, people in self.people.items()})
        return Counter(self.rows)

    @property
    def records(self) -> int:
        return sum(self.rows.values())

    @property
    def persons(self) -> int:
        """Distinct people (rows when not counting by person)."""
        if not self.by_person:
            return self.records
        return len(set().union(*self.people.values())) if self.people else 0

    def __len__(self) -> int:
        return len(self.rows)

    def regroup(self, change: Callable[[Key], Key]) -> ClassCounter:
        """The classes after each key is changed (generalised, blanked); people are merged, so a
        person with rows in two classes that become one counts once."""
        out = ClassCounter(by_person=self.by_person)
        at: dict[Key, int] = {}  # each new class's position in the lists below (one hash per class)
        counts: list[int] = []
        parts: list[list[Key]] = []
        for key, n in self.rows.items():
            new = change(key)
            i = at.get(new)
            if i is None:
                at[new] = len(counts)
                counts.append(n)
                parts.append([key])
            else:
                counts[i] += n
                parts[i].append(key)
        out.rows = Counter(dict(zip(at, counts)))
        if self.by_person:
            people = self.people
            out.people = {
                new: people[keys[0]] if len(keys) == 1 else set().union(*(people[k] for k in keys))
                for new, keys in zip(at, parts)
            }
        return out


def as_classes(counts: Mapping[Key, int] | ClassCounter) -> ClassCounter:
    return counts if isinstance(counts, ClassCounter) else ClassCounter.of_rows(counts)
