"""AWS's binary event stream (`application/vnd.amazon.eventstream`), the encoding side.

InvokeEndpointWithResponseStream answers with a stream of messages, each one:

    total length (4 bytes) | headers length (4) | prelude CRC32 (4) | headers | payload |
    message CRC32 (4)

all big-endian, where a header is `name length (1) | name | type (1; 7 = string) |
value length (2) | value`. botocore decodes these (botocore.eventstream); nothing in the SDKs
encodes them, so the sandbox does it here.
"""

from __future__ import annotations

import struct
import zlib

_STRING = 7


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed message."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event(event_type: str, payload: bytes) -> bytes:
    """An event of the stream (`PayloadPart` carries the model's bytes)."""
    return message(
        {
            ":event-type": event_type,
            ":content-type": "application/octet-stream",
            ":message-type": "event",
        },
        payload,
    )


def exception(error_code: str, body: bytes) -> bytes:
    """An error raised mid-stream (`ModelStreamError`, `InternalStreamFailure`): the SDK
    raises it while the caller reads the stream."""
    return message(
        {
            ":exception-type": error_code,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        body,
    )
