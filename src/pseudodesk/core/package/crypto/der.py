"""The few DER encodings a CMS envelope needs, written and read by hand (RFC 5652)."""

from __future__ import annotations

from typing import IO

from pseudodesk.core.errors import ExportError

# DER of the four object identifiers an envelope names (RFC 5652, RFC 3565, RFC 8017).
OID_ENVELOPED_DATA = bytes.fromhex("06092a864886f70d010703")  # 1.2.840.113549.1.7.3


OID_DATA = bytes.fromhex("06092a864886f70d010701")  # 1.2.840.113549.1.7.1


OID_AES256_CBC = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42


OID_RSA_ENCRYPTION = bytes.fromhex("06092a864886f70d010101")  # 1.2.840.113549.1.1.1


DER_NULL = b"\x05\x00"


def der_content(data: bytes, position: int) -> tuple[int, int]:
    """(where the content of the DER element at ``position`` starts, its length)."""
    try:
        first = data[position + 1]
        if first < 0x80:
            return position + 2, first
        size = first & 0x7F
        return position + 2 + size, int.from_bytes(data[position + 2 : position + 2 + size], "big")
    except IndexError:
        raise ExportError("A recipient certificate's issuer and serial number cannot be read.") from None


def der_head(tag: int, length: int) -> bytes:
    """A DER tag and definite length (short form below 128, else the minimal long form)."""
    if length < 0x80:
        return bytes((tag, length))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size


def der(tag: int, content: bytes) -> bytes:
    return der_head(tag, len(content)) + content


def der_integer(value: int) -> bytes:
    """A DER INTEGER, minimal two's complement (the envelope's versions; serials are copied, see above)."""
    return der(0x02, value.to_bytes((~value if value < 0 else value).bit_length() // 8 + 1, "big", signed=True))


def read_head(f: IO[bytes], tag: int) -> int:
    """The length of the element at ``f``'s position, which must have ``tag`` and a DER length."""
    head = f.read(2)
    if len(head) != 2 or head[0] != tag or head[1] == 0x80 or head[1] > 0x88:
        raise UnusualEnvelope()
    if head[1] < 0x80:
        return head[1]
    size = f.read(head[1] & 0x7F)
    if len(size) != head[1] & 0x7F or size[0] == 0 or int.from_bytes(size, "big") < 0x80:
        raise UnusualEnvelope()  # short, or not the minimal form DER requires
    return int.from_bytes(size, "big")


def der_elements(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) of each element in ``data``, one after another (one-byte tags, DER lengths)."""
    elements = []
    position = 0
    while position < len(data):
        if position + 2 > len(data) or data[position] & 0x1F == 0x1F or data[position + 1] == 0x80:
            raise UnusualEnvelope()
        start, length = der_content(data, position)
        if start + length > len(data) or der_head(data[position], length) != data[position:start]:
            raise UnusualEnvelope()
        elements.append((data[position], data[start : start + length]))
        position = start + length
    return elements


class UnusualEnvelope(Exception):
    """An envelope whose shape read_cms does not stream; cryptography's parser reads it whole."""
