"""Remediation planning: maps a failing check to the remediate/ script and the commands it would run."""
