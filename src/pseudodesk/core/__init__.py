"""The whole pipeline, importable and testable with no Qt installed.

Data flows one way, and each stage is a package that imports only the stages below it
(an import-linter ``layers`` contract in pyproject.toml enforces it)::

    read/         a file -> SourceTable of text: dispatch (read_table), encoding, csv_text,
                  csv_arrow, workbook, date_system, cells, magic, table, xlsx_arrow, sample
    conventions/  value rules: check and normalise one value (dates, NHS number, postcode,
                  ethnicity...), generalise (DOB and postcode coarsening), op_date
    agreement/    model (what a profile says), profile (load and parse), mapping, suggest,
                  header (the header row found and checked), authoring (drafts),
                  validate, profile_text (a draft written as TOML), bundle (a profile with
                  the certificates and packs it names)
    check/        memo (each distinct value checked once), scan (identifiers in free
                  text), report (the check report, data only), risk (k-anonymity)
    transform/    pseudonym (HMAC-SHA256), openpseudonymiser, derive (outputs computed
                  from their sources), aggregate (published tables)
    package/      csv_output (CSV bytes, from rows or whole columns), crypto/ (cms,
                  sevenzip, der), signing, manifest, inspection, reports (report files)
    audit/        log (append and verify the hash-chained log), listing (what the audit
                  window and report show)
    keys/         store (KeyStore), backends (keyring, local vault), keyfile, info,
                  installation (this installation's signer and the audit recorder),
                  overview (what the Keys window says about keys), signers (partner
                  installations a recipient accepts), agreement_package, agreement_pack,
                  agreements (signed agreement packages: read, pack, install, list)
    run/          the only package that calls the stages in order: plan, check, export,
                  linkage, demo, selftest

Below every stage: errors, progress (Progress, Cancel), files (atomic writes, hashing,
canonical JSON, slugs), fingerprint, host, certificates, threads, resources.

Where new code goes: in the lowest stage that has everything it needs; a function that
would have to import a higher stage belongs in that stage (or takes what it needs as an
argument). ``pseudodesk.cli`` and ``pseudodesk.gui`` sit on top and call ``run``.
"""
