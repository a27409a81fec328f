"""Configuration-space dumps: a binary file (64, 256 or 4096 bytes, as sysfs `config` gives) or `lspci -x` text.

`lspci -x`, `-xxx` and `-xxxx` print, per function, a line naming it
(`00:1f.3 Audio device: ...`, with or without a domain) and the bytes as hex
rows (`00: 86 80 ...`, 16 a row); `-v` lines may stand between the two and
are skipped. A binary file is one function; it is named by its sysfs
directory when it is a sysfs `config` file, else by its file name.
"""

from __future__ import annotations

import re
from pathlib import Path

from dataclasses import dataclass

SIZES = (64, 256, 4096)
"""What a dump may hold: the header alone (an unprivileged sysfs read), PCI space, PCIe extended space."""

_ADDRESS = re.compile(r"^(?:(?P<domain>[0-9a-fA-F]{4,8}):)?(?P<bus>[0-9a-fA-F]{2}):(?P<dev>[0-9a-fA-F]{2})"
                      r"\.(?P<fn>[0-7])(?=\s|$)")
_ROW = re.compile(r"^(?P<offset>[0-9a-fA-F]{2,3}):(?P<bytes>(?: [0-9a-fA-F]{2}){1,16})\s*$")


class DumpError(ValueError):
    """The input is neither a binary dump nor lspci hex text; the message says where and why."""


@dataclass(frozen=True)
class Function:
    """One PCI function's configuration space, as far as the dump holds it."""

    address: str
    """`0000:00:1f.3`, or the file's name when the dump does not say."""
    title: str
    config: bytes

    def read(self, offset: int, size: int) -> int | None:
        """The little-endian value of `size` bytes at `offset`, or None when the dump does not hold them."""
        if offset < 0 or offset + size > len(self.config):
            return None
        return int.from_bytes(self.config[offset:offset + size], "little")


def normalise_address(text: str) -> str | None:
    """`00:1f.3` or `0000:00:1f.3` as `0000:00:1f.3`; None when `text` does not start with an address."""
    match = _ADDRESS.match(text)
    if match is None:
        return None
    domain = int(match["domain"] or "0", 16)
    return f"{domain:04x}:{match['bus'].lower()}:{match['dev'].lower()}.{match['fn']}"


def parse_text(text: str, source: str) -> list[Function]:
    """Every function of `lspci -x`/`-xxx`/`-xxxx` text, in order.

    Raises:
        DumpError: hex rows before any function line, rows out of order or short, or a size not in `SIZES`.
    """
    functions: list[Function] = []
    address: str | None = None
    title = ""
    rows: list[bytes] = []

    def close(line: int) -> None:
        if address is None:
            return
        config = b"".join(rows)
        if len(config) not in SIZES:
            raise DumpError(f"{source}:{line}: {address} has {len(config)} bytes of configuration space, "
                            f"not {', '.join(map(str, SIZES))}")
        functions.append(Function(address, title, config))

    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        found = normalise_address(line)
        if found is not None:
            close(number)
            address, title, rows = found, line.strip(), []
            continue
        row = _ROW.match(line)
        if row is None:
            continue  # -v text, blank lines
        if address is None:
            raise DumpError(f"{source}:{number}: a hex row before any function line")
        offset, data = int(row["offset"], 16), bytes.fromhex(row["bytes"].replace(" ", ""))
        expected = sum(len(r) for r in rows)
        if offset != expected or (rows and len(rows[-1]) != 16):
            raise DumpError(f"{source}:{number}: {address}: a row at 0x{offset:x} where 0x{expected:x} was due")
        rows.append(data)
    close(len(lines) + 1)
    if not functions:
        raise DumpError(f"{source}: no function line followed by hex rows (as `lspci -x` prints)")
    return functions


def read_dump(path: Path) -> list[Function]:
    """The functions of a dump file: lspci hex text, or one function's binary configuration space.

    Raises:
        DumpError: the file cannot be read or is neither form.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DumpError(f"{path}: cannot read it: {exc.strerror}") from None
    return parse_dump(data, path)


def parse_dump(data: bytes, path: Path) -> list[Function]:
    """The functions of a dump's bytes, read from `path` (which names a binary dump's function).

    Raises:
        DumpError: the bytes are neither form.
    """
    text = _as_text(data)
    if text is not None and any(_ROW.match(line) for line in text.splitlines()):
        return parse_text(text, str(path))
    if len(data) not in SIZES:
        raise DumpError(f"{path}: {len(data)} bytes is not a configuration space ({', '.join(map(str, SIZES))} "
                        "bytes) and the file is not lspci -x text")
    parent = path.resolve().parent.name if path.name == "config" else ""
    address = normalise_address(parent) or path.name
    return [Function(address, "", data)]


def _as_text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
