"""`vfiogen diff`: compare two schema locks and classify every change by a stable rule (docs/diff-rules.md)."""
