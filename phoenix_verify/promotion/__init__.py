"""The promotion gate for clones of a template (920 -> 950/951)."""
