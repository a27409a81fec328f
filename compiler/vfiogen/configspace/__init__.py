"""Reading real configuration space: dumps, capability chains, and what the schemas capture from them.

Used by `vfiogen inspect` and `vfiogen capture`; independent of the back ends
(it interprets the checked IR's capture plan, as the generated code does).
"""
