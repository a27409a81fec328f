"""Back ends: each turns a `CheckedModule` into `{relative path: text}`; only the driver writes files."""
