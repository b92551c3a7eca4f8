"""One benchmark case, run in its own process so its peak memory is its own.

    python benchmarks/cases.py CASE INPUT OUTPUT_DIR

Cases:
  pseudodesk-cms / pseudodesk-7z   the whole pseudodesk run (read, check, normalise,
                                   pseudonymise, strip, write, encrypt) to CMS or 7z
  inspect-cms                      pseudodesk-cli inspect's checks of the CMS export the
                                   pseudodesk-cms case made (INPUT is that .csv.p7m): hashes,
                                   decryption, columns, rows, identifier scan
  floor-csv                        pyarrow.csv read + write of the same five columns
  floor-xlsx                       calamine reading the sheet, nothing else
  baseline-csv / baseline-xlsx     what a capable analyst would write with pandas:
                                   read_csv / read_excel(openpyxl), per-column normalising,
                                   Series.apply with hmac, to_csv, then CMS encryption

Prints one line of JSON: rows written and the seconds the work took.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
KEY = bytes(range(32))
OUTPUT_COLUMNS = ["PERSON_ID", "DOB", "GENDER", "POST CODE", "ETHNICITY"]


def pseudodesk_run(source: Path, out: Path, mode: str) -> int:
    from dataclasses import replace

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pseudodesk.core.agreement.mapping import suggest_mapping
    from pseudodesk.core.agreement.model import KeyRef, Recipient
    from pseudodesk.core.agreement.profile import load_profile
    from pseudodesk.core.package.signing import Signer
    from pseudodesk.core.read.dispatch import read_table
    from pseudodesk.core.resources import DEMO_CERTIFICATE, EXAMPLE_PROFILE, resource_path
    from pseudodesk.core.run.export import ExportOptions, run
    from pseudodesk.core.transform.pseudonym import ProjectKey

    profile = replace(load_profile(resource_path(*EXAMPLE_PROFILE)), key=KeyRef())
    if mode == "7z":
        profile = replace(profile, recipient=Recipient("passphrase"))
    else:
        profile = replace(profile, recipient=Recipient("certificate", (resource_path(*DEMO_CERTIFICATE),)))
    table = read_table(source)
    mapping = suggest_mapping(profile, table.header, table.preview(200))
    options = ExportOptions(
        name="pseudodesk-" + mode,
        overwrite=True,
        accept_expired=True,
        allow_demo_recipient=True,
        unapproved_accepted=True,  # the example profile, not an installed agreement
    )
    result = run(
        profile, table, mapping, ProjectKey("bench", KEY), out, options, signer=Signer(Ed25519PrivateKey.generate())
    )
    return result.rows_written


def inspect_cms(package: Path) -> int:
    from pseudodesk.core.package.inspection import inspect_package
    from pseudodesk.core.resources import DEMO_CERTIFICATE, DEMO_PRIVATE_KEY, resource_path

    result = inspect_package(
        package, certificate=resource_path(*DEMO_CERTIFICATE), private_key=resource_path(*DEMO_PRIVATE_KEY)
    )
    if not (result.ok and result.decrypted):
        raise SystemExit(f"{package.name} did not verify: {result.checks}")
    rows: int = result.manifest["output"]["rows"]
    return rows


def floor_csv(source: Path, out: Path) -> int:
    import pyarrow as pa
    from pyarrow import csv

    names = ["NHS No", "Date of Birth", "Sex", "Postcode", "Ethnicity"]
    convert = csv.ConvertOptions(column_types={name: pa.string() for name in names}, include_columns=names)
    table = csv.read_csv(source, convert_options=convert)
    csv.write_csv(table, out / "floor.csv")
    return table.num_rows


def floor_xlsx(source: Path, out: Path) -> int:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(source)).get_sheet_by_index(0).to_python()
    return len(rows) - 1


def baseline(source: Path, out: Path) -> int:
    import hashlib
    import hmac

    import pandas as pd

    from pseudodesk.core.certificates import load_certificates
    from pseudodesk.core.package.crypto.cms import encrypt_cms
    from pseudodesk.core.resources import DEMO_CERTIFICATE, resource_path

    if source.suffix == ".csv":
        df = pd.read_csv(source, dtype=str, keep_default_na=False)
    else:
        df = pd.read_excel(source, dtype=str, engine="openpyxl").fillna("")

    def nhs_ok(value: str) -> str:
        digits = value.replace(" ", "")
        if len(digits) != 10 or not digits.isdigit():
            return ""
        check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
        return digits if (0 if check == 11 else check) == int(digits[9]) else ""

    def person_id(value: str) -> str:
        return hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest().upper() if value else ""

    nhs = df["NHS No"].apply(nhs_ok)
    out_df = pd.DataFrame(
        {
            "PERSON_ID": nhs.apply(person_id),
            "DOB": pd.to_datetime(df["Date of Birth"], format="mixed", dayfirst=True, errors="coerce")
            .dt.strftime("%d/%m/%Y")
            .fillna(""),
            "GENDER": df["Sex"].str.strip().str.upper().str[0].map({"M": "M", "F": "F", "B": "M", "G": "F"}).fillna(""),
            "POST CODE": df["Postcode"]
            .str.upper()
            .str.replace(" ", "", regex=False)
            .str.replace(r"^(.+)(\d[A-Z]{2})$", r"\1 \2", regex=True),
            "ETHNICITY": df["Ethnicity"].str.strip(),
        }
    )
    data = out_df.to_csv(index=False).encode("utf-8")
    (out / "baseline.csv.p7m").write_bytes(encrypt_cms(data, load_certificates([resource_path(*DEMO_CERTIFICATE)])))
    return len(out_df)


class _Absent:
    """An import finder for which a package is not installed (ModuleNotFoundError, as on a partner's PC)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == self.name or fullname.startswith(self.name + "."):
            raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)
        return None


def main() -> int:
    case, source, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    if not case.startswith("baseline-"):
        # pandas is in the benchmark's environment for the analyst baseline only; the app does
        # not ship it (requirements.lock). pyarrow imports pandas whenever it can (about 0.2 s,
        # on the first conversion of Python objects), so the other cases run as if it were
        # absent, as it is on a partner's PC.
        sys.meta_path.insert(0, _Absent("pandas"))
    started = time.perf_counter()
    if case.startswith("pseudodesk-"):
        rows = pseudodesk_run(source, out, case.split("-", 1)[1])
    elif case == "inspect-cms":
        rows = inspect_cms(source)
    elif case == "floor-csv":
        rows = floor_csv(source, out)
    elif case == "floor-xlsx":
        rows = floor_xlsx(source, out)
    elif case.startswith("baseline-"):
        rows = baseline(source, out)
    else:
        raise SystemExit(f"unknown case {case}")
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
