"""The intermediate representation: frozen, located, free of parent links."""
