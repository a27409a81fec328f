"""The C back end: C99 headers and sources a hypervisor vendors as they are."""
