"""The schema lock back end."""
