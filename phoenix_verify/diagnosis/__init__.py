"""Diagnosis: places failures on the decision tree (host -> lxc -> service -> gateway -> firewall)."""
