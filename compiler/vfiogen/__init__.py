"""vfiogen: a declarative schema compiler for VFIO live-migration state.

YAML schemas describe PCI capability state; the compiler checks them and
emits a schema lock, documentation and (in later back ends) Python and C.
"""
