"""Write installer/files.wxi and components.wxi: every file of the built folder as a WiX component.

    python installer/wix_files.py dist/pseudodesk [OUTDIR]   # then wixl (Linux) or candle/light (Windows)

OUTDIR defaults to installer/, where pseudodesk.wxs includes them from.

Component GUIDs are derived from each file's path inside the folder (uuid5), so they stay the
same from build to build as the rules for MSI component identity require; Ids are short hashes
because WiX Ids may not hold every character a path can.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from pathlib import Path
from xml.sax.saxutils import quoteattr

NAMESPACE = uuid.UUID("2f1c6a64-8d55-4e6c-a1f0-0b5e9b7c4d21")  # fixed for pseudodesk: never change
# The executables' File Ids, which pseudodesk.wxs names (the self-test custom action runs CliExe).
FILE_IDS = {
    "pseudodesk-cli.exe": "CliExe",
    "pseudodesk-cli": "CliExe",
    "pseudodesk.exe": "GuiExe",
    "pseudodesk": "GuiExe",
}


def _id(prefix: str, relative: str) -> str:
    return prefix + hashlib.sha1(relative.encode("utf-8")).hexdigest()[:20]


def wxi(folder: Path) -> tuple[str, str]:
    """files.wxi (the folder's directories and components) and components.wxi (their references)."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<Include>"]
    components: list[str] = []

    def walk(directory: Path, indent: str) -> None:
        for item in sorted(directory.iterdir(), key=lambda p: p.name):
            relative = item.relative_to(folder).as_posix()
            if item.is_dir():
                lines.append(f"{indent}<Directory Id={quoteattr(_id('d', relative))} Name={quoteattr(item.name)}>")
                walk(item, indent + "  ")
                lines.append(f"{indent}</Directory>")
            else:
                component = _id("c", relative)
                guid = str(uuid.uuid5(NAMESPACE, relative)).upper()
                source = f"$(var.SourceDir)/{relative}"
                lines.append(f'{indent}<Component Id={quoteattr(component)} Guid={quoteattr(guid)} Win64="yes">')
                lines.append(
                    f"{indent}  <File Id={quoteattr(FILE_IDS.get(relative) or _id('f', relative))} "
                    f"Name={quoteattr(item.name)} "
                    f'Source={quoteattr(source)} KeyPath="yes" />'
                )
                lines.append(f"{indent}</Component>")
                components.append(component)

    lines.append('  <DirectoryRef Id="INSTALLFOLDER">')
    walk(folder, "    ")
    lines.append("  </DirectoryRef>")
    lines.append("</Include>")
    refs = ['<?xml version="1.0" encoding="utf-8"?>', "<Include>"]
    refs += [f"  <ComponentRef Id={quoteattr(c)} />" for c in components]
    refs.append("</Include>")
    # Two includes, not a ComponentGroup: wixl (msitools) does not read ComponentGroup.
    return "\n".join(lines) + "\n", "\n".join(refs) + "\n"


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "dist/pseudodesk")
    if not (folder / "_internal").is_dir():
        print(f"{folder} is not a built pseudodesk folder (run: python3 installer/bootstrap.py build)", file=sys.stderr)
        return 2
    here = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    files, refs = wxi(folder)
    (here / "files.wxi").write_text(files, encoding="utf-8")
    (here / "components.wxi").write_text(refs, encoding="utf-8")
    print(f"wrote {here / 'files.wxi'} and components.wxi")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
