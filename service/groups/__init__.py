"""Consumer groups: each matching event handled by one member of a fleet (issue 11)."""
