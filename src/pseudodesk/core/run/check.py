"""The Check step: every value checked and every kept column scanned, on exactly the export's
code path, without writing anything.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import partial
from typing import Any

from pseudodesk.core.agreement.mapping import SourceMapping
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.check.classes import ClassCounter
from pseudodesk.core.check.lattice import hierarchies_for, search
from pseudodesk.core.check.report import CheckReport
from pseudodesk.core.check.risk import RiskReport, analyse, default_generalisers, kind_of
from pseudodesk.core.check.suppression import SUPPRESSION_ORDER, consistent_plan, suppression_plan
from pseudodesk.core.conventions.generalise import generalise_dob, generalise_ethnicity, generalise_postcode
from pseudodesk.core.errors import (
    Cancelled,
    ChecksBlockExport,
    KeyProblem,
    MappingError,
    NotApproved,
    ProfileError,
)
from pseudodesk.core.keys.approval import UNAPPROVED_RISK, WHAT_TO_DO, Approval
from pseudodesk.core.policy import machine_policy
from pseudodesk.core.progress import Cancel, Progress, never, no_progress
from pseudodesk.core.read.table import COLUMN_BATCH_ROWS, SourceTable
from pseudodesk.core.run.plan import Plan, Suppression
from pseudodesk.core.run.release_history import ReleaseHistory
from pseudodesk.core.transform.pseudonym import ProjectKey


def check_key(profile: Profile, key: ProjectKey) -> None:
    if profile.key.fingerprint and profile.key.fingerprint != key.fingerprint:
        raise KeyProblem(
            f"The key {key.id} (fingerprint {key.fingerprint}) is not the key this agreement names "
            f"(fingerprint {profile.key.fingerprint}). Use the agreement's key; nothing was exported."
        )


def check_mapping_confirmed(mapping: SourceMapping, *, accept: bool) -> None:
    """Refuse to export fields mapped from their values alone that nobody confirmed."""
    if mapping.unconfirmed and not accept:
        guessed = ", ".join(f"'{mapping.columns[f]}' -> {f}" for f in sorted(mapping.unconfirmed))
        raise MappingError(
            f"These columns were matched to the agreement from their values alone, and no header names "
            f"those fields: {guessed}. A wrong guess would send the wrong data. Confirm them in the Map "
            "step; on the command line, save the mapping (--save-mapping), check it and pass it with "
            "--mapping, or accept the guesses with --accept-suggested-mapping. Nothing was exported."
        )


def check_review_date(profile: Profile, *, accept_expired: bool, today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    if profile.review_date and profile.review_date < today and not accept_expired:
        raise ProfileError(
            profile.path.name if profile.path else profile.name,
            "agreement.review_date",
            f"the agreement was due for review on {profile.review_date:%d/%m/%Y}. Ask your information "
            "governance lead for the reviewed profile, or confirm that the agreement is still in force "
            "(--accept-expired-agreement).",
        )


def check(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    *,
    batch_size: int = COLUMN_BATCH_ROWS,
    progress: Progress = no_progress,
    cancel: Cancel = never,
    today: dt.date | None = None,
    on_rows: Callable[[list[list[str]]], None] | None = None,
    key: ProjectKey | None = None,
    salt: str | None = None,
) -> CheckReport:
    """Validate every value and scan kept columns without producing output (the Check step).

    Pseudonyms are computed with a throwaway key and discarded, so the check follows
    exactly the code path of :func:`run`. ``on_rows`` sees each batch of the rows the export
    would write (kept values as written; pseudonyms under the throwaway key): the
    disclosure risk report counts them. ``key`` (and ``salt``) make the real pseudonyms instead,
    for the export's own counting pass.
    """
    plan = Plan(profile, table, mapping, key or _CHECK_ONLY_KEY, salt=salt if key else "check-only", today=today)
    plan.survey(table, batch_size, progress, cancel, 0.3 if plan.needs_survey else 0.0)
    start = 0.3 if plan.needs_survey else 0.0
    total = max(table.row_count, 1)
    for batch in table.iter_column_batches(batch_size, plan.columns_needed):
        if cancel():
            raise Cancelled()
        if on_rows is not None:
            on_rows(plan.transform(batch)[0])
        else:
            plan.output_columns(batch)
        done = plan.report.rows
        progress(start + (1 - start) * min(done / total, 1.0), f"Checked {done:,} of {table.row_count:,} rows")
    return plan.finish()


_CHECK_ONLY_KEY = ProjectKey("check-only", bytes(32))


def suppression(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    batch_size: int,
    progress: Progress,
    cancel: Cancel,
    *,
    key: ProjectKey | None = None,
    salt: str | None = None,
) -> Suppression:
    """A counting pass, then the local suppression that brings every class to k (or a refusal).

    With a person field the pass makes the real pseudonyms (``key``, ``salt``) and keeps each
    row's class and pseudonym: a field blanked in one of a person's rows is blanked in all of
    them (:func:`consistent_plan`). With [disclosure] consistent_releases it first blanks what
    earlier releases sent blank (:mod:`.release_history`)."""

    names = profile.quasi_identifiers()
    history = ReleaseHistory(key, profile.name) if profile.disclosure.consistent_releases and key else None
    by_person = bool(profile.person_field()) and key is not None
    row_keys: list[tuple[str, ...]] = []
    row_people: list[str] = []
    counts, collect = class_counter(profile, names, history, row_keys if by_person else None)
    at = profile.output_names.index(profile.person_field()) if by_person else -1

    def keep(rows: list[list[str]]) -> None:
        collect(rows)
        if by_person:
            row_people.extend(row[at] for row in rows)

    check(
        profile,
        table,
        mapping,
        batch_size=batch_size,
        cancel=cancel,
        on_rows=keep,  # as the risk report counts
        key=key if by_person else None,
        salt=salt,
        progress=lambda fraction, message: progress(0.0, f"Counting who could be recognised: {message}"),
    )
    kinds = [kind_of(profile, n) for n in names]
    order = sorted(
        range(len(names)),
        key=lambda i: (
            SUPPRESSION_ORDER.index(kinds[i]) if kinds[i] in SUPPRESSION_ORDER else len(SUPPRESSION_ORDER),
            i,
        ),
    )
    share = profile.disclosure.max_suppressed_share
    limit = math.floor(share * counts.records + 1e-9)
    forced: dict[str, frozenset[int]] = {}
    if by_person:
        plan, forced = consistent_plan(row_keys, row_people, profile.disclosure.k, order, max_records=limit)
    else:
        plan = suppression_plan(counts, profile.disclosure.k, order, max_records=limit)
    if plan.left:
        unit = "people" if counts.by_person else "records"
        allowed = (
            f" The agreement allows at most {limit:,} record(s) ({share:.2%} of {counts.records:,}) to have all of "
            "them blanked; this needs more."
            if share
            else ""
        )
        raise ChecksBlockExport(
            [
                f"the agreement requires every combination of {', '.join(names)} to be shared by at least "
                f"{profile.disclosure.k} {unit}; {plan.left:,} record(s) cannot reach that even with all of those "
                f"values blanked.{allowed} Send more records together, or ask the IG lead to lower k, generalise "
                "a field or allow a share of records to be suppressed ([disclosure] max_suppressed_share)."
            ]
        )
    return Suppression([profile.output_names.index(n) for n in names], plan.masks, at, history, forced)


def class_counter(
    profile: Profile,
    names: list[str],
    history: ReleaseHistory | None = None,
    keys_out: list[tuple[str, ...]] | None = None,
) -> tuple[ClassCounter, Callable[[list[list[str]]], None]]:
    """Classes over ``names`` counted by the profile's person field (rows when it has none), and
    the callback that adds each batch of output rows to them; with a release ``history``, each
    person's values sent blank before count as blank. ``keys_out`` gets each row's class."""
    positions = [profile.output_names.index(n) for n in names]
    person = profile.person_field()
    sensitive = [profile.output_names.index(n) for n in profile.disclosure.sensitive]
    counts = ClassCounter(by_person=bool(person), sensitive=len(sensitive))
    at = profile.output_names.index(person) if person else -1

    def collect(rows: list[list[str]]) -> None:
        keys = [tuple(row[p] for p in positions) for row in rows]
        if history is not None:
            keys = [
                tuple("" if v and history.suppressed(row[at], n) else v for v, n in zip(key, names))
                for key, row in zip(keys, rows)
            ]
        values = [[row[s] for row in rows] for s in sensitive]
        counts.add(keys, [row[at] for row in rows] if person else None, values)
        if keys_out is not None:
            keys_out.extend(keys)

    return counts, collect


def assess(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    *,
    k: int | None = None,
    batch_size: int = 10_000,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    today: dt.date | None = None,
) -> tuple[RiskReport, CheckReport]:
    """The risk report over what the export would write, and the check report of the same pass."""

    names = profile.quasi_identifiers()
    if not names:
        raise ProfileError(
            profile.path.name if profile.path else profile.name,
            "disclosure.quasi_identifiers",
            "no output field is a quasi-identifier (a kept date of birth, postcode, gender or "
            "ethnicity); name the fields an intruder could know in [disclosure] quasi_identifiers",
        )
    counts, count = class_counter(profile, names)
    say, stop = progress or no_progress, cancel or never
    report = check(
        profile,
        table,
        mapping,
        batch_size=batch_size,
        today=today,
        on_rows=count,
        progress=lambda share, message: say(CHECK_SHARE * share, message),
        cancel=stop,
    )
    rules = profile.disclosure
    reference = rules.reference_date or today or dt.date.today()
    generalisers = default_generalisers(
        {n: kind_of(profile, n) for n in names}, reference=reference, bands=rules.age_bands
    )
    measuring = "Measuring re-identification risk"  # short: the window shows it on one line
    say(CHECK_SHARE, measuring)

    def step(share: float, start: float = CHECK_SHARE, end: float = LATTICE_START) -> None:
        if stop():
            raise Cancelled("Checks cancelled.")
        say(start + (end - start) * share, measuring)

    risk = analyse(
        counts,
        names,
        k or rules.k,
        generalisers,
        step=step,
        person_field=profile.person_field(),
        population=rules.population,
        sensitive=rules.sensitive,
    )
    risk.enforced = rules.enforce
    risk.consistent = rules.consistent_releases
    kinds = {n: kind_of(profile, n) for n in names}
    sent = {o.name: o.generalise for o in profile.output_fields if o.name in kinds}

    def coarsen(kind: str, level: str) -> Callable[[str], str]:
        if kind == "dob":
            return partial(generalise_dob, level=level, reference=reference, bands=rules.age_bands)
        return partial(generalise_postcode if kind == "postcode" else generalise_ethnicity, level=level)

    risk.lattice = search(
        counts,
        names,
        hierarchies_for(kinds, sent, coarsen),
        risk.k,
        math.floor(rules.max_suppressed_share * counts.records + 1e-9),
        step=partial(step, start=LATTICE_START, end=1.0),
    )
    say(1.0, "Checked, and the re-identification risk measured")
    return risk, report


CHECK_SHARE = 0.75  # of a check with risk: the rest is measuring the risk (previews re-count every class)
LATTICE_START = 0.9  # then the generalisation lattice is searched


def check_approval(approval: Approval, *, accepted: bool, demo: bool) -> None:
    """An unapproved profile exports real data only when ``accepted`` (the person confirmed the
    risk) and the machine policy allows it; demo exports of synthetic data are exempt, but only
    where the machine policy allows the demo."""
    if demo:
        machine_policy().require(
            "allow_demo",
            "the demo",
            "Ask IT if you need it for training; real exports under an installed agreement are not affected.",
        )
    if demo or approval.approved:
        return
    machine_policy().require(
        "allow_unapproved_exports",
        "exports under a profile that was not installed from an agreement package",
        WHAT_TO_DO,
    )
    if not accepted:
        raise NotApproved(
            f"Nothing was exported. {UNAPPROVED_RISK} {WHAT_TO_DO} Only if your IG lead has approved this "
            "profile itself, confirm that you accept the risk and export again."
        )


def approval_facts(approval: Approval, *, accepted: bool, demo: bool) -> dict[str, Any]:
    """The manifest's and the audit entry's ``approval``."""
    return {**approval.facts(), "unapproved_accepted": accepted and not demo and not approval.approved}
