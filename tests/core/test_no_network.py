"""pseudodesk makes no network connection at all: every IP socket is refused during a full run.

Local IPC (a Unix socket to the desktop keyring's D-Bus) is not network and stays allowed.
"""

from __future__ import annotations

import socket

import pytest


@pytest.fixture
def no_network(monkeypatch):
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def connect(self, address):  # noqa: ANN001
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(f"connect {address}")
            raise OSError("network use is forbidden in this test")
        return real_connect(self, address)

    def refuse(name):  # noqa: ANN001
        def blocked(*args, **kwargs):  # noqa: ANN002, ANN003
            attempts.append(f"{name} {args[:1]}")
            raise OSError("network use is forbidden in this test")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: connect(self, address))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("gethostbyname"))
    return attempts


def test_a_whole_run_opens_no_network_socket(no_network, tmp_path, memory_keyring, capsys, demo_paths):
    from pseudodesk.cli.main import main

    profile, demo = str(demo_paths["profile"]), str(demo_paths["spreadsheet"])
    assert main(["selftest"]) == 0
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    assert main(["check", "--profile", profile, "--input", demo, "--report-dir", str(tmp_path / "r")]) == 0
    assert main(["risk", "--profile", profile, "--input", demo]) == 0
    assert main(["keys", "create", "--name", "Offline"]) == 0
    assert main(["audit", "verify"]) == 0
    assert no_network == []


def test_the_guard_itself_catches_a_connection(no_network):
    with pytest.raises(OSError, match="forbidden"):
        socket.create_connection(("192.0.2.1", 443), timeout=0.1)
    assert no_network
