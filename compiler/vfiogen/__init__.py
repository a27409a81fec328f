"""vfiogen: a declarative schema compiler for VFIO live-migration state.

YAML schemas describe PCI capability state; the compiler checks them and
emits a schema lock, documentation and (in later back ends) Python and C.
"""

DEFAULT_LICENSE = "GPL-2.0-or-later OR MIT"
"""The licence of generated code when neither `--license` nor the schemas' options file gives one: what QEMU
(GPL-2.0-or-later), the Linux kernel (GPL-2.0) and rust-vmm (Apache-2.0 OR BSD-3-Clause, which takes MIT) can
all take. Here rather than in `spdx`, so that the command line's help names it without importing that."""
