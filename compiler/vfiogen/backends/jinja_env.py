"""The one Jinja2 environment factory, with the filters templates share."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def hex_filter(value: int, digits: int = 0) -> str:
    return f"0x{value:0{digits}x}"


def md_cell(text: object) -> str:
    """Make a value safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between builds, in the per-user cache directory (`vfiogen.cache.directory`: the
    one jinja would choose, under the temporary directory) and keyed by each template's source (compiling them
    was a fifth of `vfiogen build`); none when that directory cannot be made safely, which only costs the time."""
    import jinja2

    from vfiogen.cache import directory

    chosen = directory()
    return jinja2.FileSystemBytecodeCache(chosen) if chosen is not None else None


@functools.cache
def cache_directory() -> str | None:
    """The per-user directory the compiled templates are kept in (None without one), for other caches a build
    keeps between runs (the C back end's laid-out statements)."""
    directory = getattr(_bytecode_cache(), "directory", None)  # jinja's FileSystemBytecodeCache has one
    return directory if isinstance(directory, str) else None


@functools.cache
def environment(package: str) -> jinja2.Environment:
    """An environment loading `templates/` of back-end package `package`."""
    import jinja2  # here, not at the top: `vfiogen check` never renders, so never pays for it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # emits code and Markdown, never HTML
        bytecode_cache=_bytecode_cache(),
        extensions=["jinja2.ext.loopcontrols"],  # `continue` in a loop: a repeated section's case, then the rest
    )
    env.filters["hex"] = hex_filter
    env.filters["cell"] = md_cell
    env.filters["rstrip"] = lambda text: str(text).rstrip()
    return env
