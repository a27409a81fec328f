"""The back-end protocol."""

from __future__ import annotations

from typing import Protocol

from vfiogen.context import Context
from vfiogen.ir.checked import CheckedModule


class Backend(Protocol):
    name: str
    """Also the sub-directory of the output its files go to, unless empty."""

    def check(self, module: CheckedModule, ctx: Context) -> None:
        """Report anything this back end cannot express (most checks belong in `passes/`)."""

    def render(self, module: CheckedModule) -> dict[str, str]:
        """Return {path relative to the output directory: file text}."""
