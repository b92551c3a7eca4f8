"""The run: spreadsheet -> checks -> pseudonyms -> CSV -> encryption -> atomic write.

Data flows one way, in row batches from the start::

    SourceTable.iter_column_batches -> Plan.encode (check + normalise + pseudonymise + strip,
      column by column: pseudodesk.core.package.csv_output) -> CSV lines -> encryptor -> atomic_output

Every source row gives exactly one output row (nothing is dropped); invalid values
are reported and written blank. The CLI and the GUI both call :func:`run` (and
:func:`check`, its dry twin); neither re-implements a step.

``progress(fraction, message)`` is called with fractions in [0, 1]; ``cancel()`` is
polled between batches and raises :class:`~pseudodesk.core.errors.Cancelled`, after
which nothing is left on disk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from pseudodesk.core.agreement.header import check_header
from pseudodesk.core.agreement.mapping import SourceMapping
from pseudodesk.core.agreement.model import Profile
from pseudodesk.core.agreement.suggest import squash
from pseudodesk.core.check.memo import MemoCheck, _Results, combine, distinct, every_cell
from pseudodesk.core.check.report import ACTIONS, CheckReport, FieldStats, Notice, Problem, Reject
from pseudodesk.core.check.scan import FREE_TEXT_CONVENTIONS, Finding, find_identifiers, name_tokens
from pseudodesk.core.conventions import CONVENTIONS, ColumnContext, ColumnRule, Status
from pseudodesk.core.errors import (
    Cancelled,
    KeyProblem,
    ReaderError,
    SourceChanged,
)
from pseudodesk.core.package.csv_output import OutputColumn, csv_bytes
from pseudodesk.core.progress import Cancel, Progress
from pseudodesk.core.read.table import ColumnBatch, RowBatch, SourceTable, columns_from_rows
from pseudodesk.core.run.release_history import ReleaseHistory
from pseudodesk.core.transform.derive import Derive, OpDerive, PseudonymDerive, ValidNhsDerive, coarsener
from pseudodesk.core.transform.pseudonym import ProjectKey, Pseudonymiser

MAX_LISTED = 100_000  # problems (and notices) listed per source field, rows changed by the policy; more are counted


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


class OutputPlan(NamedTuple):
    """How one output field is made: from which checked inputs, derived how, scanned for what."""

    name: str
    slots: list[int]  # positions in Plan.inputs of the source fields it reads
    derive: Derive | None  # None: a kept value
    scan_skip: frozenset[str] | None  # identifier kinds the scan allows; None: not scanned


class Suppression(NamedTuple):
    """[disclosure] enforce: the output positions of the quasi-identifiers, and what each
    combination of their values that is shared by fewer than k records sends instead."""

    positions: list[int]
    masks: dict[tuple[str, ...], tuple[str, ...]]
    # [disclosure] consistent_releases: the person field's position and what earlier releases
    # sent blank; every value sent blank here is remembered in it.
    person: int = -1
    history: ReleaseHistory | None = None
    # By person (person >= 0): the positions blanked for each pseudonym, in all their rows;
    # ``masks`` then covers only the rows with no pseudonym.
    forced: dict[str, frozenset[int]] = {}


class Plan:
    """The column transforms for one profile over one file, and the report they fill."""

    def __init__(
        self,
        profile: Profile,
        table: SourceTable,
        mapping: SourceMapping,
        key: ProjectKey | None,
        *,
        salt: str | None = None,
        today: dt.date | None = None,
    ) -> None:
        if table.row_count < 0:
            raise ReaderError(
                table.path,
                "only the first rows were read for a preview; read the whole file before checking or exporting",
            )
        check_header(profile, table)  # a person taken for the header never becomes column names
        self.profile = profile
        self.table = table
        header = table.header
        resolved = mapping.resolve(profile, header)
        context = ColumnContext(today=today or dt.date.today(), date_system=table.date_system)
        self.report = CheckReport(
            policy=profile.checks.on_invalid,
            max_invalid_share=profile.checks.max_invalid_share,
            stripped_columns=mapping.stripped_columns(profile, header),
            source_issues=list(table.issues),
        )
        self.inputs: list[_Column] = []
        for fid, idx in resolved.items():
            sf = profile.source_field(fid)
            stats = FieldStats(
                fid,
                sf.label,
                header[idx],
                sf.convention,
                codings=sf.codings,
                coding=mapping.codings.get(fid, ""),
                checked_as=sf.base_convention.plain_name,
            )
            self.report.fields[fid] = stats
            self.inputs.append(_Column(fid, idx, header[idx], sf.rule(context, coding=mapping.codings.get(fid)), stats))
        slot = {c.field_id: i for i, c in enumerate(self.inputs)}
        self.outputs: list[OutputPlan] = []
        for of in profile.output_fields:
            slots = [slot[s] for s in of.sources if s in slot]
            pseudonymiser: Derive | None = None
            scan_skip: frozenset[str] | None = None  # None: not scanned
            if of.role == "pseudonym":
                if key is None:
                    raise KeyProblem("A project key is needed to compute pseudonyms.")
                pseudonymiser = PseudonymDerive(Pseudonymiser(key, of.name))
            elif of.role == "openpseudonymiser":
                if salt is None:
                    raise KeyProblem(
                        f"Field {of.name} needs an OpenPseudonymiser salt: import it "
                        "('pseudodesk-cli keys import-salt') and name it in the profile's key.salt_id."
                    )
                pseudonymiser = OpDerive(of, [(self.inputs[i].field_id, self.inputs[i].column) for i in slots], salt)
            elif of.role == "valid_nhs":
                pseudonymiser = ValidNhsDerive()
            elif profile.checks.scan_identifiers:
                base = profile.source_field(of.sources[0]).base_convention.name
                if base in FREE_TEXT_CONVENTIONS:
                    scan_skip = frozenset(of.allow_identifiers) | ({base} if base == "person_name" else set())
            self.outputs.append(OutputPlan(of.name, slots, pseudonymiser, scan_skip))
            self.report.blank_outputs[of.name] = 0
        self.always_derived = {of.name for of in profile.output_fields if of.role == "valid_nhs"}
        self.coarsen = {
            of.name: coarsener(of, profile.disclosure, context.today)
            for of in profile.output_fields
            if of.generalise or of.categories
        }
        self.suppress: Suppression | None = None  # set by the export when [disclosure] enforce
        name_headers = {squash(h) for h in CONVENTIONS["person_name"].headers}
        self.name_columns = [i for i, h in enumerate(header) if squash(h) in name_headers]
        self.needs_survey = any(c.rule.needs_survey for c in self.inputs)
        self.width = len(header)
        scanning = any(skip is not None for *_, skip in self.outputs)
        self.columns_needed = sorted({c.index for c in self.inputs} | (set(self.name_columns) if scanning else set()))

    def survey(self, table: SourceTable, batch_size: int, progress: Progress, cancel: Cancel, share: float) -> None:
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
            raise SourceChanged(
                table.path,
                f"{self.report.rows:,} rows were read, but the file had "
                f"{table.row_count:,} when it was loaded: it has changed since. Nothing "
                "was exported; load the file again.",
            )
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
                    for line, k in zip(lines[rows_bad[:room]].tolist(), codes[rows_bad[:room]].tolist())
                )
            noted = (np.array(reasons, dtype=object) != "") & ~bad if reasons else np.zeros(0, dtype=bool)
            if noted.any():
                rows_noted = np.flatnonzero(noted[codes])
                room = max(MAX_LISTED - len(c.stats.notices), 0)
                report.truncated += max(len(rows_noted) - room, 0)
                c.stats.notices.extend(
                    Notice(line, c.field_id, c.column, raw[k], values[k], reasons[k])
                    for line, k in zip(lines[rows_noted[:room]].tolist(), codes[rows_noted[:room]].tolist())
                )
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
                for i in rows_changed[:room].tolist()
            )
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
            self._scan(
                scanned, self._name_values(batch, kept), lines.tolist() if kept is None else lines[kept].tolist()
            )
        if self.suppress is not None and columns:
            written -= self._suppress_columns(columns)
        report.rows += n
        report.rows_written += written
        return columns, written

    def _output(
        self, name: str, parts: list[_Checked], derive: Derive | None, n: int
    ) -> tuple[OutputColumn, np.ndarray]:
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
        if derive is not None and derive.partial_inputs:  # some inputs may be empty, not all
            present = np.zeros(len(members), dtype=bool)
            for j, p in enumerate(parts):
                empty = p.results.status[members[:, j]] == _EMPTY
                usable &= p.usable[members[:, j]] | empty
                present |= ~empty
            usable &= present
        else:
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
    def _derive_inputs(
        parts: list[_Checked], members: np.ndarray, wanted: np.ndarray | None
    ) -> tuple[list[list[str]], list[list[str]], int]:
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

    def _suppress_columns(self, columns: list[OutputColumn]) -> int:
        """Blank (or leave out) what the suppression plan says; returns the rows left out."""
        assert self.suppress is not None
        positions, person = self.suppress.positions, self.suppress.person
        out_values: list[list[str]] = [
            c.row_values() if p in positions or p == person else [] for p, c in enumerate(columns)
        ]
        whole = self._suppress(out_values)
        for p in positions:
            plain = columns[p].row_plain()
            columns[p] = OutputColumn(out_values[p], plain, None)
        if not whole or self.profile.disclosure.suppressed_records != "exclude":
            return 0
        keep = np.ones(len(out_values[positions[0]]), dtype=bool)
        keep[whole] = False
        for p, column in enumerate(columns):
            if column.codes is not None:
                columns[p] = OutputColumn(column.values, column.plain, column.codes[keep])
            else:
                flags = keep.tolist()
                values = [v for v, k in zip(column.values, flags) if k]
                columns[p] = OutputColumn(values, [f for f, k in zip(column.plain, flags) if k], None)
        return len(whole)

    def _suppress(self, out_values: list[list[str]]) -> list[int]:
        """Blank values in place; returns the rows whose every quasi-identifier was blanked."""
        assert self.suppress is not None
        positions, masks, person, history, forced = self.suppress
        names = self.profile.output_names
        leave_out = self.profile.disclosure.suppressed_records == "exclude"
        whole: list[int] = []
        for i, key in enumerate(zip(*(out_values[p] for p in positions))):
            who = out_values[person][i] if person >= 0 else ""
            if who and history is not None:
                kept = tuple("" if v and history.suppressed(who, names[p]) else v for p, v in zip(positions, key))
                self.report.history_suppressed += sum(a != b for a, b in zip(key, kept))
            else:
                kept = key
            if who and person >= 0:  # by person: the fields blanked for them, in every row
                blank = forced.get(who, frozenset())
                sent = tuple("" if j in blank else v for j, v in enumerate(kept)) if blank else kept
            else:
                sent = masks.get(kept, kept)
            if sent is not key and not any(sent) and any(key):
                self.report.records_suppressed += 1
                whole.append(i)
            for p, before, after in zip(positions, key, sent):
                if before != after:
                    out_values[p][i] = after
                    if not (leave_out and whole and whole[-1] == i):
                        self.report.suppressed[names[p]] = self.report.suppressed.get(names[p], 0) + 1
                    if who and history is not None:
                        history.remember(who, names[p])
        return whole

    def _scan(
        self,
        scanned: list[tuple[str, list[str], list[bool], frozenset[str]]],
        name_values: list[list[str]],
        lines: list[int],
    ) -> None:
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


@dataclass
class _Checked:
    """One input column of a batch after checking: distinct raw values, each row's index, results."""

    raw: list[str]
    codes: np.ndarray
    results: _Results
    usable: np.ndarray  # per distinct value: VALID or NORMALISED


_STATUS_NAMES = [Status.EMPTY.value, Status.VALID.value, Status.NORMALISED.value, Status.INVALID.value]
_EMPTY, _VALID, _NORMALISED, _INVALID = 0, 1, 2, 3
