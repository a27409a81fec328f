"""State shared by the passes of one compilation: diagnostics, sources, symbol tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from vfiogen.diagnostics import Reporter, SourceMap
from vfiogen.ir.symbols import SectionSymbols


@dataclass
class Context:
    reporter: Reporter
    sources: SourceMap = field(default_factory=SourceMap)
    symbols: dict[str, SectionSymbols] = field(default_factory=dict)
    """Filled by `resolve`; read-only afterwards."""
