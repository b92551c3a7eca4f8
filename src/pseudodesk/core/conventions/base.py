"""The shapes every convention shares: a checked value, a column rule, option specs.

A *convention* (``dob``, ``postcode``...) is catalogue data (description, output
format, accepted input spellings, header names; ``data/catalogue.toml``) plus a
:class:`ColumnRule` class that checks values. A rule is made per column and per run,
because some decisions belong to the column, not the cell: a date column first
*observes* all its values to decide day/month order, then *checks* each one.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):  # noqa: UP042 (a StrEnum would change str() and format() of a status)
    EMPTY = "empty"
    VALID = "valid"  # already in the output form
    NORMALISED = "normalised"  # changed to the output form, unambiguously
    INVALID = "invalid"  # cannot be made valid: reported, then the profile's policy applies


@dataclass(frozen=True)
class Checked:
    value: str
    status: Status
    reason: str = ""  # why it is invalid, or what was assumed while normalising
    plain: bool = False  # a validated plain number or date: exempt from formula neutralising


EMPTY = Checked("", Status.EMPTY)


def invalid(reason: str) -> Checked:
    return Checked("", Status.INVALID, reason)


def settled(value: str, raw: str, reason: str = "", *, plain: bool = False) -> Checked:
    """VALID when the raw text already was the output form, else NORMALISED."""
    return Checked(value, Status.VALID if value == raw else Status.NORMALISED, reason, plain)


OTHER_DIGITS = "written with digits other than 0-9 (another script's digits): retype it with the digits 0-9"


def ascii_form(raw: str) -> str | Checked:
    """``raw`` with compatibility forms folded by Unicode NFKC: full-width digits and letters
    (``９４３``, ``ＳＷ１``), the ideographic space, circled and superscript digits become their
    ASCII twins, so one person's identifier gives one pseudonym however it was typed. Digits of
    another script that NFKC keeps (Arabic-Indic ``٩``, Devanagari ``९``...) are refused, as
    an invalid :class:`Checked`, rather than read: no UK standard writes identifiers in them."""
    if raw.isascii():
        return raw
    text = unicodedata.normalize("NFKC", raw)
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        return invalid(OTHER_DIGITS)
    return text


def ascii_identifier(function: Callable[[str], Checked]) -> Callable[[str], Checked]:
    """A check of an identifier or code written in ASCII, taking text in any compatibility form
    (see :func:`ascii_form`): the check sees the folded text; a value folded to be accepted is
    NORMALISED; a result that would still hold a non-ASCII character is refused. Identifiers
    always leave as ASCII."""

    @functools.wraps(function)
    def check(raw: str) -> Checked:
        text = ascii_form(raw)
        if isinstance(text, Checked):
            return text
        result = function(text)
        if text is raw or result.status in (Status.EMPTY, Status.INVALID):
            return result
        if not result.value.isascii():
            return invalid("holds characters outside A-Z, 0-9 and ordinary punctuation")
        return settled(result.value, raw, result.reason, plain=result.plain)

    return check


@dataclass(frozen=True)
class ColumnContext:
    """Facts about the source that rules may need."""

    today: dt.date = field(default_factory=dt.date.today)
    date_system: int = 1900  # 1904 for workbooks saved with the Mac date system


@dataclass(frozen=True)
class OptionSpec:
    name: str
    choices: tuple[str, ...]
    default: str
    help: str


class ColumnRule:
    """Checks the values of one column under one convention and its options."""

    needs_survey = False

    def __init__(self, options: Mapping[str, Any], context: ColumnContext) -> None:
        self.options = dict(options)
        self.context = context
        self.notes: Counter[str] = Counter()  # assumptions applied, counted for the report

    def observe(self, raw: str) -> None:
        """See one value during the survey pass (only called when ``needs_survey``).

        The survey shows each distinct value of a batch once, in first-seen order: a rule
        must decide from which values occur, not from how often they do.
        """

    def check_many(self, values: Any) -> Verdicts | None:
        """Optional fast path: results for many distinct values at once (a ``pyarrow`` string array).

        Return None, or :class:`Verdicts` for the values it settles exactly as :meth:`check`
        would (the others go through :meth:`check`). Must not count notes. Tests compare
        every kernel with :meth:`check` on generated values.
        """
        return None

    def decision(self) -> str:
        """The column-level decision, in words, for the report ('' when there is none)."""
        return ""

    def check(self, raw: str) -> Checked:
        raise NotImplementedError


class FunctionRule(ColumnRule):
    """A rule that needs no column context: one function per value (and optionally a kernel for many)."""

    def __init__(
        self,
        options: Mapping[str, Any],
        context: ColumnContext,
        function: Callable[[str], Checked],
        kernel: Callable[[Any], Verdicts | None] | None = None,
    ) -> None:
        super().__init__(options, context)
        self._function = function
        self._kernel = kernel

    def check(self, raw: str) -> Checked:
        return self._function(raw)

    def check_many(self, values: Any) -> Verdicts | None:
        return self._kernel(values) if self._kernel is not None else None


STATUS_CODES = {Status.EMPTY: 0, Status.VALID: 1, Status.NORMALISED: 2, Status.INVALID: 3}


@dataclass
class Verdicts:
    """Results for many values at once: for the values where ``handled`` is true, in order.

    ``status`` holds :data:`STATUS_CODES`; ``values``, ``reasons`` and ``plain`` are what
    the :class:`Checked` of each handled value would hold.
    """

    handled: Any  # numpy bool array, one per value given
    values: Any  # list or numpy object array of str
    status: Any  # numpy int8 array
    reasons: Any  # list or numpy object array of str
    plain: Any  # numpy bool array


@dataclass(frozen=True)
class Convention:
    """A named rule with what a partner needs to know about it."""

    name: str
    description: str
    output_format: str
    inputs: tuple[str, ...]  # accepted input spellings, as shown to users
    headers: tuple[str, ...]  # column headers that suggest this convention
    make_rule: Callable[[Mapping[str, Any], ColumnContext], ColumnRule]
    options: tuple[OptionSpec, ...] = ()
    identifier: bool = False  # a direct identifier: scanned for in kept columns
    suggest_from_values: bool = False  # values alone are distinctive enough to suggest it
    read_back: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # see output_options

    @property
    def plain_name(self) -> str:
        """What the convention checks, in a partner's words ("Date of birth", "UK postcode"): the
        description up to its first stop, colon or comma. The id (``dob``) is for details views."""
        return re.split(r"[.:,]", self.description, maxsplit=1)[0].strip() or self.name

    def output_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Options that read this convention's own output back: input-side choices (a date
        column's day/month order, a gender column's input code scheme) are replaced by what
        the output format implies. Normalising is idempotent under these options."""
        merged = {**self.option_defaults(), **options}
        return self.read_back(merged) if self.read_back else merged

    def option_defaults(self) -> dict[str, str]:
        return {o.name: o.default for o in self.options}

    def validate_options(self, options: Mapping[str, Any]) -> str | None:
        """None when fine, else the problem in words."""
        specs = {o.name: o for o in self.options}
        for key, value in options.items():
            spec = specs.get(key)
            if spec is None:
                allowed = ", ".join(specs) or "none"
                return f"'{key}' is not an option of the {self.name} convention (options: {allowed})"
            if spec.choices and value not in spec.choices:
                return f"option '{key}' must be one of {', '.join(spec.choices)} (found '{value}')"
        return None

    def rule(self, options: Mapping[str, Any] | None = None, context: ColumnContext | None = None) -> ColumnRule:
        merged = {**self.option_defaults(), **(options or {})}
        return self.make_rule(merged, context or ColumnContext())
