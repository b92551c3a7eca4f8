"""The built folder's budget and what must stay out of it (installer/bundle_check.py)."""

from __future__ import annotations

from pathlib import Path

import bundle_check

MIB = 1 << 20


def folder(tmp_path: Path, files: dict[str, int]) -> Path:
    root = tmp_path / "pseudodesk"
    for name, size in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            f.truncate(size)
    return root


def test_a_folder_within_budget_with_nothing_left_out_passes(tmp_path, capsys):
    root = folder(
        tmp_path,
        {
            "pseudodesk.exe": 2 * MIB,
            "_internal/pyarrow/arrow.dll": 18 * MIB,
            "_internal/pyarrow/arrow_compute.dll": 10 * MIB,
            "_internal/PySide6/Qt6Widgets.dll": 6 * MIB,
            "_internal/PySide6/plugins/platforms/qwindows.dll": MIB,
        },
    )
    assert bundle_check.main([str(root), "--max-mib", "40"]) == 0
    out = capsys.readouterr().out
    assert "37.0 MiB in 5 files" in out
    assert "     28.0 MiB  _internal/pyarrow" in out  # the biggest part first
    assert out.rstrip().endswith("bundle check (budget 40 MiB): ok")


def test_over_budget_fails_with_the_size(tmp_path, capsys):
    root = folder(tmp_path, {"_internal/big.dll": 41 * MIB})
    assert bundle_check.main([str(root), "--max-mib", "40"]) == 1
    assert "the folder is 41.0 MiB, over its budget of 40 MiB" in capsys.readouterr().out


def test_each_part_left_out_is_named_when_it_comes_back(tmp_path):
    files = [
        (1, "_internal/PySide6/Qt6Network.dll"),
        (1, "_internal/PySide6/QtNetwork.pyd"),
        (1, "_internal/PySide6/plugins/tls/qschannelbackend.dll"),
        (1, "_internal/PySide6/translations/qtbase_de.qm"),
        (1, "_internal/PySide6/opengl32sw.dll"),
        (1, "_internal/pyarrow/arrow_flight.dll"),
        (1, "_internal/pyarrow/_s3fs.cp311-win_amd64.pyd"),
        (1, "_internal/pyarrow/include/arrow/api.h"),
        (1, "_internal/certifi/cacert.pem"),
        (1, "_internal/pyarrow/arrow.dll"),  # stays: the core Arrow library
    ]
    assert bundle_check.problems(files, 200) == [
        "left out, but back in the folder: Qt's network module "
        "(_internal/PySide6/Qt6Network.dll, _internal/PySide6/QtNetwork.pyd)",
        "left out, but back in the folder: Qt's TLS and network-information plugins "
        "(_internal/PySide6/plugins/tls/qschannelbackend.dll)",
        "left out, but back in the folder: Qt's translations (_internal/PySide6/translations/qtbase_de.qm)",
        "left out, but back in the folder: Qt's software OpenGL and Direct3D compiler "
        "(_internal/PySide6/opengl32sw.dll)",
        "left out, but back in the folder: Arrow Flight (network RPC) (_internal/pyarrow/arrow_flight.dll)",
        "left out, but back in the folder: Arrow's cloud file systems (S3, GCS, HDFS, Azure) "
        "(_internal/pyarrow/_s3fs.cp311-win_amd64.pyd)",
        "left out, but back in the folder: Arrow's C++ headers (_internal/pyarrow/include/arrow/api.h)",
        "left out, but back in the folder: HTTP clients and CA bundles (requests, urllib3, certifi) "
        "(_internal/certifi/cacert.pem)",
    ]
