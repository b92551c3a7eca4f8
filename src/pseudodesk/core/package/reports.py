"""The check report as files for the person at this PC: a CSV of the problems and an HTML page
with the disclosure risk. They hold values from the source spreadsheet, so they stay on this
computer (LOCAL_ONLY says so in each).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pseudodesk.core.check.risk import RiskReport
from pseudodesk.core.check.report import ACTIONS, CheckReport
from pseudodesk.core.check.risk import lattice_lines, linked_releases, measure_rows, risk_verdict
from pseudodesk.core.package.csv_output import neutralise

LOCAL_ONLY = (
    "This report contains values from the source spreadsheet. Keep it on this computer "
    "with the source; never send it with the export."
)


def report_to_csv(report: CheckReport) -> str:
    """One line per problem, notice and finding: row, column, field, raw value, reason, action."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["# " + LOCAL_ONLY])
    w.writerow(["row", "column", "field", "kind", "raw value", "reason", "action"])
    entries: list[tuple[int, list[str]]] = []
    for stats in report.fields.values():
        for p in stats.problems:
            entries.append(
                (p.line, [str(p.line), _safe(p.column), p.field_id, "invalid", _safe(p.raw), p.reason, p.action])
            )
        for n in stats.notices:
            entries.append(
                (
                    n.line,
                    [
                        str(n.line),
                        _safe(n.column),
                        n.field_id,
                        "assumption",
                        _safe(n.raw),
                        n.reason,
                        f"normalised to {n.value}",
                    ],
                )
            )
    for f in report.findings:
        entries.append(
            (
                f.line,
                [
                    str(f.line),
                    _safe(f.field),
                    _safe(f.field),
                    f"identifier: {f.kind}",
                    _safe(f.text),
                    "direct identifier in a column that leaves unchanged",
                    "blocks the export",
                ],
            )
        )
    for _, row in sorted(entries, key=lambda e: e[0]):
        w.writerow(row)
    return out.getvalue()


def _safe(value: str) -> str:
    """The problems CSV is opened in Excel too: neutralise formulas in raw values and column names."""

    return neutralise(value)


def _table(title: str, headers: list[str], rows: Sequence[tuple[object, ...]]) -> list[str]:
    """An HTML section: heading and table, first column a right-aligned row number; nothing if no rows."""
    if not rows:
        return []
    e = html.escape
    out = [f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>"]
    for row in rows:
        cells = [f'<td class="num">{e(str(row[0]))}</td>'] + [f"<td>{e(str(c))}</td>" for c in row[1:]]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return out


def risk_to_html(risk: RiskReport) -> str:
    """The re-identification risk section: counts and coarse descriptions only, no full values."""
    e = html.escape
    tone = "ok" if not risk.records_at_risk else "warn"
    parts = [
        f"<h2>Re-identification risk (k = {risk.k})</h2>",
        f'<p class="{tone}"><b>{e(risk_verdict(risk))}</b></p>',
        f'<p class="{tone}">{risk.records_at_risk:,} of {risk.records:,} records ({risk.share_at_risk:.1%}) are in '
        f"classes smaller than {risk.k}, grouped by {e(', '.join(risk.quasi_identifiers))}: "
        f"{risk.classes:,} classes in all, {risk.classes_below_k:,} of them too small.</p>",
    ]
    unit = risk.unit.capitalize()
    if risk.person_field:
        parts.append(
            f"<p>Class sizes count people (distinct {e(risk.person_field)}), not rows: {risk.people:,} people in "
            f"{risk.records:,} records.</p>"
        )
    rows: list[tuple[object, ...]] = [
        (size, f"{n:,}", f"{size * n:,}") for size, n in risk.class_sizes.items() if size < risk.k
    ]
    larger = {size: n for size, n in risk.class_sizes.items() if size >= risk.k}
    if larger:
        rows.append((f"{risk.k} or more", f"{sum(larger.values()):,}", f"{sum(s * n for s, n in larger.items()):,}"))
    parts += _table("Class sizes", ["Class size", "Classes", unit], rows)
    found = risk.lattice
    if found is not None and found.nodes > 1:
        parts.append("<h2>Generalisations that would meet k</h2>")
        parts += [f"<p>{e(line.strip())}</p>" for line in lattice_lines(risk)]
    parts += ["<h2>Releases that can be linked</h2>", f"<p>{e(linked_releases(risk))}</p>"]
    parts += _table(
        "Risk measures (as sdcMicro and ARX define them)", ["Measure", "Value", "Meaning"], measure_rows(risk)
    )
    parts += _table(
        "Smallest classes (dates of birth as age bands, postcodes as districts)",
        [unit, *risk.quasi_identifiers],
        [(size, *values) for values, size in risk.worst],
    )
    parts += _table(
        "What each generalisation would change",
        ["Generalisation", "Records at risk", "Classes"],
        [
            (
                f"{p.field} to {p.level.replace('_', ' ')}",
                f"{risk.records_at_risk:,} -> {p.records_at_risk:,}",
                f"{p.classes:,}",
            )
            for p in risk.previews
        ],
    )
    return "\n".join(parts)


def report_to_html(report: CheckReport, title: str, risk: RiskReport | None = None) -> str:
    e = html.escape
    parts = [
        f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
body{{font-family:Segoe UI,Arial,sans-serif;margin:2em;color:#222}} h1{{font-size:1.4em}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}} th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}}
th{{background:#f0f0f0}} .bar{{display:flex;width:240px;height:14px;border:1px solid #999}}
.valid{{background:#2e7d32}} .normalised{{background:#81c784}} .invalid{{background:#c62828}} .empty{{background:#bdbdbd}}
.warn{{background:#fff3cd;border:1px solid #e0c36c;padding:.6em}} .block{{background:#fdecea;border:1px solid #c62828;padding:.6em}}
.ok{{background:#e8f5e9;border:1px solid #2e7d32;padding:.6em}} td.num{{text-align:right}}
</style></head><body>
<h1>{e(title)}</h1>
<p class="warn">{e(LOCAL_ONLY)}</p>"""
    ]
    blocking = report.blocking_reasons()
    if blocking:
        parts.append(
            '<div class="block"><strong>The export is blocked:</strong><ul>'
            + "".join(f"<li>{e(r)}</li>" for r in blocking)
            + "</ul></div>"
        )
    else:
        parts.append(
            f'<p class="ok">The export may go ahead: {report.rows_written:,} of {report.rows:,} rows '
            f"will be written (policy for invalid values: {e(ACTIONS[report.policy])}).</p>"
        )
    legend = " ".join(
        f'<span class="{k}" style="display:inline-block;width:1em;height:1em"></span> {k}'
        for k in ("valid", "normalised", "invalid", "empty")
    )
    parts.append(
        f"<h2>Columns</h2><p>{legend}</p><table><tr><th>Field</th><th>Source column</th><th>Convention</th>"
        "<th>Valid</th><th>Normalised</th><th>Invalid</th><th>Empty</th><th></th><th>Decision</th></tr>"
    )
    for s in report.fields.values():
        total = max(s.total, 1)
        bar = "".join(
            f'<span class="{k}" style="width:{100 * s.counts[k] / total:.1f}%"></span>'
            for k in ("valid", "normalised", "invalid", "empty")
        )
        parts.append(
            f"<tr><td>{e(s.label)}</td><td>{e(s.column)}</td><td>{e(s.convention)}</td>"
            + "".join(f'<td class="num">{s.counts[k]:,}</td>' for k in ("valid", "normalised", "invalid", "empty"))
            + f'<td><div class="bar">{bar}</div></td><td>{e(s.decision)}</td></tr>'
        )
    parts.append("</table>")
    if report.stripped_columns:
        parts.append("<h2>Stripped columns (not exported)</h2><p>" + e(", ".join(report.stripped_columns)) + "</p>")
    problems = sorted((p for s in report.fields.values() for p in s.problems), key=lambda p: p.line)
    parts += _table(
        "Problems",
        ["Row", "Column", "Value", "Reason", "Action"],
        [(p.line, p.column, p.raw, p.reason, p.action) for p in problems],
    )
    listed = (
        ""
        if len(report.findings) == report.identifiers_found
        else f" ({report.identifiers_found:,}; the first {len(report.findings):,} listed)"
    )
    parts += _table(
        "Identifiers in kept columns" + listed,
        ["Row", "Column", "Kind", "Found"],
        [(f.line, f.field, f.kind, f.text) for f in report.findings],
    )
    notices = sorted((n for s in report.fields.values() for n in s.notices), key=lambda n: n.line)
    parts += _table(
        "Assumptions made while normalising",
        ["Row", "Column", "Value", "Became", "Why"],
        [(n.line, n.column, n.raw, n.value, n.reason) for n in notices],
    )
    changed = report.rows_excluded + report.rows_blanked
    listed = "" if len(report.rejects) == changed else f"; the first {len(report.rejects):,} listed"
    parts += _table(
        f"Rows changed by the policy ({changed:,}{listed})",
        ["Row", "What happened", "Fields"],
        [(r.line, r.action, ", ".join(r.fields)) for r in report.rejects],
    )
    if report.source_issues:
        parts.append("<h2>About the source file</h2><ul>")
        parts += [
            f"<li>{e(i.message)}" + (f" (rows {e(', '.join(map(str, i.lines[:20])))})" if i.lines else "") + "</li>"
            for i in report.source_issues
        ]
        parts.append("</ul>")
    if report.truncated:
        parts.append(f"<p>{report.truncated:,} further problem(s) or assumption(s) were counted but not listed.</p>")
    if risk is not None:
        parts.append(risk_to_html(risk))
    parts.append("</body></html>")
    return "\n".join(parts)
