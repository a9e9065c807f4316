"""The `commerce-gateway` console script and `run`, above both: composes core and bridge."""
