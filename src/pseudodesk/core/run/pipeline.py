"""The run: spreadsheet -> checks -> pseudonyms -> CSV -> encryption -> atomic write.

Data flows one way, in row batches from the start::

    SourceTable.iter_column_batches -> Plan.encode (check + normalise + pseudonymise + strip,
      column by column: pseudodesk.core.package.columns) -> CSV lines -> encryptor -> atomic_output

Every source row gives exactly one output row (nothing is dropped); invalid values
are reported and written blank. The CLI and the GUI both call :func:`run` (and
:func:`check`, its dry twin); neither re-implements a step.

``progress(fraction, message)`` is called with fractions in [0, 1]; ``cancel()`` is
polled between batches and raises :class:`~pseudodesk.core.errors.Cancelled`, after
which nothing is left on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from pseudodesk.core.agreement.mapping import SourceMapping
from pseudodesk.core.agreement.profile import DisclosureRules, OutputField, Profile
from pseudodesk.core.agreement.suggest import squash
from pseudodesk.core.certificates import certificate_fingerprint, load_certificates
from pseudodesk.core.check.report import ACTIONS, CheckReport, FieldStats, Notice, Problem, Reject
from pseudodesk.core.check.scan import FREE_TEXT_CONVENTIONS, Finding, find_identifiers, name_tokens
from pseudodesk.core.conventions import CONVENTIONS, Checked, ColumnContext, ColumnRule, Status
from pseudodesk.core.conventions.base import STATUS_CODES
from pseudodesk.core.errors import (
    Cancelled,
    ChecksBlockExport,
    ExportError,
    KeyProblem,
    ProfileError,
    PseudodeskError,
    ReaderError,
    SourceChanged,
)
from pseudodesk.core.files import atomic_output, slug
from pseudodesk.core.package.columns import OutputColumn, combine, csv_bytes, distinct, every_cell
from pseudodesk.core.package.crypto.cms import write_cms
from pseudodesk.core.package.crypto.sevenzip import generate_passphrase, write_7z
from pseudodesk.core.package.export import CsvEncoder
from pseudodesk.core.progress import Cancel, Progress, never, no_progress
from pseudodesk.core.read.table import COLUMN_BATCH_ROWS, ColumnBatch, RowBatch, SourceTable, columns_from_rows
from pseudodesk.core.threads import in_background, made_ahead
from pseudodesk.core.transform.pseudonym import ProjectKey, Pseudonymiser

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from pseudodesk.core.audit.log import AuditTrail, Signer
    from pseudodesk.core.transform.aggregate import PublishedTable

MAX_LISTED = 100_000  # problems (and notices) listed per source field, rows changed by the policy; more are counted


@dataclass(frozen=True)
class RunResult:
    output: Path
    method: str  # "cms" or "7z"
    passphrase: str | None = field(repr=False)
    rows_read: int
    rows_written: int
    columns: list[str]
    report: CheckReport
    key_id: str
    key_fingerprint: str
    recipient_fingerprints: list[str]
    csv_sha256: str
    output_sha256: str
    seconds: float
    manifest: Path | None = None
    aggregate: PublishedTable | None = None  # [aggregate] profiles: the counts table that was sent


class MemoCheck:
    """``rule.check`` with a per-column memory: each distinct raw value is checked once.

    Extracts repeat themselves (a gender column has a handful of spellings, a date column a
    few thousand dates), so most values are a dictionary look-up. Rules are deterministic
    once their survey is done; the only side effect a check has, counting an assumption in
    ``rule.notes`` for the report, is recorded with the value and replayed on every hit, so
    the report is the same as without the memory. The memory is bounded: past ``limit``
    distinct values (a column of unique NHS numbers) it stops remembering new ones; with
    ``limit`` 0 the pipeline checks every cell (tests compare the two).
    """

    def __init__(self, rule: ColumnRule, limit: int = 100_000) -> None:
        self.rule = rule
        self.limit = limit
        self._memory: dict[str, tuple[_Verdict, tuple[str, ...]]] = {}  # raw -> verdict, notes it counted

    def __call__(self, raw: str) -> Checked:
        value, code, reason, plain = self._checked([raw], [1])[0]
        return Checked(value, _STATUSES[code], reason, plain)

    def many(self, raw: list[str], counts: Sequence[int], column: Any = None) -> _Results:
        """Check distinct values, value ``k`` standing for ``counts[k]`` cells of the column.

        ``column`` is the same values as an Arrow array: the rule's kernel (if it has one)
        settles what it can at once; the rest go through ``rule.check`` and this memory.
        The report's assumption counts come out as if every cell had been checked.
        """
        size = len(raw)
        verdicts = self.rule.check_many(column) if column is not None and size else None
        handled = verdicts.handled if verdicts is not None else np.zeros(size, dtype=bool)
        rest = np.flatnonzero(~handled).tolist()
        if verdicts is not None and not rest:  # the kernel settled every value
            return _Results(_as_list(verdicts.values), np.asarray(verdicts.status, dtype=np.int8),
                            _as_list(verdicts.reasons), np.asarray(verdicts.plain, dtype=bool))
        values_a = np.empty(size, dtype=object)
        reasons_a = np.empty(size, dtype=object)
        status = np.empty(size, dtype=np.int8)
        plain_a = np.empty(size, dtype=bool)
        if verdicts is not None:
            values_a[handled] = verdicts.values
            reasons_a[handled] = verdicts.reasons
            status[handled] = verdicts.status
            plain_a[handled] = verdicts.plain
        if rest:
            values, codes, reasons, plain = zip(*self._checked([raw[k] for k in rest], [counts[k] for k in rest]))
            values_a[rest] = values
            reasons_a[rest] = reasons
            status[rest] = codes
            plain_a[rest] = plain
        return _Results(values_a.tolist(), status, reasons_a.tolist(), plain_a)

    def _checked(self, values: list[str], counts: Sequence[int]) -> list[_Verdict]:
        memory, rule = self._memory, self.rule
        remembered = memory.get
        out: list[_Verdict] = []
        append = out.append
        for raw, count in zip(values, counts):
            hit = remembered(raw)
            if hit is not None:
                verdict, noted = hit
                for note in noted:
                    rule.notes[note] += count
                append(verdict)
                continue
            kept, rule.notes = rule.notes, Counter()  # what this one check counts, on its own
            try:
                result = rule.check(raw)
            finally:
                fresh, rule.notes = rule.notes, kept
            for note, n in fresh.items():
                kept[note] += n * count
            verdict = (result.value, _KIND[result.status], result.reason, result.plain)
            if len(memory) < self.limit:
                memory[raw] = (verdict, tuple(k for k, n in fresh.items() for _ in range(n)))
            append(verdict)
        return out


def _as_list(items: Any) -> list[str]:
    return items.tolist() if isinstance(items, np.ndarray) else list(items)


_Verdict = tuple[str, int, str, bool]  # a Checked as (value, status code, reason, plain)


@dataclass
class _Results:
    """Checks of a column's distinct values, as columns: value, status code, reason, plain."""

    values: list[str]
    status: np.ndarray
    reasons: list[str]
    plain: np.ndarray


@dataclass
class _Column:
    """A source field to check: where it is read from and its rule for this run."""

    field_id: str
    index: int
    column: str
    rule: ColumnRule
    stats: FieldStats
    check: MemoCheck = field(init=False)

    def __post_init__(self) -> None:
        self.check = MemoCheck(self.rule)


_ACTION_WORDS = {"blank": "blanked", "exclude": "excluded", "block": "blocked"}


class Plan:
    """The column transforms for one profile over one file, and the report they fill."""

    def __init__(self, profile: Profile, table: SourceTable, mapping: SourceMapping,
                 key: ProjectKey | None, *, salt: str | None = None, today: dt.date | None = None) -> None:
        if table.row_count < 0:
            raise ReaderError(table.path, "only the first rows were read for a preview; read the whole file "
                              "before checking or exporting")
        self.profile = profile
        self.table = table
        header = table.header
        resolved = mapping.resolve(profile, header)
        context = ColumnContext(today=today or dt.date.today(), date_system=table.date_system)
        self.report = CheckReport(policy=profile.checks.on_invalid,
                                  stripped_columns=mapping.stripped_columns(profile, header),
                                  source_issues=list(table.issues))
        self.inputs: list[_Column] = []
        for fid, idx in resolved.items():
            sf = profile.source_field(fid)
            stats = FieldStats(fid, sf.label, header[idx], sf.convention)
            self.report.fields[fid] = stats
            self.inputs.append(_Column(fid, idx, header[idx], sf.rule(context), stats))
        slot = {c.field_id: i for i, c in enumerate(self.inputs)}
        self.outputs: list[tuple[str, list[int], Derive | None, frozenset[str] | None]] = []
        for of in profile.output_fields:
            slots = [slot[s] for s in of.sources if s in slot]
            pseudonymiser: Derive | None = None
            scan_skip: frozenset[str] | None = None  # None: not scanned
            if of.role == "pseudonym":
                if key is None:
                    raise KeyProblem("A project key is needed to compute pseudonyms.")
                pseudonymiser = _PseudonymDerive(Pseudonymiser(key, of.name))
            elif of.role == "openpseudonymiser":
                if salt is None:
                    raise KeyProblem(f"Field {of.name} needs an OpenPseudonymiser salt: import it "
                                     "('pseudodesk-cli keys import-salt') and name it in the profile's key.salt_id.")
                pseudonymiser = _OpDerive(of, [self.inputs[i] for i in slots], salt)
            elif of.role == "valid_nhs":
                pseudonymiser = _ValidNhsDerive()
            elif profile.checks.scan_identifiers:
                base = profile.source_field(of.sources[0]).base_convention.name
                if base in FREE_TEXT_CONVENTIONS:
                    scan_skip = frozenset(of.allow_identifiers) | ({base} if base == "person_name" else set())
            self.outputs.append((of.name, slots, pseudonymiser, scan_skip))
            self.report.blank_outputs[of.name] = 0
        self.always_derived = {of.name for of in profile.output_fields if of.role == "valid_nhs"}
        self.coarsen = {of.name: coarsener(of, profile.disclosure, context.today)
                        for of in profile.output_fields if of.generalise or of.categories}
        # [disclosure] enforce: output positions of the quasi-identifiers and what each small class sends instead
        self.suppress: tuple[list[int], dict[tuple[str, ...], tuple[str, ...]]] | None = None
        name_headers = {squash(h) for h in CONVENTIONS["person_name"].headers}
        self.name_columns = [i for i, h in enumerate(header) if squash(h) in name_headers]
        self.needs_survey = any(c.rule.needs_survey for c in self.inputs)
        self.width = len(header)
        scanning = any(skip is not None for *_, skip in self.outputs)
        self.columns_needed = sorted({c.index for c in self.inputs} | (set(self.name_columns) if scanning else set()))

    def survey(self, table: SourceTable, batch_size: int, progress: Progress, cancel: Cancel,
               share: float) -> None:
        """First pass, only for rules that decide per column (dates: day/month order).

        Each distinct value is observed once, in first-seen order (rules decide from which
        values occur, never from how often: see ColumnRule.observe).
        """
        columns = [c for c in self.inputs if c.rule.needs_survey]
        if not columns:
            return
        seen = 0
        total = max(table.row_count, 1)
        observed: list[set[str]] = [set() for _ in columns]
        for batch in table.iter_column_batches(batch_size, [c.index for c in columns]):
            if cancel():
                raise Cancelled()
            for c, already in zip(columns, observed):
                observe = c.rule.observe
                for value in distinct(batch.columns[c.index])[1]:
                    if value not in already:
                        already.add(value)
                        observe(value)
            seen += batch.num_rows
            progress(share * min(seen / total, 1.0), f"Surveyed {seen:,} of {table.row_count:,} rows")

    def finish(self) -> CheckReport:
        """The report, once every row the file was loaded with has been through the checks.

        A CSV is read again for each pass; if it was saved meanwhile (or anything else made a
        pass see other rows), the rows counted now differ from the load's count, and nothing
        built from this pass may go out.
        """
        table = self.table
        if self.report.rows != table.row_count:
            raise SourceChanged(table.path, f"{self.report.rows:,} rows were read, but the file had "
                                f"{table.row_count:,} when it was loaded: it has changed since. Nothing "
                                "was exported; load the file again.")
        for c in self.inputs:
            c.stats.decision = c.rule.decision()
        return self.report

    def transform(self, batch: RowBatch | ColumnBatch) -> tuple[list[list[str]], list[list[bool]]]:
        """Check and transform one batch; returns the rows to write and their 'plain' flags."""
        columns, written = self.output_columns(batch)
        if not columns:
            return [[] for _ in range(written)], [[] for _ in range(written)]
        values = [c.row_values() for c in columns]
        plain = [c.row_plain() for c in columns]
        return list(map(list, zip(*values))), list(map(list, zip(*plain)))

    def encode(self, batch: RowBatch | ColumnBatch) -> bytes:
        """Check and transform one batch straight to its CSV lines (what CsvEncoder writes for the rows)."""
        columns, written = self.output_columns(batch)
        return csv_bytes(columns, written)

    def output_columns(self, batch: RowBatch | ColumnBatch) -> tuple[list[OutputColumn], int]:
        """Check one batch column by column; fill the report; return the output columns and rows written.

        Each input column is dictionary-encoded and each distinct value checked once
        (MemoCheck remembers values across batches too); outputs are built per distinct
        value or combination of values, and rows refer to them by index. The report gets
        exactly what a row-by-row pass would give it, in the same order: problems and
        notices by column then row, rejects by row.
        """
        if isinstance(batch, RowBatch):
            batch = next(columns_from_rows([batch], self.width, self.columns_needed))
        report = self.report
        policy = report.policy
        action = ACTIONS[policy]
        n = batch.num_rows
        lines = batch.lines
        checked: list[_Checked] = []
        invalid_rows = np.zeros((len(self.inputs), n), dtype=bool)
        for position, c in enumerate(self.inputs):
            uniques, raw, codes = (distinct if c.check.limit else every_cell)(batch.columns[c.index])
            counts = np.bincount(codes, minlength=len(raw)) if n else np.zeros(len(raw), dtype=np.int64)
            results = c.check.many(raw, counts.tolist(), uniques)
            status = results.status
            for index, total in enumerate(np.bincount(status, weights=counts, minlength=4).tolist()):
                if total:
                    c.stats.counts[_STATUS_NAMES[index]] += int(total)
            bad = status == _INVALID
            row_bad = bad[codes]
            invalid_rows[position] = row_bad
            reasons, values = results.reasons, results.values
            if row_bad.any():
                rows_bad = np.flatnonzero(row_bad)
                room = max(MAX_LISTED - len(c.stats.problems), 0)
                report.truncated += max(len(rows_bad) - room, 0)
                c.stats.problems.extend(
                    Problem(line, c.field_id, c.column, reasons[k], raw[k], action)
                    for line, k in zip(lines[rows_bad[:room]].tolist(), codes[rows_bad[:room]].tolist()))
            noted = (np.array(reasons, dtype=object) != "") & ~bad if reasons else np.zeros(0, dtype=bool)
            if noted.any():
                rows_noted = np.flatnonzero(noted[codes])
                room = max(MAX_LISTED - len(c.stats.notices), 0)
                report.truncated += max(len(rows_noted) - room, 0)
                c.stats.notices.extend(
                    Notice(line, c.field_id, c.column, raw[k], values[k], reasons[k])
                    for line, k in zip(lines[rows_noted[:room]].tolist(), codes[rows_noted[:room]].tolist()))
            usable = (status == _VALID) | (status == _NORMALISED)
            checked.append(_Checked(raw, codes, results, usable))
        bad_any = invalid_rows.any(axis=0) if self.inputs else np.zeros(n, dtype=bool)
        kept: np.ndarray | None = None  # None: every row
        if policy != "block" and bad_any.any():
            word = _ACTION_WORDS[policy]
            ids = [c.field_id for c in self.inputs]
            rows_changed = np.flatnonzero(bad_any)
            if policy == "exclude":
                report.rows_excluded += len(rows_changed)
            else:
                report.rows_blanked += len(rows_changed)
            room = max(MAX_LISTED - len(report.rejects), 0)  # every row counted, the first listed
            report.rejects.extend(
                Reject(int(lines[i]), word, tuple(f for f, bad in zip(ids, invalid_rows[:, i].tolist()) if bad))
                for i in rows_changed[:room].tolist())
            if policy == "exclude":
                kept = np.flatnonzero(~bad_any)
        written = n if kept is None else len(kept)
        columns: list[OutputColumn] = []
        scanned: list[tuple[str, list[str], list[bool], frozenset[str]]] = []
        for name, slots, derive, scan_skip in self.outputs:
            column, usable = self._output(name, [checked[s] for s in slots], derive, n)
            if kept is not None:
                column.codes = column.codes[kept] if column.codes is not None else None
            if name not in self.always_derived:
                assert column.codes is not None
                report.blank_outputs[name] += int(np.count_nonzero(~usable[column.codes]))
                if derive is None and scan_skip is not None:
                    scanned.append((name, column.row_values(), usable[column.codes].tolist(), scan_skip))
            if name in self.coarsen:
                coarse = self.coarsen[name]
                column.values = [coarse(v) if v else v for v in column.values]
                column.plain = [False] * len(column.values)  # an IG lead's group names get the formula check
            columns.append(column)
        if scanned:
            self._scan(scanned, self._name_values(batch, kept), lines.tolist() if kept is None
                       else lines[kept].tolist())
        if self.suppress is not None and columns:
            self._suppress_columns(columns)
        report.rows += n
        report.rows_written += written
        return columns, written

    def _output(self, name: str, parts: list[_Checked], derive: Derive | None,
                n: int) -> tuple[OutputColumn, np.ndarray]:
        """One output column over every row of the batch, and which of its entries are usable."""
        if not parts:  # an output whose sources are not mapped: one entry for every row
            codes = np.zeros(n, dtype=np.int32)
            members = np.zeros((1, 0), dtype=np.int64)
        elif len(parts) == 1:
            codes, members = parts[0].codes, np.arange(len(parts[0].raw)).reshape(-1, 1)
        else:
            codes, members = combine([p.codes for p in parts])
        if name in self.always_derived:
            assert derive is not None
            values = derive.many(*self._derive_inputs(parts, members, None))
            return OutputColumn(values, [True] * len(values), codes), np.ones(len(values), dtype=bool)
        usable = np.full(len(members), bool(parts))
        for j, p in enumerate(parts):
            usable &= p.usable[members[:, j]]
        flags = usable.tolist()
        if derive is None:  # a kept field reads one source; several only for derived outputs
            if not parts:
                return OutputColumn([""], [False], codes), usable
            first = parts[0].results
            if len(parts) == 1:
                values = [v if ok else "" for v, ok in zip(first.values, flags)]
                plain = (first.plain & usable).tolist()
            else:
                values = [first.values[m] if ok else "" for m, ok in zip(members[:, 0].tolist(), flags)]
                plain = (first.plain[members[:, 0]] & usable).tolist()
            return OutputColumn(values, plain, codes), usable
        wanted = np.flatnonzero(usable)
        out = [""] * len(members)
        for i, value in zip(wanted.tolist(), derive.many(*self._derive_inputs(parts, members, wanted))):
            out[i] = value
        return OutputColumn(out, flags, codes), usable

    @staticmethod
    def _derive_inputs(parts: list[_Checked], members: np.ndarray,
                       wanted: np.ndarray | None) -> tuple[list[list[str]], list[list[str]], int]:
        """For each source, its checked value and raw text in each wanted entry; and the entry count."""
        rows = members if wanted is None else members[wanted]
        values: list[list[str]] = []
        raws: list[list[str]] = []
        for j, p in enumerate(parts):
            index = rows[:, j].tolist()
            values.append([p.results.values[k] for k in index])
            raws.append([p.raw[k] for k in index])
        return values, raws, len(rows)

    def _name_values(self, batch: ColumnBatch, kept: np.ndarray | None) -> list[list[str]]:
        """The person-name columns of each written row (the identifier scan looks for these names)."""
        if not self.name_columns:
            n = batch.num_rows if kept is None else len(kept)
            return [[] for _ in range(n)]
        lists = [batch.column_list(i) for i in self.name_columns]
        rows = [list(r) for r in zip(*lists)]
        return rows if kept is None else [rows[i] for i in kept.tolist()]

    def _suppress_columns(self, columns: list[OutputColumn]) -> None:
        assert self.suppress is not None
        positions = self.suppress[0]
        out_values: list[list[str]] = [c.row_values() if p in positions else [] for p, c in enumerate(columns)]
        self._suppress(out_values)
        for p in positions:
            plain = columns[p].row_plain()
            columns[p] = OutputColumn(out_values[p], plain, None)

    def _suppress(self, out_values: list[list[str]]) -> None:
        assert self.suppress is not None
        positions, masks = self.suppress
        names = self.profile.output_names
        for i, key in enumerate(zip(*(out_values[p] for p in positions))):
            sent = masks.get(key)
            if sent is None:
                continue
            for p, before, after in zip(positions, key, sent):
                if before != after:
                    out_values[p][i] = after
                    self.report.suppressed[names[p]] = self.report.suppressed.get(names[p], 0) + 1

    def _scan(self, scanned: list[tuple[str, list[str], list[bool], frozenset[str]]],
              name_values: list[list[str]], lines: list[int]) -> None:
        """Identifiers in kept free-text outputs, row by row (the order the report lists them in)."""
        for position, (row, line) in enumerate(zip(name_values, lines)):
            names: list[str] | None = None
            for name, values, usable, skip in scanned:
                if not usable[position]:
                    continue
                if names is None:
                    names = name_tokens(row)
                for kind, text in find_identifiers(values[position], skip, names):
                    self.report.identifiers_found += 1  # all counted, the first MAX_LISTED listed
                    if len(self.report.findings) < MAX_LISTED:
                        self.report.findings.append(Finding(line, name, kind, text))


INVALID, VALID, NORMALISED = Status.INVALID, Status.VALID, Status.NORMALISED

def coarsener(field_: OutputField, rules: DisclosureRules, today: dt.date) -> Callable[[str], str]:
    """The function that turns a kept value into the coarser one the profile sends instead."""
    from pseudodesk.core.check.risk import generalise_dob, generalise_postcode

    if field_.categories:
        table = field_.categories
        return lambda value: table.get(value, "Other")
    if field_.generalise in ("sector", "district", "area"):
        return lambda value: generalise_postcode(value, field_.generalise)
    reference = rules.reference_date or today
    return lambda value: generalise_dob(value, field_.generalise, reference=reference, bands=rules.age_bands)


class Derive:
    """An output computed from its sources' checked values and raw text, entry by entry."""

    def __call__(self, values: list[str], raws: list[str]) -> str:
        raise NotImplementedError

    def many(self, values: list[list[str]], raws: list[list[str]], count: int) -> list[str]:
        """``values[j][i]``/``raws[j][i]``: source ``j`` of entry ``i``."""
        return [self([v[i] for v in values], [r[i] for r in raws]) for i in range(count)]


class _PseudonymDerive(Derive):
    """HMAC pseudonyms; entries with the same normalised values are hashed once, in one fast loop."""

    def __init__(self, pseudonymiser: Pseudonymiser) -> None:
        self.pseudonymiser = pseudonymiser

    def __call__(self, values: list[str], raws: list[str]) -> str:
        return self.pseudonymiser(values)

    def many(self, values: list[list[str]], raws: list[list[str]], count: int) -> list[str]:
        messages = self.pseudonymiser.messages(values, count)
        unique = dict.fromkeys(messages)
        if len(unique) == len(messages):  # the usual case: each entry is a different value already
            return self.pseudonymiser.many_messages(messages)
        digests = dict(zip(unique, self.pseudonymiser.many_messages(list(unique))))
        return [digests[m] for m in messages]


class _OpDerive(Derive):
    """OpenPseudonymiser's digest over the raw text of the columns, under their labels."""

    def __init__(self, field: OutputField, columns: list[_Column], salt: str) -> None:
        self.labelled = [(field.labels.get(c.field_id, c.column), c.field_id == field.nhs_source) for c in columns]
        self.salt = salt

    def __call__(self, values: list[str], raws: list[str]) -> str:
        from pseudodesk.core.transform import openpseudonymiser as op

        labelled = {label: op.nhs_digits(raw) if is_nhs else raw for (label, is_nhs), raw in zip(self.labelled, raws)}
        return op.digest(labelled, self.salt)


class _ValidNhsDerive(Derive):
    """OpenPseudonymiser's validNHS column from the raw NHS number ("-1" when none is mapped)."""

    def __call__(self, values: list[str], raws: list[str]) -> str:
        from pseudodesk.core.transform.openpseudonymiser import valid_nhs

        return valid_nhs(raws[0]) if raws else "-1"


@dataclass
class _Checked:
    """One input column of a batch after checking: distinct raw values, each row's index, results."""

    raw: list[str]
    codes: np.ndarray
    results: _Results
    usable: np.ndarray  # per distinct value: VALID or NORMALISED


_KIND = STATUS_CODES
_STATUSES = {code: status for status, code in STATUS_CODES.items()}
_STATUS_NAMES = [Status.EMPTY.value, Status.VALID.value, Status.NORMALISED.value, Status.INVALID.value]
_VALID, _NORMALISED, _INVALID = 1, 2, 3


def check_key(profile: Profile, key: ProjectKey) -> None:
    if profile.key.fingerprint and profile.key.fingerprint != key.fingerprint:
        raise KeyProblem(
            f"The key {key.id} (fingerprint {key.fingerprint}) is not the key this agreement names "
            f"(fingerprint {profile.key.fingerprint}). Use the agreement's key; nothing was exported."
        )


def check_review_date(profile: Profile, *, accept_expired: bool, today: dt.date | None = None) -> None:
    today = today or dt.date.today()
    if profile.review_date and profile.review_date < today and not accept_expired:
        raise ProfileError(
            profile.path.name if profile.path else profile.name, "agreement.review_date",
            f"the agreement was due for review on {profile.review_date:%d/%m/%Y}. Ask your information "
            "governance lead for the reviewed profile, or confirm that the agreement is still in force "
            "(--accept-expired-agreement).",
        )


def check(profile: Profile, table: SourceTable, mapping: SourceMapping, *,
          batch_size: int = COLUMN_BATCH_ROWS, progress: Progress = no_progress, cancel: Cancel = never,
          today: dt.date | None = None,
          on_rows: Callable[[list[list[str]]], None] | None = None) -> CheckReport:
    """Validate every value and scan kept columns without producing output (the Check step).

    Pseudonyms are computed with a throwaway key and discarded, so the check follows
    exactly the code path of :func:`run`. ``on_rows`` sees each batch of the rows the export
    would write (kept values as written; pseudonyms under the throwaway key): the
    disclosure risk report counts them.
    """
    plan = Plan(profile, table, mapping, _CHECK_ONLY_KEY, salt="check-only", today=today)
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


def output_stem(profile: Profile, when: dt.datetime) -> str:
    return f"{slug(profile.name, fallback='export')}_{when:%Y%m%d-%H%M%S}"


def run(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    key: ProjectKey,
    out_dir: Path,
    *,
    signer: Signer,
    audit: AuditTrail | None = None,
    name: str | None = None,
    overwrite: bool = False,
    passphrase: str | None = None,
    accept_expired: bool = False,
    allow_demo_recipient: bool = False,
    salt: str | None = None,
    batch_size: int = COLUMN_BATCH_ROWS,
    progress: Progress = no_progress,
    cancel: Cancel = never,
) -> RunResult:
    """Run the agreement over the table; write the encrypted file and its signed manifest into ``out_dir``.

    With ``audit``, the export (or its failure or cancellation) is recorded, and a profile
    that differs from the one last used for the same agreement is recorded as changed.
    """
    base = {"agreement": profile.name, "agreement_version": profile.version, "profile_sha256": profile.sha256,
            "source_file": table.path.name, "key_id": key.id, "key_fingerprint": key.fingerprint}
    if audit is not None:
        previous = audit.last_profile_sha256(profile.name)
        if previous and previous != profile.sha256:
            audit.record("profile.changed", {"agreement": profile.name, "previous_sha256": previous,
                                             "profile_sha256": profile.sha256})
    try:
        result = _run(profile, table, mapping, key, Path(out_dir), signer=signer, name=name, overwrite=overwrite,
                      passphrase=passphrase, accept_expired=accept_expired,
                      allow_demo_recipient=allow_demo_recipient, salt=salt, batch_size=batch_size,
                      progress=progress, cancel=cancel)
    except Cancelled:
        if audit is not None:
            audit.record("export.cancelled", base)
        raise
    except PseudodeskError as error:
        if audit is not None:
            audit.record("export.failed", {**base, "error": type(error).__name__, "reason": str(error)[:500]})
        raise
    if audit is not None:
        report = result.report
        audit.record("export", {**base, "output": result.output.name, "manifest": result.manifest.name
                                if result.manifest else "", "rows_read": result.rows_read,
                                "rows_written": result.rows_written, "rows_excluded": report.rows_excluded,
                                "invalid_values": report.invalid_values, "columns": result.columns,
                                "stripped_columns": report.stripped_columns, "method": result.method,
                                "recipients": result.recipient_fingerprints, "csv_sha256": result.csv_sha256,
                                "encrypted_sha256": result.output_sha256, "manifest_signer": signer.fingerprint})
    return result


def _run(
    profile: Profile,
    table: SourceTable,
    mapping: SourceMapping,
    key: ProjectKey,
    out_dir: Path,
    *,
    signer: Signer,
    name: str | None,
    overwrite: bool,
    passphrase: str | None,
    accept_expired: bool,
    allow_demo_recipient: bool,
    salt: str | None,
    batch_size: int,
    progress: Progress,
    cancel: Cancel,
) -> RunResult:
    from pseudodesk.core.files import file_sha256
    from pseudodesk.core.package.manifest import build_manifest, manifest_path_for, sign_manifest

    started = time.monotonic()
    check_review_date(profile, accept_expired=accept_expired)
    check_key(profile, key)
    plan = Plan(profile, table, mapping, key, salt=salt)
    if profile.disclosure.enforce:
        plan.suppress = _suppression(profile, table, mapping, batch_size, progress, cancel)
    certificates: list[Certificate] = []
    if profile.recipient.mode == "certificate":
        certificates = load_certificates(profile.recipient.certificates)
        if not allow_demo_recipient:
            _refuse_demo_certificate(certificates)
        method, suffix = "cms", ".csv.p7m"
    else:
        passphrase = passphrase or generate_passphrase()
        method, suffix = "7z", ".7z"
    stem = name or output_stem(profile, dt.datetime.now())
    output = out_dir / (stem + suffix)
    manifest_file = manifest_path_for(output)
    for path in (output, manifest_file):
        if path.exists() and not overwrite:
            raise ExportError(f"{path.name} already exists in {path.parent}; choose another name or allow overwriting.")

    # The manifest's hash of the source file, read on a second thread while the run works
    # (hashlib and file reads release the GIL): about 0.1 s less for a 100 MB extract.
    source_digest = in_background(file_sha256, table.path)
    header = CsvEncoder(profile.output_names).encode([])
    digest = hashlib.sha256()
    total = max(table.row_count, 1)
    progress(0.0, "Reading and checking")
    survey_share = 0.25 if plan.needs_survey else 0.0
    plan.survey(table, batch_size, progress, cancel, survey_share)
    end_share = 0.95

    def csv_chunks() -> Iterator[bytes]:
        """The plaintext CSV, batch by batch; it never reaches the disk unencrypted."""
        digest.update(header)
        yield header
        for batch in table.iter_column_batches(batch_size, plan.columns_needed):
            if cancel():
                raise Cancelled()
            data = plan.encode(batch)
            if cancel():
                raise Cancelled()
            digest.update(data)
            done = plan.report.rows
            progress(survey_share + (end_share - survey_share) * min(done / total, 1.0),
                     f"Processed {done:,} of {table.row_count:,} rows")
            yield data
        progress(end_share, "Encrypting" if method == "7z" else "Writing the encrypted file")

    def finished_report() -> CheckReport:
        report = plan.finish()
        if report.rows == 0:
            raise ExportError(f"{table.path.name} has a header but no data rows; nothing to export.")
        blocking = report.blocking_reasons()
        if blocking:
            raise ChecksBlockExport(blocking)
        if report.rows_written == 0:
            raise ExportError("Every row was excluded by the checks; nothing to export.")
        return report

    def encrypt(target: IO[bytes], data: bytes | Iterable[bytes]) -> None:
        if method == "cms":
            write_cms(target, data, certificates, cancel=cancel)
        else:
            assert passphrase is not None
            write_7z(target, data, stem + ".csv", passphrase, cancel=cancel)

    columns = profile.output_names
    published = None
    if profile.aggregate is not None:
        # Counts instead of rows: the rows never become CSV; the published table does.
        from pseudodesk.core.transform.aggregate import publish

        rule = profile.aggregate
        positions = [profile.output_names.index(n) for n in rule.dimensions]
        counts: Counter[tuple[str, ...]] = Counter()
        for batch in table.iter_column_batches(batch_size, plan.columns_needed):
            if cancel():
                raise Cancelled()
            rows, _ = plan.transform(batch)
            counts.update(tuple(row[p] for p in positions) for row in rows)
            done = plan.report.rows
            progress(survey_share + (0.85 - survey_share) * min(done / total, 1.0),
                     f"Counted {done:,} of {table.row_count:,} rows")
        report = finished_report()
        published = publish(counts, list(rule.dimensions), rule.rule, threshold=rule.threshold)
        lines = published.csv_rows()
        columns = lines[0]
        data = CsvEncoder(columns).encode(lines[1:])
        digest.update(data)
        if cancel():
            raise Cancelled()
        progress(0.9, "Encrypting")
        with atomic_output(output, overwrite=overwrite) as f:
            encrypt(f, data)
    else:
        # Both methods stream: each batch is encrypted (7z: compressed, then encrypted) as it is
        # made, so memory does not grow with the input; the batches are made on a second thread
        # meanwhile (zlib and AES release the GIL), two at most waiting. The checks' verdict comes
        # at the end, still inside the atomic write: a blocked or cancelled export leaves only a
        # deleted temporary file.
        with atomic_output(output, overwrite=overwrite) as f:
            encrypt(f, made_ahead(csv_chunks(), name="pseudodesk-csv-batches"))
            report = finished_report()
    result = RunResult(
        output=output,
        method=method,
        passphrase=passphrase if method == "7z" else None,
        rows_read=report.rows,
        rows_written=report.rows_written if published is None else len(published.row_keys) + 1,
        columns=columns,
        report=report,
        key_id=key.id,
        key_fingerprint=key.fingerprint,
        recipient_fingerprints=[certificate_fingerprint(c) for c in certificates],
        csv_sha256=digest.hexdigest(),
        output_sha256=file_sha256(output)[0],
        seconds=0.0,
        aggregate=published,
    )
    progress(0.95, "Signing the manifest")
    try:
        with atomic_output(manifest_file, overwrite=overwrite) as f:
            f.write(sign_manifest(build_manifest(profile, table, result, source_digest.result()), signer))
    except BaseException:
        output.unlink(missing_ok=True)  # never an export without its manifest
        raise
    progress(1.0, "Done")
    return replace(result, manifest=manifest_file, seconds=time.monotonic() - started)


def _suppression(profile: Profile, table: SourceTable, mapping: SourceMapping, batch_size: int,
                 progress: Progress, cancel: Cancel) -> tuple[list[int], dict[tuple[str, ...], tuple[str, ...]]]:
    """A counting pass, then the local suppression that brings every class to k (or a refusal)."""
    from pseudodesk.core.check.risk import SUPPRESSION_ORDER, kind_of, suppression_plan

    counts: Counter[tuple[str, ...]] = Counter()
    names = profile.quasi_identifiers()
    positions = [profile.output_names.index(n) for n in names]

    def collect(rows: list[list[str]]) -> None:
        counts.update(tuple(row[p] for p in positions) for row in rows)

    check(profile, table, mapping, batch_size=batch_size, cancel=cancel, on_rows=collect,  # as the risk report counts
          progress=lambda fraction, message: progress(0.0, f"Counting who could be recognised: {message}"))
    kinds = [kind_of(profile, n) for n in names]
    order = sorted(range(len(names)), key=lambda i: (SUPPRESSION_ORDER.index(kinds[i])
                                                     if kinds[i] in SUPPRESSION_ORDER else len(SUPPRESSION_ORDER), i))
    masks, _, left = suppression_plan(counts, profile.disclosure.k, order)
    if left:
        raise ChecksBlockExport([
            f"the agreement requires every combination of {', '.join(names)} to be shared by at least "
            f"{profile.disclosure.k} records; {left:,} record(s) cannot reach that even with all of those "
            "values blanked. Send more records together, or ask the IG lead to lower k."])
    return positions, masks


def _refuse_demo_certificate(certificates: list[Certificate]) -> None:
    from pseudodesk.core.resources import demo_certificate_fingerprint

    demo = demo_certificate_fingerprint()
    if demo and any(certificate_fingerprint(c) == demo for c in certificates):
        raise ExportError(
            "This profile encrypts to the DEMO recipient certificate, whose private key is published "
            "with pseudodesk: anyone could open the file. Point recipient.certificates at the real "
            "recipient's certificate, or use 'pseudodesk-cli demo' to try the app."
        )
