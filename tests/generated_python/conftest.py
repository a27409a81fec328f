"""Tests of the generated Python package: import it from generated/python/, as a user would vendor it."""

from __future__ import annotations

import sys
from pathlib import Path

GENERATED_PYTHON = Path(__file__).resolve().parents[2] / "generated" / "python"
if str(GENERATED_PYTHON) not in sys.path:
    sys.path.insert(0, str(GENERATED_PYTHON))
