"""Checking passes, in the order `driver.PASSES` runs them."""

PASS_NAMES = ("load_yaml", "check_meta_schema", "lower", "resolve", "typecheck", "layout", "semantics", "normalize")
"""`driver.PASSES` by name (the driver checks that they agree), here so that the command line can name them
without importing the passes."""

FREEZE_PASS = "normalize"
"""The last pass reports nothing: it freezes the checked module with its derived layouts and plans for the
back ends. `vfiogen check` stops before it (a third of its time), unless asked to dump its IR."""


class PassNameError(ValueError):
    """`--stop-before` or `--dump-ir-after` named no pass."""
