"""Parametrize conformance tests from the declared state.

Tests call these at import (collection) time; the target and inventory are loaded once per process, and
bad input stops the run with one line instead of a collection traceback.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from phoenix_model.inventory import Container, Inventory, InventoryError, load_inventory
from phoenix_verify.access import netns
from phoenix_verify.suite.redact import register_secret
from phoenix_verify.target import Target, TargetError, load_target

_explicit_target: str | None = None


def configure(explicit_target: str | None) -> None:
    global _explicit_target
    _explicit_target = explicit_target
    target.cache_clear()
    inventory.cache_clear()


@functools.cache
def target() -> Target:
    try:
        tgt = load_target(_explicit_target)
        if tgt.is_lab:
            netns.enter_lab(tgt)
        if tgt.has_api:
            register_secret(tgt.token_secret())
    except TargetError as exc:
        pytest.exit(str(exc), returncode=2)
    return tgt


def loaded_target() -> Target | None:
    """The session's target if one is configured and usable, else None (reports and metadata must not stop a run)."""
    if not target.cache_info().currsize:
        try:
            load_target(_explicit_target)
        except TargetError:
            return None
    return target()


@functools.cache
def inventory() -> Inventory:
    try:
        inv = load_inventory(target().inventory_dir)
    except InventoryError as exc:
        pytest.exit(str(exc), returncode=2)
    for secret in inv.secret_values:    # a credential written in the config must never reach a report
        register_secret(secret)
    return inv


def documents() -> list[str]:
    """The config files the inventory was read from (one static test per file and layer)."""
    return list(inventory().documents)


def ct_param(ct: Container, *values: Any) -> Any:
    marks = [pytest.mark.ctid(ct.ctid, n=ct.ctid)]
    return pytest.param(*(values or (ct,)), id=ct.slug, marks=marks)


def cts(predicate: Callable[[Container], bool] | None = None) -> list[Any]:
    """One param per declared CT matching `predicate`, id = `ct951-vllm-granite-embed-r2`."""
    return [ct_param(ct) for ct in inventory().containers.values() if predicate is None or predicate(ct)]


def services(predicate: Callable[[Container], bool] | None = None) -> list[Any]:
    """Like `cts` but without templates."""
    return cts(lambda ct: not ct.is_template and (predicate is None or predicate(ct)))


def pairs(items: Iterable[tuple[Container, Any, str]],
          marks: Callable[[Container, Any], list[Any]] | None = None) -> list[Any]:
    """Params (ct, value) with id `<ct slug>-<suffix>`, e.g. one per declared mount or port; `marks` adds
    per-param marks (a remediation that depends on the value)."""
    return [
        pytest.param(ct, value, id=f"{ct.slug}-{suffix}",
                     marks=[pytest.mark.ctid(ct.ctid, n=ct.ctid), *(marks(ct, value) if marks else [])])
        for ct, value, suffix in items
    ]


def routes() -> tuple[Any, ...]:
    """The gateway contract's routes with the hostnames the target declares (`gateway.hostnames`)."""
    from phoenix_verify.gateway import contract

    return contract.routes(inventory(), *contract.hosts_from(target().gateway_hostnames))


def main_host() -> str:
    from phoenix_verify.gateway import contract

    return contract.hosts_from(target().gateway_hostnames)[0]
