"""Nightly runs: history, index page, trend graph and Prometheus textfile."""
