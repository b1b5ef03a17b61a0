"""Reading files for ingest: the size cap, unreadable files, and text in UTF-8, UTF-16 or UTF-32.

Every problem is an ``IngestError`` naming the file (and the line, for a bad byte), so one bad
file of a folder is reported and the others still go in.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ingest.errors import IngestError

MAX_FILE_BYTES = 100_000_000  # a file larger than this is refused (a CSV cell may be this long)

# Longest BOM first: UTF-32-LE's BOM starts with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_bytes(path: Path) -> bytes:
    """The file's bytes; too large, unreadable or vanished files raise ``IngestError``."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(
                str(path),
                f"file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:g} MB "
                "(split it into smaller files)",
            )
        return path.read_bytes()
    except PermissionError:
        raise IngestError(str(path), "cannot read file (permission denied)") from None
    except FileNotFoundError:
        raise IngestError(str(path), "file vanished before it could be read") from None
    except IsADirectoryError:
        raise IngestError(str(path), "is a folder, not a file") from None
    except OSError as error:
        raise IngestError(str(path), f"cannot read file ({error.strerror or error})") from None


def read_text(path: Path) -> str:
    """The file as text: UTF-8, or UTF-16/UTF-32 with a byte order mark."""
    return decode_text(read_bytes(path), str(path))


def decode_text(data: bytes, where: str) -> str:
    """Decode ``data`` read from ``where``; empty, binary and undecodable data raise."""
    encoding = _bom_encoding(data)
    if encoding is None and not data.strip():
        raise IngestError(where, "empty file")
    if encoding is None and b"\x00" in data[:8192]:
        raise IngestError(where, _binary_reason(data))
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError as error:
        raise _decode_error(data, where, encoding or "utf-8", error) from None
    if not text.lstrip("\ufeff").strip():
        raise IngestError(where, "empty file")
    return text.lstrip("\ufeff")


def _bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _binary_reason(data: bytes) -> str:
    head = data[:8192]
    # ASCII text in UTF-16 without a BOM: every other byte is zero
    if len(head) >= 4 and head[1::2].count(0) > 0.9 * len(head[1::2]):
        return "looks like UTF-16 text without a byte order mark; re-save the file as UTF-8"
    return "binary file, not text"


def _decode_error(
    data: bytes, where: str, encoding: str, error: UnicodeDecodeError
) -> IngestError:
    prefix = data[: error.start].decode(encoding, errors="replace")
    line = prefix.count("\n") + 1
    name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
    return IngestError(
        f"{where}:{line}",
        f"not valid {name} (byte 0x{data[error.start]:02x} at offset {error.start}); "
        "re-save the file as UTF-8",
    )
