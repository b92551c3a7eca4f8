"""Generate the bundled demo spreadsheet (and, with --certificate, the demo recipient).

    .venv/bin/python tools/generate_demo.py               # resources/demo/demo-people.xlsx
    .venv/bin/python tools/generate_demo.py --certificate # also re-issue the demo certificate

Everything is synthetic and deterministic (fixed seeds): Faker's en_GB provider for
names, streets and phone numbers, postcodes checked against pseudodesk's postcode
rules, and NHS numbers drawn only from the 999 range that NHS England reserves for
test data, with valid Modulus 11 check digits. No real person's data is involved.

The sheet deliberately looks like a real partner extract: dates of birth typed in
five ways plus real date cells, NHS numbers as text with spaces or hyphens and as
numeric cells, gender and ethnicity in several spellings, a few blanks and a few
invalid values so the run report has something to say.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo"  # where the demo files live (and ship from)
sys.path.insert(0, str(ROOT / "src"))

from pseudodesk.core.conventions import Status, check_postcode, nhs_check_digit  # noqa: E402

PEOPLE = 600
SEED = 20261121
REFERENCE_DATE = dt.date(2026, 9, 1)  # ages 0-19 on this date (LCP Scorecard covers 0-19)
ETHNICITY = [
    (1, "WBRI", "White - British"),
    (2, "WIRI", "White - Irish"),
    (5, "WOTH", "White - any other White background"),
    (4, "WROM", "White - Gypsy/Roma"),
    (6, "MWBC", "Mixed - White and Black Caribbean"),
    (8, "MWAS", "Mixed - White and Asian"),
    (10, "AIND", "Asian or Asian British - Indian"),
    (11, "APKN", "Asian or Asian British - Pakistani"),
    (15, "BAFR", "Black or Black British - African"),
    (17, "CHNE", "Chinese"),
    (19, "REFU", "Parent/pupil preferred not to say"),
]
ETHNICITY_WEIGHTS = [70, 3, 8, 1, 2, 2, 4, 3, 3, 2, 2]
HEADER = [
    "Client Ref",
    "Forename",
    "Surname",
    "Address 1",
    "Address 2",
    "Town",
    "Postcode",
    "Date of Birth",
    "Sex",
    "Ethnicity",
    "NHS No",
    "Phone",
    "Email",
    "School",
    "Notes",
]


def test_range_nhs_number(rng: random.Random) -> str:
    while True:
        first_nine = "999" + "".join(rng.choice("0123456789") for _ in range(6))
        check = nhs_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)


def make_rows(rng: random.Random) -> list[list[object]]:
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    rows: list[list[object]] = []
    for i in range(PEOPLE):
        sex = rng.choice("MF")
        forename = fake.first_name_male() if sex == "M" else fake.first_name_female()
        postcode = fake.postcode()
        while check_postcode(postcode).status is Status.INVALID:
            postcode = fake.postcode()
        style = rng.random()
        if style < 0.1:
            postcode = postcode.replace(" ", "").lower()
        elif style < 0.15:
            postcode = " " + postcode + " "
        dob = REFERENCE_DATE - dt.timedelta(days=rng.randint(0, 19 * 365))
        dob_cell: object
        kind = rng.random()
        if kind < 0.45:
            dob_cell = dt.datetime(dob.year, dob.month, dob.day)  # a real date cell
        elif kind < 0.7:
            dob_cell = dob.strftime("%d/%m/%Y")
        elif kind < 0.82:
            dob_cell = dob.isoformat()
        elif kind < 0.9:
            dob_cell = dob.strftime("%d.%m.%Y")
        elif kind < 0.96:
            dob_cell = dob.strftime("%d-%b-%Y")
        else:
            dob_cell = dob.strftime("%Y%m%d")
        sex_cell = rng.choice({"M": ["M", "M", "Male", "m", "Boy"], "F": ["F", "F", "Female", "f", "Girl"]}[sex])
        if rng.random() < 0.01:
            sex_cell = "Unknown"
        code, dfe, label = rng.choices(ETHNICITY, ETHNICITY_WEIGHTS)[0]
        ethnicity_cell: object = rng.choice([code, code, dfe, label])
        nhs = test_range_nhs_number(rng)
        nhs_style = rng.random()
        nhs_cell: object
        if nhs_style < 0.4:
            nhs_cell = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
        elif nhs_style < 0.75:
            nhs_cell = int(nhs)  # a numeric cell, as Excel stores a typed-in number
        elif nhs_style < 0.9:
            nhs_cell = nhs
        else:
            nhs_cell = f"{nhs[:3]}-{nhs[3:6]}-{nhs[6:]}"
        if i % 97 == 13:
            nhs_cell = ""  # not known
        if i % 151 == 7:
            nhs_cell = nhs[:9] + str((int(nhs[9]) + 1) % 10)  # a mistyped number: wrong check digit
        email_name = f"{forename}.{fake.last_name()}".lower().replace(" ", "").replace("'", "")
        rows.append(
            [
                f"CL-{100000 + i}",
                forename,
                fake.last_name(),
                fake.building_number() + " " + fake.street_name(),
                fake.street_name() if rng.random() < 0.3 else "",
                fake.city(),
                postcode,
                dob_cell,
                sex_cell,
                ethnicity_cell,
                nhs_cell,
                "07" + "".join(rng.choice("0123456789") for _ in range(9)),
                f"{email_name}@example.org",
                rng.choice(["Riverside Primary", "St Botolph's C of E", "Castle Academy", "Fenland High", ""]),
                rng.choice(
                    ["", "", "", "Moved in from another county", "Sibling also known", "Referred by school nurse"]
                ),
            ]
        )
    return rows


def write_workbook(path: Path, rows: list[list[object]]) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": "pseudodesk synthetic demo data", "created": dt.datetime(2026, 11, 21)})
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws = wb.add_worksheet("People")
    ws.write_row(0, 0, HEADER, bold)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write_datetime(r, c, value, date_fmt)
            elif isinstance(value, int):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    ws.freeze_panes(1, 0)
    about = wb.add_worksheet("About")
    about.write_column(
        0,
        0,
        [
            "pseudodesk demo data: SYNTHETIC, generated by tools/generate_demo.py.",
            "No real person's data. NHS numbers are from the 999 test range.",
        ],
    )
    wb.close()


def write_certificate() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pseudodesk demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, "DEMO recipient - NOT FOR REAL DATA"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2036, 12, 31, tzinfo=dt.UTC))
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    (DEMO / "demo-recipient.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (DEMO / "DEMO-ONLY-recipient-private-key.pem").write_bytes(
        b"# DEMO ONLY. This private key is published with pseudodesk so the demo output can be\n"
        b"# opened. Anything encrypted to the demo certificate can be read by anyone.\n"
        b"# Never use it, or the demo certificate, to protect real data.\n"
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--certificate", action="store_true", help="also re-issue the demo recipient certificate")
    args = parser.parse_args()
    rows = make_rows(random.Random(SEED))
    write_workbook(DEMO / "demo-people.xlsx", rows)
    if args.certificate:
        write_certificate()
    print(f"wrote {len(rows)} synthetic people to {DEMO / 'demo-people.xlsx'}")


if __name__ == "__main__":
    main()
