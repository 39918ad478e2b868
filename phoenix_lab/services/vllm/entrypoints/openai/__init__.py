"""vLLM OpenAI-compatible entrypoints (lab stand-in)."""
