"""Shared by the core and the bridge (below both): logging, configuration, serving helpers and
the canonical-event checks. It imports neither `service` nor `bridge`."""
