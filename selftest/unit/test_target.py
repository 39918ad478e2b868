"""phoenix.toml parsing: defaults, the lab fallback, and one-line errors naming file and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_verify import target as target_mod
from phoenix_verify.target import LAB_NOT_RUNNING, TargetError, load_target, parse_target


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "phoenix.toml"
    path.write_text(text)
    return path


def test_full_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_text("0b1c2d3e-uuid\n")
    path = write(tmp_path, f"""
[inventory]
config_dir = "inv"
[proxmox]
node = "pve"
api_url = "https://198.18.0.13:8006"
token_id = "root@pam!phoenix-verify"
token_secret_file = "{tmp_path / 'secret'}"
[gateway]
address = "198.18.0.153"
hostnames = ["phoenix.local"]
""")
    tgt = parse_target(path)
    assert tgt.inventory_dir == tmp_path / "inv"
    assert tgt.has_api and tgt.token_secret() == "0b1c2d3e-uuid"
    assert "0b1c2d3e-uuid" not in repr(tgt) and "0b1c2d3e-uuid" not in str(tgt.facts())
    assert tgt.gateway_hostnames == ("phoenix.local",) and not tgt.is_lab


def test_inline_secret_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[inventory]\nconfig_dir = "x"\n[proxmox]\ntoken_secret = "abc"\n')
    with pytest.raises(TargetError, match=r"proxmox.token_secret: secrets must not be inline"):
        parse_target(path)


@pytest.mark.parametrize("text, message", [
    ("[inventory\n", "invalid TOML"),
    ("[proxmox]\nnode = 'pve'\n", "inventory.config_dir: is required"),
    ("[inventory]\nconfig_dir = 3\n", "inventory.config_dir: expected a string"),
    ("[inventory]\nconfig_dir = 'x'\n[access]\npct = 'telnet://x'\n", "access.pct:"),
    ("[inventory]\nconfig_dir = 'x'\n[gateway]\nhostnames = 'a'\n", "gateway.hostnames: expected a list"),
    ("[inventory]\nconfig_dir = 'x'\n[bogus]\n", "[bogus]: unknown section"),
])
def test_bad_target_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target(write(tmp_path, text))
    assert message in str(info.value) and "\n" not in str(info.value) and str(tmp_path) in str(info.value)


def test_env_secret_missing_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PHX_TEST_TOKEN", raising=False)
    tgt = parse_target(write(tmp_path, '[inventory]\nconfig_dir="x"\n[proxmox]\napi_url="https://198.18.0.13:8006"\n'
                                       'token_id="a@pam!b"\ntoken_secret_env="PHX_TEST_TOKEN"\n'))
    with pytest.raises(TargetError, match=r"\$PHX_TEST_TOKEN is not set"):
        tgt.token_secret()


def test_no_target_and_no_lab_says_how_to_start_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PHOENIX_TARGET", raising=False)
    monkeypatch.setenv("PHOENIX_LAB_HOME", str(tmp_path / "nolab"))
    with pytest.raises(TargetError) as info:
        load_target(None)
    assert str(info.value) == LAB_NOT_RUNNING


def test_lab_target_with_lab_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[inventory]\nconfig_dir="x"\n[lab]\nnetns="phx-test-absent"\n')
    monkeypatch.setattr(target_mod, "lab_is_up", lambda netns="": False)
    with pytest.raises(TargetError, match="the lab is not running"):
        load_target(path)


def test_explicit_target_must_exist(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="target config not found"):
        load_target(tmp_path / "missing.toml")


@pytest.mark.parametrize("text, expected", [("", True), ("[vllm]\nchat_semantics = false\n", False),
                                            ("[vllm]\nchat_semantics = true\n", True)])
def test_chat_semantics_defaults_on(tmp_path: Path, text: str, expected: bool) -> None:
    assert parse_target(write(tmp_path, "[inventory]\nconfig_dir = 'x'\n" + text)).chat_semantics is expected


def test_chat_semantics_must_be_a_boolean(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"vllm.chat_semantics: expected true or false"):
        parse_target(write(tmp_path, "[inventory]\nconfig_dir = 'x'\n[vllm]\nchat_semantics = 'no'\n"))


def test_host_gpus_flag(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text('[inventory]\nconfig_dir = "."\n[host]\ngpus = false\n')
    assert parse_target(tmp_path / "t.toml").gpus is False
    (tmp_path / "t.toml").write_text('[inventory]\nconfig_dir = "."\n[host]\ngpus = "no"\n')
    with pytest.raises(TargetError, match="host.gpus: expected true or false"):
        parse_target(tmp_path / "t.toml")
