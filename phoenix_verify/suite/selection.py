"""Skip importing a layer's test directory when `-m` cannot select any of its tests.

pytest applies `-m` only after it has imported every test module; `pytest -m host` would otherwise import the
gateway, vLLM and firewall modules (and their clients) just to deselect them. Every test under `tests/<layer>/`
carries that layer's marker and no other layer's, so a directory can go when the expression is false for its layer
under every truth value of the expression's other names.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

from _pytest.mark.expression import Expression, Scanner, TokenType

from phoenix_verify.suite.markers import LAYERS

MAX_FREE_NAMES = 8   # beyond this the expression is kept as pytest wrote it: 2**8 evaluations at most


def _names(expr: str) -> set[str]:
    """Every identifier of the expression (keyword-argument names too: harmless extra evaluations)."""
    names: set[str] = set()
    scanner = Scanner(expr)
    while scanner.current.type is not TokenType.EOF:
        if scanner.current.type is TokenType.IDENT:
            names.add(scanner.current.value)
        scanner.current = next(scanner.tokens)
    return names


def _matcher(layer: str, truth: dict[str, bool]) -> Callable[..., bool]:
    def matcher(name: str, /, **kwargs: str | int | bool | None) -> bool:
        return name == layer if name in LAYERS else truth.get(name, False)
    return matcher


def layer_can_match(markexpr: str, layer: str) -> bool:
    """False only when no test of `layer` can satisfy `markexpr`, whatever its other markers are."""
    try:
        compiled = Expression.compile(markexpr)
    except SyntaxError:
        return True   # pytest reports the bad expression itself
    free = sorted(_names(markexpr) - set(LAYERS))
    if len(free) > MAX_FREE_NAMES:
        return True
    for values in itertools.product((False, True), repeat=len(free)):
        if compiled.evaluate(_matcher(layer, dict(zip(free, values, strict=True)))):
            return True
    return False


def prunable_layer_dir(path: Path, markexpr: str) -> bool:
    """A `tests/<layer>` directory whose tests `-m` cannot select."""
    return bool(markexpr) and path.name in LAYERS and path.parent.name == "tests" and not layer_can_match(markexpr, path.name)
