"""The performance benchmark: pseudodesk against the floor and the analyst baseline, same run, same data.

    python3 installer/bootstrap.py bench            # csv-1m, xlsx-200k, and the 10k/100k/1M sweep + plot
    python3 installer/bootstrap.py bench --quick    # 100k / 20k rows: a smoke run in a minute
    python3 installer/bootstrap.py bench --10m      # also csv-10m (memory must not grow with input)

Every case runs in its own process; wall time is measured around the process and peak
memory is the process's maximum resident set (wait4 on Linux, psutil sampling elsewhere).
Data is generated deterministically (benchmarks/data.py) into benchmarks/.data/ and reused.
Results: printed, and written to benchmarks/results/latest.json and latest.md; the plot to
docs/screenshots/performance.png. docs/performance.md explains them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.data import write_csv, write_xlsx  # noqa: E402

DATA = HERE / ".data"
RESULTS = HERE / "results"


def measure(case: str, source: Path) -> dict[str, float]:
    """Run one case in a child process: wall seconds, peak RSS in MiB, rows."""
    out = DATA / "out" / case
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "cases.py"), case, str(source), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0.0
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(process.pid, 0)
        peak = usage.ru_maxrss / 1024  # KiB on Linux
        process.returncode = os.waitstatus_to_exitcode(status)
    else:
        import psutil

        watched = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss / 2**20)
            except psutil.Error:
                break
            time.sleep(0.02)
    wall = time.perf_counter() - started
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{case} failed:\n{stderr.decode(errors='replace')}")
    reported = json.loads(stdout.decode().strip().splitlines()[-1])
    return {"seconds": wall, "work_seconds": reported["seconds"], "rows": reported["rows"], "peak_mib": peak}


def dataset(kind: str, rows: int) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"people-{rows}.{kind}"
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        partial = path.with_suffix(".partial")
        (write_csv if kind == "csv" else write_xlsx)(partial, rows)
        partial.replace(path)
    return path


def row_line(name: str, case: str, r: dict[str, float]) -> str:
    return f"| {name} | {case} | {r['seconds']:.2f} | {r['rows'] / r['seconds']:,.0f} | {r['peak_mib']:.0f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, for checking the benchmark works")
    parser.add_argument("--10m", dest="ten_million", action="store_true", help="also the 10,000,000-row CSV")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args()
    csv_rows, xlsx_rows = (100_000, 20_000) if args.quick else (1_000_000, 200_000)
    results: dict[str, dict[str, dict[str, float]]] = {}

    def case_set(name: str, kind: str, rows: int, cases: list[str]) -> None:
        source = dataset(kind, rows)
        results[name] = {}
        for case in cases:
            print(f"{name}: {case} ...", flush=True)
            # inspect-cms checks the package the pseudodesk-cms case just made
            package = DATA / "out" / "pseudodesk-cms" / "pseudodesk-cms.csv.p7m"
            results[name][case] = measure(case, package if case == "inspect-cms" else source)

    csv_cases = ["floor-csv", "pseudodesk-cms", "inspect-cms", "pseudodesk-7z", "baseline-csv"]
    case_set(f"csv-{csv_rows // 1000}k" if args.quick else "csv-1m", "csv", csv_rows, csv_cases)
    case_set(f"xlsx-{xlsx_rows // 1000}k", "xlsx", xlsx_rows, ["floor-xlsx", "pseudodesk-cms", "baseline-xlsx"])
    if args.ten_million:
        case_set("csv-10m", "csv", 10_000_000, ["floor-csv", "pseudodesk-7z", "pseudodesk-cms", "inspect-cms"])
    sweep: dict[int, dict[str, float]] = {}
    if not args.quick:
        for rows in (10_000, 100_000):
            source = dataset("csv", rows)
            sweep[rows] = {
                case: measure(case, source)["seconds"] for case in ("floor-csv", "pseudodesk-cms", "baseline-csv")
            }
        csv_1m = results["csv-1m"]
        sweep[1_000_000] = {case: csv_1m[case]["seconds"] for case in ("floor-csv", "pseudodesk-cms", "baseline-csv")}

    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [f"Machine: {machine}", "", "| set | case | seconds | rows/s | peak MiB |", "|---|---|---|---|---|"]
    for name, cases in results.items():
        lines += [row_line(name, case, r) for case, r in cases.items()]
    lines.append("")
    csv_name = next(iter(results))
    c = results[csv_name]
    for mode in ("cms", "7z"):
        ours = c[f"pseudodesk-{mode}"]["seconds"]
        lines.append(
            f"{csv_name} {mode}: pseudodesk/floor = {ours / c['floor-csv']['seconds']:.2f} (target <= 3), "
            f"baseline/pseudodesk = {c['baseline-csv']['seconds'] / ours:.2f} (target >= 3)"
        )
    x_name = next(n for n in results if n.startswith("xlsx"))
    x = results[x_name]
    lines.append(
        f"{x_name}: pseudodesk/calamine read = "
        f"{x['pseudodesk-cms']['seconds'] / x['floor-xlsx']['seconds']:.2f} (target <= 1.5)"
    )
    if "csv-10m" in results:
        ten, one = results["csv-10m"], results.get("csv-1m")
        for mode in ("7z", "cms", "inspect") if one else ():
            case = "inspect-cms" if mode == "inspect" else f"pseudodesk-{mode}"
            if case in ten and case in one:
                lines.append(
                    f"csv-10m / csv-1m peak memory, {mode}: "
                    f"{ten[case]['peak_mib'] / one[case]['peak_mib']:.2f}"
                    + (" (target <= 1.3)" if mode != "inspect" else "")
                )
    report = "\n".join(lines)
    print("\n" + report)
    RESULTS.mkdir(exist_ok=True)
    stem = "quick" if args.quick else "latest"
    (RESULTS / f"{stem}.json").write_text(
        json.dumps({"machine": machine, "results": results, "sweep": {str(k): v for k, v in sweep.items()}}, indent=2)
    )
    (RESULTS / f"{stem}.md").write_text(report + "\n")
    if sweep and not args.no_plot:
        plot(sweep, HERE.parent / "docs" / "screenshots" / "performance.png", machine)
    return 0


def plot(sweep: dict[int, dict[str, float]], target: Path, machine: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(sweep)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for case, label in (
        ("baseline-csv", "analyst baseline (pandas + hmac)"),
        ("pseudodesk-cms", "pseudodesk (CMS)"),
        ("floor-csv", "floor (pyarrow read + write)"),
    ):
        ax.plot(rows, [sweep[n][case] for n in rows], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows (12-column CSV)")
    ax.set_ylabel("seconds, end to end")
    ax.set_title(f"Time against rows\n{machine}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(target)


if __name__ == "__main__":
    sys.exit(main())
