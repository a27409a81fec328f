"""State shared by the passes of one compilation: diagnostics, sources, symbol tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from vfiogen.diagnostics import Reporter, SourceMap
from vfiogen.ir.symbols import SectionSymbols
from vfiogen.source import Span


@dataclass
class Context:
    reporter: Reporter
    sources: SourceMap = field(default_factory=SourceMap)
    symbols: dict[str, SectionSymbols] = field(default_factory=dict)
    """Filled by `resolve`; read-only afterwards."""
    pass_name: str = ""
    """The pass running now."""
    focus: Span | None = None
    """What the running pass is working on, for internal-error reports."""
