"""Draw the application icon (installer/pseudodesk.ico and resources/icons/pseudodesk.png) with Qt.

    .venv/bin/python installer/make_icon.py

A padlock over a table: the product in one picture. Drawn, not downloaded, so its licence is
the project's. The .ico holds 16, 32, 48 and 256 pixel images for Windows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64
    p.setBrush(QColor("#1f5f8b"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 12 * s, 12 * s)
    p.setPen(QPen(QColor("#d9e8f2"), max(1.0, 2 * s)))
    for row in range(4):  # the table
        y = (14 + row * 9) * s
        p.drawLine(int(10 * s), int(y), int(54 * s), int(y))
    shackle = QPainterPath()
    shackle.addRoundedRect(QRectF(30 * s, 26 * s, 16 * s, 18 * s), 8 * s, 8 * s)
    p.setPen(QPen(QColor("#ffd23f"), max(1.5, 4 * s)))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(shackle)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#ffd23f"))
    p.drawRoundedRect(QRectF(26 * s, 36 * s, 24 * s, 20 * s), 3 * s, 3 * s)
    p.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    icons = ROOT / "resources" / "icons"
    icons.mkdir(parents=True, exist_ok=True)
    draw(256).save(str(icons / "pseudodesk.png"))
    # Qt's ICO writer stores one image per file; Windows wants several sizes in one .ico, so the
    # sizes are written as PNG frames and packed by hand (the ICO container is a short header).
    import struct
    from io import BytesIO

    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    frames = []
    for size in (16, 32, 48, 256):
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        draw(size).save(buffer, "PNG")
        frames.append((size, bytes(data.data())))
    out = BytesIO()
    out.write(struct.pack("<HHH", 0, 1, len(frames)))
    offset = 6 + 16 * len(frames)
    for size, png in frames:
        edge = 0 if size >= 256 else size
        out.write(struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(png), offset))
        offset += len(png)
    for _, png in frames:
        out.write(png)
    (ROOT / "installer" / "pseudodesk.ico").write_bytes(out.getvalue())
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
