"""vLLM entrypoints (lab stand-in)."""
