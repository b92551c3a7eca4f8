"""pseudodesk: pseudonymise a spreadsheet of people under an information-sharing agreement."""

from __future__ import annotations

from pathlib import Path


def _version() -> str:
    """The version in pyproject.toml, its one source: read from the file in a source checkout,
    else from the installed distribution's metadata (a wheel, or the frozen build, which
    carries that metadata)."""
    checkout = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if checkout.is_file():
        import tomllib

        project = tomllib.loads(checkout.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "pseudodesk":
            return str(project["version"])
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pseudodesk")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
