"""When the phoenix plugin acts, and `--target PATH` in its space form.

The plugin is installed for every pytest run in the environment (a pytest11 entry point), so it stays inert
unless the phoenix suite is what is being run: a `--target` is given, `./phoenix.toml` exists, or the paths
collected are the suite's (the checkout's `tests/` or the installed `phoenix_verify.tests`).

pytest decides its rootdir and ini file before entry-point plugins declare their options, so in
`pytest --target /etc/phoenix/phoenix.toml` the path is taken for a test path: the ini next to the suite is
never found (no testpaths, no addopts) and the whole invocation directory is collected. `repair_space_form`
re-runs that decision without the target's path, exactly as `--target=PATH` would have had it.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from phoenix_verify import locations

OPTION = "--target"


def is_suite_run(config: pytest.Config) -> bool:
    if config.getoption(OPTION, None) or (config.invocation_params.dir / "phoenix.toml").is_file():
        return True
    suite = locations.suite_dir()
    for arg in config.args:
        text = str(arg).split("::", 1)[0]
        if text == locations.SUITE_PACKAGE or text.startswith(locations.SUITE_PACKAGE + "."):
            return True
        path = Path(text) if Path(text).is_absolute() else config.invocation_params.dir / text
        if path.resolve().is_relative_to(suite) or suite.is_relative_to(path.resolve()) and path.resolve() != Path("/"):
            return True
    return False


def space_form_value(args: list[str]) -> str | None:
    """The value of `--target VALUE` (not `--target=VALUE`) in the command line, if present."""
    for i, arg in enumerate(args[:-1]):
        if arg == OPTION:
            return args[i + 1]
    return None


def repair_space_form(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Redo pytest's rootdir/ini decision with the target's path removed from the test paths (see module doc)."""
    from _pytest.config.findpaths import determine_setup

    value = space_form_value(args)
    ns = early_config.known_args_namespace
    if value is None or ns.inifilename or ns.rootdir:
        return
    rootpath, inipath, inicfg, _ = determine_setup(
        inifile=None, override_ini=ns.override_ini, args=list(ns.file_or_dir), rootdir_cmd_arg=None,
        invocation_dir=early_config.invocation_params.dir)
    if inipath == early_config.inipath:
        return
    early_config._rootpath, early_config._inipath, early_config._inicfg = rootpath, inipath, inicfg
    early_config._inicache.clear()
    early_config._parser.extra_info.update(rootdir=str(rootpath), inifile=str(inipath))
    args[:0] = early_config.getini("addopts")
    early_config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(early_config.option))
    early_config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)
