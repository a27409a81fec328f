"""Error-golden cases whose golden holds the CORRECT output, which the compiler does not give yet.

Each entry maps a case name (a file `tests/errors/<name>.yaml` or a directory
`tests/errors/<name>/`) to the compiler bug it exposes. `test_errors.py` runs
these cases as `xfail(strict=True)`: fixing the bug makes the case pass, the
xfail then fails as XPASS, and the entry must be deleted from here.
`--update-goldens` never rewrites these goldens.
"""

from __future__ import annotations

KNOWN_FAILURES: dict[str, str] = {}
