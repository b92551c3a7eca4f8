"""The convention catalogue: named rules that check and normalise values.

``CONVENTIONS`` maps each name to a :class:`Convention` built from
``data/catalogue.toml`` (the words) and the rule modules beside it (the checks).
Profiles may also name conventions from *packs*: data files that give a base
convention fixed options and the agreement's own description (resources/packs/).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pseudodesk.core.conventions.base import (
    Checked,
    ColumnContext,
    ColumnRule,
    Convention,
    FunctionRule,
    OptionSpec,
    Status,
    Verdicts,
)
from pseudodesk.core.conventions.codes import GENDER_OPTIONS, GenderRule
from pseudodesk.core.conventions.dates import OPTIONS as DATE_OPTIONS
from pseudodesk.core.conventions.dates import BirthDateRule, DateRule
from pseudodesk.core.conventions.ethnicity import ETHNICITY_OPTIONS, EthnicityRule
from pseudodesk.core.conventions.identifiers import (
    check_nhs_number,
    check_nhs_numbers,
    check_uln,
    check_upn,
    check_uprn,
    nhs_check_digit,
)
from pseudodesk.core.conventions.op_date import check_op_date
from pseudodesk.core.conventions.places import (
    check_postcode,
    check_postcodes,
    postcode_area,
    postcode_district,
    postcode_sector,
)
from pseudodesk.core.conventions.text import (
    check_address_line,
    check_email,
    check_name_match_key,
    check_person_name,
    check_text,
    check_uk_phone,
    check_uk_phones,
)
from pseudodesk.core.resources import resource_path

__all__ = [
    "CONVENTIONS",
    "Checked",
    "ColumnContext",
    "ColumnRule",
    "Convention",
    "PackConvention",
    "Status",
    "check_email",
    "check_nhs_number",
    "check_postcode",
    "check_text",
    "check_uk_phone",
    "check_uln",
    "check_upn",
    "check_uprn",
    "get_convention",
    "load_pack",
    "nhs_check_digit",
]


def _function_rule(
    function: Callable[[str], Checked],
    kernel: Callable[[Any], Verdicts | None] | None = None,
) -> Callable[[Mapping[str, Any], ColumnContext], ColumnRule]:
    return lambda options, context: FunctionRule(options, context, function, kernel)


POSTCODE_OPTIONS = (
    OptionSpec(
        "output",
        ("full", "sector", "district", "area"),
        "full",
        "full postcode, or generalised: sector (SW1A 2), district (SW1A) or area (SW)",
    ),
)
_GENERALISE = {"full": lambda p: p, "sector": postcode_sector, "district": postcode_district, "area": postcode_area}


NAME_OPTIONS = (
    OptionSpec(
        "output",
        ("as_written", "match_key"),
        "as_written",
        "as written (spaces tidied), or a match key for linkage: upper-case letters A-Z only",
    ),
)


class PersonNameRule(ColumnRule):
    def check(self, raw: str) -> Checked:
        if self.options["output"] == "match_key":
            return check_name_match_key(raw)
        return check_person_name(raw)


def _op_date_rule(options: Mapping[str, Any], context: ColumnContext) -> ColumnRule:
    return FunctionRule(options, context, check_op_date)


class PostcodeRule(ColumnRule):
    def check_many(self, values: Any) -> Verdicts | None:
        return check_postcodes(values) if self.options["output"] == "full" else None

    def check(self, raw: str) -> Checked:
        result = check_postcode(raw)
        level = self.options["output"]
        if level == "full" or result.status in (Status.EMPTY, Status.INVALID):
            return result
        return Checked(_GENERALISE[level](result.value), Status.NORMALISED, f"generalised to {level}")

    def decision(self) -> str:
        level = self.options["output"]
        return "" if level == "full" else f"postcodes generalised to {level}"


_RULES: dict[
    str, tuple[Callable[[Mapping[str, Any], ColumnContext], ColumnRule], tuple[OptionSpec, ...], bool, bool]
] = {
    # name: (rule factory, options, direct identifier?, distinctive enough to suggest from values?)
    "text": (_function_rule(check_text), (), False, False),
    "dob": (BirthDateRule, DATE_OPTIONS, False, True),
    "date": (DateRule, DATE_OPTIONS, False, False),
    "gender": (GenderRule, GENDER_OPTIONS, False, True),
    "postcode": (PostcodeRule, POSTCODE_OPTIONS, True, True),
    "ethnicity": (EthnicityRule, ETHNICITY_OPTIONS, False, True),
    "nhs_number": (_function_rule(check_nhs_number, check_nhs_numbers), (), True, True),
    "upn": (_function_rule(check_upn), (), True, True),
    "uln": (_function_rule(check_uln), (), True, True),
    "uprn": (_function_rule(check_uprn), (), True, False),
    "email": (_function_rule(check_email), (), True, True),
    "uk_phone": (_function_rule(check_uk_phone, check_uk_phones), (), True, True),
    "person_name": (PersonNameRule, NAME_OPTIONS, True, False),
    "op_date": (_op_date_rule, (), False, False),
    "address_line": (_function_rule(check_address_line), (), True, False),
}


def _dates_read_back(options: dict[str, Any]) -> dict[str, Any]:
    return {**options, "order": "DMY"}  # DD/MM/YYYY output is day-first; ISO is unambiguous


def _gender_read_back(options: dict[str, Any]) -> dict[str, Any]:
    target = options["target"]
    return {**options, "coded": target} if target in ("iso5218", "nhs_stated") else options


def _ethnicity_read_back(options: dict[str, Any]) -> dict[str, Any]:
    return {**options, "coded": {"lcp": "lcp", "nhs": "nhs"}.get(options["target"], "auto")}


_READ_BACK = {
    "dob": _dates_read_back,
    "date": _dates_read_back,
    "gender": _gender_read_back,
    "ethnicity": _ethnicity_read_back,
}


def _build() -> dict[str, Convention]:
    text = resources.files("pseudodesk.core.conventions").joinpath("data", "catalogue.toml").read_text("utf-8")
    words = tomllib.loads(text)
    missing = set(_RULES) ^ set(words)
    if missing:
        raise RuntimeError(f"catalogue.toml and the rules disagree about: {sorted(missing)}")
    return {
        name: Convention(
            name,
            words[name]["description"],
            words[name]["output_format"],
            tuple(words[name]["inputs"]),
            tuple(words[name]["headers"]),
            factory,
            options,
            identifier,
            from_values,
            _READ_BACK.get(name),
        )
        for name, (factory, options, identifier, from_values) in _RULES.items()
    }


CONVENTIONS: dict[str, Convention] = _build()


def get_convention(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        known = ", ".join(sorted(CONVENTIONS))
        raise KeyError(f"unknown convention '{name}' (known: {known})") from None


# --- packs ----------------------------------------------------------------------------

PACK_FORMAT = "pseudodesk-pack/1"


@dataclass(frozen=True)
class PackConvention:
    """A convention named by a pack: a base convention with the agreement's options."""

    name: str
    base: Convention
    options: dict[str, Any]
    description: str
    pack: str


class PackError(ValueError):
    """A convention pack is malformed (the profile loader turns this into a ProfileError)."""


@functools.cache
def _read_pack(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def load_pack(reference: str, base_dir: Path | None = None) -> dict[str, PackConvention]:
    """A pack by bundled name (resources/packs/NAME.toml) or by path (relative to ``base_dir``)."""

    if reference.endswith(".toml"):
        path = Path(reference)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
    else:
        path = resource_path("packs", f"{reference}.toml")
    try:
        doc = _read_pack(path.resolve())
    except FileNotFoundError:
        raise PackError(f"convention pack '{reference}' not found (looked for {path})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"convention pack '{reference}' is not valid TOML ({exc})") from None
    if doc.get("pack_format") != PACK_FORMAT:
        raise PackError(f"convention pack '{reference}': pack_format must be \"{PACK_FORMAT}\"")
    out: dict[str, PackConvention] = {}
    for name, spec in doc.get("conventions", {}).items():
        if not isinstance(spec, dict) or "base" not in spec:
            raise PackError(f"convention pack '{reference}': conventions.{name} needs a 'base' convention")
        if spec["base"] not in CONVENTIONS:
            raise PackError(
                f"convention pack '{reference}': conventions.{name}.base: unknown convention '{spec['base']}'"
            )
        base = CONVENTIONS[spec["base"]]
        options = dict(spec.get("options", {}))
        problem = base.validate_options(options)
        if problem:
            raise PackError(f"convention pack '{reference}': conventions.{name}: {problem}")
        out[name] = PackConvention(
            name, base, options, str(spec.get("description", base.description)), str(doc.get("name", reference))
        )
    return out
