"""C names for schema names, in one place: a `vfg_` prefix, the section, and C keyword escaping."""

from __future__ import annotations

PREFIX = "vfg"

_C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while bool true false""".split())


def ident(name: str) -> str:
    """A member or parameter name: schema names are snake_case; C keywords get a trailing '_'."""
    return f"{name}_" if name in _C_KEYWORDS else name


def symbol(section: str, *parts: str) -> str:
    """A file-scope function or type name: vfg_<section>_<parts>."""
    return "_".join([PREFIX, section, *parts])


def macro(section: str, *parts: str) -> str:
    """A macro name: VFG_<SECTION>_<PARTS>."""
    return symbol(section, *parts).upper()


C_TYPES = {"u8": "uint8_t", "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t", "s8": "int8_t",
           "s16": "int16_t", "s32": "int32_t", "s64": "int64_t", "bool": "bool"}


def register_type(width: int) -> str:
    return f"uint{width}_t"


def decimal(value: int) -> str:
    """A constant of a schema integer type (u8..u64, s8..s64) as C decimal text of a type that holds it.

    An unsuffixed decimal constant is `int`, `long` or `long long`, whichever
    holds it, so only the values no signed type holds need spelling out: a
    u64 above INT64_MAX, and INT64_MIN (whose magnitude is not an `int64_t`).
    """
    if value > (1 << 63) - 1:
        return f"UINT64_C({value})"
    if value == -(1 << 63):
        return "(-INT64_MAX - 1)"
    return str(value) if value >= 0 else f"({value})"


def literal(value: int, width: int) -> str:
    """An unsigned constant of the right size (`u` or `ull`), so -Wconversion stays quiet."""
    return f"0x{value:x}ull" if width > 32 else f"0x{value:x}u"


def string(text: str) -> str:
    """A C string literal of `text` as UTF-8: quote, backslash and every byte outside printable ASCII escaped
    (in octal, which never runs into a following digit the way a hex escape would)."""
    out = []
    previous = ""
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F and not (char == "?" and previous == "?"):  # no trigraph "??x"
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
        previous = char
    return '"' + "".join(out) + '"'


def string_pieces(text: str, width: int = 60) -> list[str]:
    """`text` as adjacent C string literals of at most about `width` characters each, split after spaces, so a
    long message stays within the line limit (C joins adjacent literals)."""
    pieces, current = [], ""
    for word in text.split(" "):
        if current and len(current) + len(word) + 1 > width:
            pieces.append(current + " ")
            current = word
        else:
            current = f"{current} {word}" if current else word
    pieces.append(current)
    return [string(piece) for piece in pieces]
