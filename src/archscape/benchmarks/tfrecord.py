"""TFRecord files and the protobuf wire format, read without TensorFlow or protobuf.

A TFRecord file is a sequence of records, each framed as::

    uint64 length (little endian)
    uint32 masked CRC-32C of the 8 length bytes
    length bytes of data
    uint32 masked CRC-32C of the data

where ``masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2**32).
Both checksums are verified; the data checksums of a whole file are computed
at once with numpy (one byte position of every record per step), because a
byte loop in Python would take minutes on the 500 MB NAS-Bench-101 file.

The protobuf reader decodes the wire format only (field number, wire type,
value); what a field means is the caller's schema.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from archscape.errors import DataError

_POLY = 0x82F63B78  # Castagnoli, reflected


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _table()
_CRC_ARRAY = np.array(_CRC_TABLE, dtype=np.uint32)
_MASK_DELTA = 0xA282EAD8
_CHUNK = 1 << 16  # records per vectorised CRC pass: small enough to stay in cache


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) of ``data``; pure Python, for short inputs."""
    crc ^= 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask_crc(crc: int) -> int:
    """The TFRecord masking of a CRC (so a CRC of data holding CRCs is not degenerate)."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    return mask_crc(crc32c(data))


def crc32c_spans(buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC-32C of many byte ranges ``buffer[start:start+length]`` at once (uint32 array)."""
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    out = np.empty(len(starts), dtype=np.uint32)
    for lo in range(0, len(starts), _CHUNK):
        s, n = starts[lo : lo + _CHUNK], lengths[lo : lo + _CHUNK]
        order = np.argsort(-n, kind="stable")  # longest first: the records still running are a prefix
        s, n = s[order], n[order]
        crc = np.full(len(s), 0xFFFFFFFF, dtype=np.uint32)
        running = np.searchsorted(-n, -np.arange(int(n[0]) if len(n) else 0), side="left")
        for j, m in enumerate(running.tolist()):
            c = crc[:m]
            crc[:m] = _CRC_ARRAY[(c ^ buffer[s[:m] + j]) & 0xFF] ^ (c >> 8)
        result = np.empty_like(crc)
        result[order] = crc ^ np.uint32(0xFFFFFFFF)
        out[lo : lo + _CHUNK] = result
    return out


def _masked_many(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint64)
    rotated = ((crc >> np.uint64(15)) | (crc << np.uint64(17))) & np.uint64(0xFFFFFFFF)
    return ((rotated + np.uint64(_MASK_DELTA)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


class TFRecordFile:
    """A memory-mapped TFRecord file whose framing and checksums were verified on opening.

    Use as a context manager; ``len()`` is the number of records and
    iteration yields each record's bytes.  Raises :class:`DataError` naming
    the file and the record number for a truncated or corrupt file.
    """

    def __init__(self, path: str | os.PathLike, *, check_data: bool = True) -> None:
        self.path = Path(path)
        try:
            self._file = open(self.path, "rb")
        except OSError as exc:
            raise DataError(f"cannot open TFRecord file {self.path}: {exc.strerror or exc}") from None
        try:
            size = os.fstat(self._file.fileno()).st_size
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            self.starts, self.lengths = self._frame(size)
            self._check(check_data)
        except BaseException:
            self.close()
            raise

    def _frame(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        data, unpack = self._map, struct.Struct("<Q").unpack_from
        starts: list[int] = []
        lengths: list[int] = []
        offset = 0
        while offset < size:
            if offset + 12 > size:
                self._raise_first_bad_header(starts)
                raise self._error(len(starts), f"truncated: {size - offset} byte(s) where a 12-byte record header belongs")
            (length,) = unpack(data, offset)
            end = offset + 12 + length + 4
            if end > size:
                # A damaged length earlier on sends the framing astray: name the first bad header.
                self._raise_first_bad_header([*starts, offset + 12])
                raise self._error(len(starts), f"truncated: the record needs {length + 4} byte(s) after its header, {size - offset - 12} left")
            starts.append(offset + 12)
            lengths.append(length)
            offset = end
        return np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)

    def _raise_first_bad_header(self, starts: list[int]) -> None:
        bad = self._first_bad(np.array(starts, dtype=np.int64), None) if starts else None
        if bad is not None:
            raise self._error(bad, "corrupt length header (CRC-32C mismatch)")

    def _check(self, check_data: bool) -> None:
        if not len(self.starts):
            return
        bad = self._first_bad(self.starts, None)
        if bad is not None:
            raise self._error(bad, "corrupt length header (CRC-32C mismatch)")
        bad = self._first_bad(self.starts, self.lengths) if check_data else None
        if bad is not None:
            raise self._error(bad, "corrupt data (CRC-32C mismatch)")

    def _first_bad(self, starts: np.ndarray, lengths: np.ndarray | None) -> int | None:
        """First record whose header (``lengths`` None) or data fails its CRC, else None.

        Returns instead of raising, so no view of the memory map outlives the call.
        """
        buffer = np.frombuffer(self._map, dtype=np.uint8)
        if lengths is None:  # the 8 length bytes, their CRC just before the data
            stored = _read_u32(buffer, starts - 4)
            computed = crc32c_spans(buffer, starts - 12, np.full(len(starts), 8))
        else:  # the data, its CRC just after it
            stored = _read_u32(buffer, starts + lengths)
            computed = crc32c_spans(buffer, starts, lengths)
        bad = np.flatnonzero(_masked_many(computed) != stored)
        return int(bad[0]) if bad.size else None

    def _error(self, record: int, what: str) -> DataError:
        return DataError(f"{self.path}: record {record} of the TFRecord file is {what}; the file is damaged, download it again")

    def __len__(self) -> int:
        return len(self.starts)

    def __iter__(self) -> Iterator[bytes]:
        data = self._map
        for start, length in zip(self.starts.tolist(), self.lengths.tolist()):
            yield data[start : start + length]

    def close(self) -> None:
        m = getattr(self, "_map", None)
        if isinstance(m, mmap.mmap):
            try:
                m.close()
            except BufferError:  # a caller still holds a view; the map closes when it is dropped
                pass
        self._file.close()

    def __enter__(self) -> TFRecordFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_u32(buffer: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    b = buffer[offsets[:, None] + np.arange(4)].astype(np.uint32)
    return b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24)


# ------------------------------------------------------------------ protobuf
class WireFormatError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
_DOUBLE = struct.Struct("<d").unpack


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireFormatError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireFormatError("varint longer than 10 bytes")


def decode_message(data: bytes) -> dict[int, list]:
    """Fields of one protobuf message: ``{field number: [values in order]}``.

    Varints become ints; fixed64, fixed32 and length-delimited fields stay
    raw bytes (use :func:`as_double` for doubles, :func:`decode_message` for
    nested messages).  Unknown fields are kept; groups (deprecated) are refused.
    """
    fields: dict[int, list] = {}
    pos, end = 0, len(data)
    while pos < end:
        byte = data[pos]
        if byte < 0x80:
            key, pos = byte, pos + 1
        else:
            key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireFormatError("field number 0")
        if wire == VARINT:
            value, pos = _varint(data, pos)
        elif wire == FIXED64:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == LENGTH_DELIMITED:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire == FIXED32:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise WireFormatError(f"unsupported wire type {wire} in field {number}")
        if pos > end:
            raise WireFormatError(f"field {number} runs past the end of the message")
        if number in fields:
            fields[number].append(value)
        else:
            fields[number] = [value]
    return fields


def as_double(raw: bytes) -> float:
    """A fixed64 field read as an IEEE double."""
    if len(raw) != 8:
        raise WireFormatError("a double field needs 8 bytes")
    return _DOUBLE(raw)[0]


__all__ = [
    "TFRecordFile",
    "WireFormatError",
    "as_double",
    "crc32c",
    "crc32c_spans",
    "decode_message",
    "mask_crc",
    "masked_crc32c",
]
