"""Is the CT's vLLM server running with the declared model and `vllm_args`? Read from the batched CT facts."""
from __future__ import annotations

import itertools

from phoenix_verify.access.ct_facts import CtFacts
from phoenix_verify.inventory import VllmSpec

SERVER_MARKERS = ("vllm serve", "vllm.entrypoints", "vllm_server.py", "/vllm ")


def server_cmdlines(facts: CtFacts) -> list[list[str]]:
    return [p.args.split() for p in facts.processes
            if any(m in p.args for m in SERVER_MARKERS) and not p.args.startswith("/bin/sh -c")]


def _contains(tokens: list[str], seq: list[str]) -> bool:
    return any(tokens[i:i + len(seq)] == seq for i in range(len(tokens) - len(seq) + 1))


def arg_problems(facts: CtFacts, spec: VllmSpec) -> list[str]:
    """Empty when one vLLM server process carries the model and every declared flag with its value."""
    cmdlines = server_cmdlines(facts)
    if not cmdlines:
        return ["no vLLM server process is running"]
    best: list[str] | None = None
    for tokens in cmdlines:
        problems = [] if spec.model in tokens else [f"model {spec.model} not on the command line"]
        flags = [i for i, a in enumerate(spec.args) if a.startswith("--")] + [len(spec.args)]
        for start, end in itertools.pairwise(flags):
            group = list(spec.args[start:end])
            if not _contains(tokens, group):
                problems.append(f"declared '{' '.join(group)}' missing")
        if best is None or len(problems) < len(best):
            best = problems
    return best or []
