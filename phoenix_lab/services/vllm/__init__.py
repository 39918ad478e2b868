"""The lab's stand-in for the `vllm` package inside a vLLM CT, so `import vllm`, `vllm serve` and
`python -m vllm.entrypoints.openai.api_server` (what Phoenix's vllm_model_server unit runs) behave as on Phoenix."""
from vllm_server import VLLM_VERSION as __version__

__all__ = ["__version__"]
