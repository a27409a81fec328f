"""A device's migration as the command line sees it: which sections a dump has, their descriptor in its JSON
form, the compat verdict between two descriptors, and a captured state as a blob.

Everything here interprets the checked IR's plan (descriptor items, compat checks, wire layout), as
`configspace` does for capture, so `vfiogen inspect --descriptor`, `compat` and `capture` agree with the
generated code without importing it.
"""
