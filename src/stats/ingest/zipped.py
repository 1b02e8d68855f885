"""Zip archives read safely (size and ratio limits, zstd members) and written with zstd.

Recent inspect-ai versions compress ``.eval`` members with zstd (zip method 93), which
Python 3.12's :mod:`zipfile` cannot decompress; :class:`SafeZip` reads those with the
``zstandard`` package, and every member with bounds on size and compression ratio (zip
bombs are rejected, not read).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from stats.ingest.errors import RecordError
from stats.ingest.limits import Limits

ZIP_ZSTD = 93
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<4sHHHHIIH")
_DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01: fixed, so written zips are reproducible


def write_zip_zstd(path: Path, members: dict[str, bytes], level: int = 3) -> Path:
    """Write a zip whose members are zstd-compressed (method 93), as recent inspect-ai does.

    Parameters
    ----------
    path : Path
        Zip file to write.
    members : dict of str to bytes
        Member name -> uncompressed content, written in this order.
    level : int
        zstd compression level.

    Returns
    -------
    Path
        ``path``.
    """
    import zstandard

    compressor = zstandard.ZstdCompressor(level=level, write_content_size=True)
    flags = 0x800  # UTF-8 names
    entries = []
    with open(path, "wb") as out:
        for name, data in members.items():
            packed = compressor.compress(data)
            crc = zlib.crc32(data)
            encoded = name.encode("utf-8")
            offset = out.tell()
            header = (b"PK\x03\x04", 63, flags, ZIP_ZSTD, 0, _DOS_DATE, crc)
            sizes = (len(packed), len(data), len(encoded), 0)
            out.write(_LOCAL_HEADER.pack(*header, *sizes))
            out.write(encoded)
            out.write(packed)
            entries.append((encoded, crc, len(packed), len(data), offset))
        start = out.tell()
        for encoded, crc, packed_size, size, offset in entries:
            header = (b"PK\x01\x02", 63, 63, flags, ZIP_ZSTD, 0, _DOS_DATE, crc)
            sizes = (packed_size, size, len(encoded), 0, 0, 0, 0, 0, offset)
            out.write(_CENTRAL_HEADER.pack(*header, *sizes))
            out.write(encoded)
        size = out.tell() - start
        out.write(_END_RECORD.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries), size, start, 0))
    return Path(path)


class SafeZip:
    """A zip archive whose members are read with size and ratio limits (zstd supported).

    Parameters
    ----------
    path : Path
        The archive.
    limits : Limits
        Bounds on member size, compression ratio and total bytes.

    Raises
    ------
    zipfile.BadZipFile
        When the file is not a zip.
    """

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = Path(path)
        self.limits = limits
        self.archive = zipfile.ZipFile(self.path)
        self.total = 0

    def names(self) -> list[str]:
        """Member names in archive order."""
        return self.archive.namelist()

    def close(self) -> None:
        """Close the archive."""
        self.archive.close()

    def _check_declared(self, info: zipfile.ZipInfo) -> None:
        limits = self.limits
        name = info.filename
        if info.file_size > limits.max_member_bytes:
            raise RecordError(
                "zip-bomb",
                f"member {name!r} declares {info.file_size} bytes, over the limit of "
                f"{limits.max_member_bytes}",
            )
        if info.file_size > limits.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise RecordError(
                    "zip-bomb",
                    f"member {name!r} expands {ratio:.0f}x ({info.compress_size} -> "
                    f"{info.file_size} bytes), over the limit of {limits.max_zip_ratio:.0f}x",
                )
        if self.total + info.file_size > limits.max_zip_total_bytes:
            raise RecordError(
                "zip-bomb",
                f"member {name!r} would take the archive over {limits.max_zip_total_bytes} bytes",
            )

    def read(self, name: str) -> bytes:
        """Decompressed content of one member.

        Raises
        ------
        RecordError
            ``zip-bomb`` (too big or too compressed, declared or actual), ``bad-zip-member``
            (damaged data, CRC mismatch), ``unsupported-compression`` or ``encrypted-member``.
        """
        info = self.archive.getinfo(name)
        if info.flag_bits & 0x1:
            raise RecordError("encrypted-member", f"member {name!r} is encrypted")
        self._check_declared(info)
        cap = self.limits.max_member_bytes
        try:
            if info.compress_type == ZIP_ZSTD:
                data = self._read_zstd(info, cap)
            else:
                with self.archive.open(info) as handle:
                    data = handle.read(cap + 1)
        except NotImplementedError as err:
            raise RecordError(
                "unsupported-compression", f"member {name!r}: {err} (method {info.compress_type})"
            ) from err
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise RecordError("bad-zip-member", f"member {name!r} is damaged: {err}") from err
        if len(data) > cap or len(data) != info.file_size:
            if len(data) > cap:
                raise RecordError(
                    "zip-bomb", f"member {name!r} expands past the limit of {cap} bytes"
                )
            raise RecordError(
                "bad-zip-member",
                f"member {name!r} holds {len(data)} bytes, not the {info.file_size} declared",
            )
        self.total += len(data)
        return data

    def _read_zstd(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        import zstandard

        with open(self.path, "rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(_LOCAL_HEADER.size)
            if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
                raise zipfile.BadZipFile("no local file header")
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
            packed = handle.read(info.compress_size)
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(
                io.BytesIO(packed), read_across_frames=True
            )
            chunks = []
            size = 0
            while size <= cap:
                chunk = reader.read(min(1 << 20, cap + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except zstandard.ZstdError as err:
            raise zipfile.BadZipFile(f"zstd: {err}") from err
        data = b"".join(chunks)
        if size <= cap and zlib.crc32(data) != info.CRC:
            raise zipfile.BadZipFile("CRC mismatch")
        return data
