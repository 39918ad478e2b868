"""Is the CT's vLLM server running with the declared model and `vllm_args`? Read from the batched CT facts."""
from __future__ import annotations

import itertools

from phoenix_model.inventory import VllmSpec
from phoenix_verify.access.ct_facts import CtFacts

SERVER_MARKERS = ("vllm serve", "vllm.entrypoints", "vllm_server.py", "/vllm ")


def server_cmdlines(facts: CtFacts) -> list[list[str]]:
    return [p.args.split() for p in facts.processes
            if any(m in p.args for m in SERVER_MARKERS) and not p.args.startswith("/bin/sh -c")]


def _contains(tokens: list[str], seq: list[str]) -> bool:
    return any(tokens[i:i + len(seq)] == seq for i in range(len(tokens) - len(seq) + 1))


# Flags the orchestrator derives from the CT's other vllm_* fields; any other flag must be declared in vllm_args
# or vllm_parameters, so a hand-edited unit (an extra engine flag) shows up as drift.
DERIVED_FLAGS = frozenset({"--model", "--served-model-name", "--host", "--port", "--task", "--runner", "--max-model-len",
                           "--gpu-memory-utilization", "--tensor-parallel-size", "--quantization", "--trust-remote-code"})


def _flag(token: str) -> str:
    return token.split("=", 1)[0]


def allowed_flags(spec: VllmSpec) -> set[str]:
    params = {"--" + str(k).replace("_", "-") for k in spec.parameters}
    return set(DERIVED_FLAGS) | {_flag(a) for a in spec.args if a.startswith("--")} | params


def arg_problems(facts: CtFacts, spec: VllmSpec) -> list[str]:
    """Empty when one vLLM server process carries the model and every declared flag with its value, and no flag
    that is neither declared nor derived from the declared fields."""
    cmdlines = server_cmdlines(facts)
    if not cmdlines:
        return ["no vLLM server process is running"]
    flags = [i for i, a in enumerate(spec.args) if a.startswith("--")] + [len(spec.args)]
    groups = [list(spec.args[start:end]) for start, end in itertools.pairwise(flags)]
    allowed = allowed_flags(spec)
    best: list[str] | None = None
    for tokens in cmdlines:
        problems = [] if spec.model in tokens else [f"model {spec.model} not on the command line"]
        problems += [f"declared '{' '.join(group)}' missing" for group in groups if not _contains(tokens, group)]
        problems += [f"undeclared '{t}' on the command line" for t in tokens if t.startswith("--") and _flag(t) not in allowed]
        if best is None or len(problems) < len(best):
            best = problems
    return best or []
