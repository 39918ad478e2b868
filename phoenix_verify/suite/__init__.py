"""The pytest suite: plugin, parameters, markers, reports, redaction and the live accessors tests use."""
