"""The one registry of known failures: tests whose expectation is right and the code is not, yet.

Each entry maps a case to the bug it exposes (with the issue it belongs to).
The harnesses run listed cases as `xfail(strict=True)`: fixing the bug makes
the case pass, the xfail then fails as XPASS, and the entry must be deleted.
Every harness also fails on an entry that names no case. All are empty now.
"""

from __future__ import annotations

ERROR_GOLDENS: dict[str, str] = {}
"""tests/errors/<case>: the golden holds the correct diagnostics (`--update-goldens` leaves these alone)."""

VECTORS: dict[str, str] = {}
"""tests/vectors/<group>/<case>: the hand-derived vector is right, the generated code is not."""

PCIUTILS_CAPTURE: dict[str, str] = {}
"""<dump>/<slot>/<capability>@<offset>/<field>: lspci's decode disagrees with the generated capture."""

C_VECTORS: dict[str, str] = {}
"""tests/vectors/<group>/<case>: the generated C disagrees with the vector or with the generated Python."""

LIBRARY_CONFORMANCE: dict[str, str] = {}
"""<dump>/<slot>/<schema>@<offset>/<field>: lspci's decode disagrees with what inspect captures for a library schema
(tests/test_library_conformance.py)."""
