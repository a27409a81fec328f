"""Front end: read YAML into located nodes, check them against the meta-schema, lower to IR."""
