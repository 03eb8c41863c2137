"""The shape of the code: `core` imports no app of the portal; an app imports only
`core` and the apps below it (accounts → customers → vip → marketing → performance),
never `crm_portal`, which composes them, nor `demo`. Imports inside functions count
too: a lazy import is still a dependency."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["core", "accounts", "customers", "vip", "marketing", "performance"]
ABOVE_THE_APPS = {"crm_portal", "demo"}
OURS = set(LAYERS) | ABOVE_THE_APPS


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return {(name, line) for name, line in found if name in OURS}


@pytest.mark.parametrize("package", LAYERS)
def test_a_layer_imports_only_the_layers_below_it(package):
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for name, line in sorted(_imported_packages(path))
        if name not in allowed
    ]
    assert not offences, "\n".join(offences)
