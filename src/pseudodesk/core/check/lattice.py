"""Choosing a generalisation: the lattice search ARX does, over the hierarchies pseudodesk knows.

Each quasi-identifier with a hierarchy can be sent at one of its levels, from what the profile
sends now to the coarsest:

- date of birth: full date, month and year, year, 5-year band of birth years (2010-2014);
- postcode: full, sector, district, area;
- ethnicity: the code, its group (White, Mixed, Asian, Black, Other, Not known).

A field the profile already coarsens starts from that level. Every combination of levels (a
node of the lattice; a few dozen at most) is counted: the records still in classes smaller
than k would have to be suppressed whole, and the node *meets k within the limit* when they
are no more than ``[disclosure] max_suppressed_share`` of the records.

Information loss is Sweeney's precision, as ARX reports it with suppression: for each field
with a hierarchy, how far up it the node goes (0 as sent now, 1 at the top), averaged over
those fields; a suppressed record loses everything, so the loss is
``(1 - s) x precision + s`` with ``s`` the share of records suppressed. The best few nodes that
meet k, least loss first, are what the report offers; none is applied until the IG lead writes
it into the profile.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from pseudodesk.core.check.classes import ClassCounter, Key

HIERARCHIES = {
    "dob": ("", "month_year", "year", "year_band"),
    "postcode": ("", "sector", "district", "area"),
    "ethnicity": ("", "group"),
}
LEVEL_WORDS = {
    "": "as sent",
    "month_year": "month and year",
    "year": "year",
    "year_band": "5-year band",
    "sector": "sector",
    "district": "district",
    "area": "area",
    "group": "group",
}
BEST = 3


@dataclass(frozen=True)
class Option:
    """One node of the lattice: a level for each field with a hierarchy."""

    levels: tuple[tuple[str, str], ...]  # (field, level); "" keeps what the profile sends now
    records_suppressed: int  # records still in classes smaller than k: suppressed whole
    share_suppressed: float
    loss: float  # 0 nothing lost .. 1 everything
    classes: int

    def describe(self) -> str:
        changed = [f"{name} as {LEVEL_WORDS[level]}" for name, level in self.levels if level]
        what = ", ".join(changed) or "everything as sent now"
        return (
            f"{what}: {self.records_suppressed:,} record(s) suppressed ({self.share_suppressed:.1%}), "
            f"information loss {self.loss:.0%}"
        )

    def generalise(self) -> dict[str, str]:
        """The profile's ``generalise`` for each field this option changes."""
        return {name: level for name, level in self.levels if level}


@dataclass
class Search:
    options: list[Option]  # the best few that meet k within the limit, least loss first
    nearest: Option | None  # when none does: the node with the fewest records left at risk
    nodes: int
    limit: int  # records that may be suppressed


def search(
    classes: ClassCounter,
    names: list[str],
    hierarchies: dict[str, list[tuple[str, Callable[[str], str]]]],
    k: int,
    limit: int,
    *,
    best: int = BEST,
    step: Callable[[float], None] | None = None,
) -> Search:
    """Every node of the lattice over ``hierarchies`` (field -> its levels from as-sent up, each
    with the function that coarsens a value as sent to that level)."""
    fields = [name for name in names if name in hierarchies and len(hierarchies[name]) > 1]
    positions = [names.index(name) for name in fields]
    # Each field's distinct values, coarsened once per level.
    distinct = [{key[p] for key in classes.rows} for p in positions]
    tables = [
        [{value: function(value) for value in values} for _, function in hierarchies[name]]
        for name, values in zip(fields, distinct)
    ]
    heights = [len(hierarchies[name]) - 1 for name in fields]
    records = classes.records
    feasible: list[Option] = []
    nearest: Option | None = None
    nodes = list(itertools.product(*(range(h + 1) for h in heights)))
    for done, node in enumerate(nodes, start=1):
        maps = [tables[i][level] for i, level in enumerate(node)]

        def change(key: Key, maps: list[dict[str, str]] = maps) -> Key:
            values = list(key)
            for p, table in zip(positions, maps):
                values[p] = table[values[p]]
            return tuple(values)

        regrouped = classes.regroup(change) if any(node) else classes
        sizes = regrouped.sizes()
        at_risk = sum(regrouped.rows[key] for key, size in sizes.items() if size < k)
        share = at_risk / records if records else 0.0
        precision = sum(level / h for level, h in zip(node, heights)) / len(heights) if heights else 0.0
        option = Option(
            tuple((name, hierarchies[name][level][0]) for name, level in zip(fields, node)),
            at_risk,
            share,
            (1 - share) * precision + share,
            len(sizes),
        )
        if at_risk <= limit:
            feasible.append(option)
        if nearest is None or (at_risk, option.loss) < (nearest.records_suppressed, nearest.loss):
            nearest = option
        if step is not None:
            step(done / len(nodes))
    feasible.sort(key=lambda o: (o.loss, o.records_suppressed, o.levels))
    return Search(feasible[:best], None if feasible else nearest, len(nodes), limit)


def hierarchies_for(
    kinds: dict[str, str], sent: dict[str, str], coarsen: Callable[[str, str], Callable[[str], str]]
) -> dict[str, list[tuple[str, Callable[[str], str]]]]:
    """Each field's levels from what it is sent as now (``sent``: its profile ``generalise``, ""
    for full values) up to the coarsest, with ``coarsen(kind, level)`` giving each function. A
    field sent at a level off its hierarchy (age, age band, categories) has none."""
    out: dict[str, list[tuple[str, Callable[[str], str]]]] = {}
    for name, kind in kinds.items():
        chain = HIERARCHIES.get(kind)
        current = sent.get(name, "")
        if chain is None or current not in chain:
            continue
        levels = chain[chain.index(current) :]
        out[name] = [("", _same)] + [(level, coarsen(kind, level)) for level in levels[1:]]
    return out


def _same(value: str) -> str:
    return value
