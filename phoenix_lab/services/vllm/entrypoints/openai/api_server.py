"""`python -m vllm.entrypoints.openai.api_server ARGS`: runs the lab's vLLM-compatible server with vLLM's args."""
from vllm_server import main

if __name__ == "__main__":
    main()
