"""Checking passes, in the order `driver.PASSES` runs them."""
