"""The re-identification risk measures users of sdcMicro and ARX expect, from the classes.

Three attackers (El Emam's and ARX's names), each as the highest risk any record carries and
the average over records, where a record's risk is one over the size of its class as the
attacker sees it:

- **prosecutor**: knows the person is in the extract. A record's risk is 1 / f, f being the
  size of its class in the extract.
- **journalist**: does not know whether the person is in the extract, and matches against the
  population the extract is drawn from. A record's risk is 1 / F, F being the size of its class
  in that population. pseudodesk has no population table; with ``[disclosure] population = N``
  (people in the population) it estimates F = f x N / n, n being the people in the extract
  (every person equally likely to be sampled: sdcMicro's frequency estimate with equal sampling
  weights N / n), and never less than f. Without a population the extract is taken as the whole
  population (F = f), as sdcMicro does with no weights and ARX without a population model, so
  journalist risk equals prosecutor risk: an upper bound.
- **marketer**: wants to re-identify as many people as possible; the share expected to be
  re-identified is the sum over classes of f / F, divided by n: classes / n without a
  population, classes / N with one. It is also the journalist risk averaged over records.

Also: **sample uniques** (records alone in their class) and, for each declared sensitive
field, **distinct l-diversity**: the fewest distinct values of the field within a class (a
class whose members all share one value gives that value away to anyone who can place a
person in the class), with how many classes and records have fewer than two.

Sizes are people when the classes count people (:mod:`.classes`), rows otherwise; every
value, blank included, counts as a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pseudodesk.core.check.classes import ClassCounter


@dataclass(frozen=True)
class Diversity:
    """Distinct l-diversity of one sensitive field."""

    field: str
    l: int  # the fewest distinct values in any class  # noqa: E741
    classes_below_2: int  # classes whose members all share one value
    records_below_2: int


@dataclass
class Measures:
    subjects: int = 0  # n: people (or records) over all classes
    population: int | None = None  # N, when the profile gives one
    prosecutor_max: float = 0.0
    prosecutor_average: float = 0.0
    journalist_max: float = 0.0
    marketer: float = 0.0  # also the journalist risk averaged over records
    sample_uniques: int = 0  # records in classes of size 1
    diversity: list[Diversity] = field(default_factory=list)


def measure(classes: ClassCounter, *, population: int | None = None, sensitive: tuple[str, ...] = ()) -> Measures:
    sizes = classes.sizes()
    out = Measures(population=population)
    n = sum(sizes.values())
    out.subjects = n
    if not n:
        return out
    weight = max(population / n, 1.0) if population else 1.0

    def in_population(f: int) -> float:
        return max(f * weight, float(f))

    out.prosecutor_max = 1 / min(sizes.values())
    out.prosecutor_average = len(sizes) / n  # the mean over subjects of 1 / f
    out.journalist_max = 1 / in_population(min(sizes.values()))
    out.marketer = sum(f / in_population(f) for f in sizes.values()) / n  # the sum of f / F over n
    out.sample_uniques = sum(classes.rows[key] for key, f in sizes.items() if f == 1)
    for name, seen in zip(sensitive, classes.sensitive, strict=True):
        distinct = {key: len(values) for key, values in seen.items()}
        single = [key for key, d in distinct.items() if d < 2]
        out.diversity.append(
            Diversity(name, min(distinct.values(), default=0), len(single), sum(classes.rows[key] for key in single))
        )
    return out
