"""Every PE file in the folder, found by its content, and whether the release job signs it."""

from __future__ import annotations

import struct
from pathlib import Path

import pe_files


def pe_image(offset: int = 0x80) -> bytes:
    """The smallest bytes a PE image starts with: the DOS header pointing at "PE\\0\\0"."""
    header = bytearray(offset + 24)
    header[:2] = b"MZ"
    struct.pack_into("<I", header, 0x3C, offset)
    header[offset : offset + 4] = b"PE\0\0"
    return bytes(header)


def folder(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "pseudodesk"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_pe_files_are_found_by_content_and_all_are_signed(tmp_path, capsys):
    root = folder(
        tmp_path,
        {
            "pseudodesk.exe": pe_image(),
            "pseudodesk-cli.EXE": pe_image(0x40),
            "_internal/python311.dll": pe_image(),
            "_internal/pyarrow/lib.cp311-win_amd64.pyd": pe_image(),
            "_internal/base_library.zip": b"PK\3\4" + bytes(100),
            "_internal/notes.txt": b"MZ but not a program" + bytes(100),
        },
    )
    to_sign = tmp_path / "build" / "to-sign.txt"
    assert pe_files.main([str(root), "--to-sign", str(to_sign)]) == 0
    out = capsys.readouterr().out
    assert f"{root}: 4 PE file(s); the release job signs 4" in out
    assert "  signed      _internal/python311.dll" in out and "PE check: ok" in out
    assert to_sign.read_text().splitlines() == [
        str((root / name).resolve())
        for name in (
            "_internal/pyarrow/lib.cp311-win_amd64.pyd",
            "_internal/python311.dll",
            "pseudodesk-cli.EXE",
            "pseudodesk.exe",
        )
    ]


def test_a_pe_file_under_another_name_or_a_dll_that_is_not_one_fails(tmp_path):
    root = folder(
        tmp_path,
        {
            "_internal/shiboken6/libshiboken.so": pe_image(),  # a DLL shipped with a Linux name
            "_internal/tool": pe_image(),
            "_internal/placeholder.dll": b"not a program",
        },
    )
    pe, to_sign, problems = pe_files.survey(root)
    assert pe == ["_internal/shiboken6/libshiboken.so", "_internal/tool"]
    assert to_sign == ["_internal/placeholder.dll"]
    assert problems == [
        "_internal/shiboken6/libshiboken.so is a PE file the release job would not sign",
        "_internal/tool is a PE file the release job would not sign",
        "_internal/placeholder.dll is not a PE file, but the release job would try to sign it",
    ]
    assert pe_files.main([str(root)]) == 1
