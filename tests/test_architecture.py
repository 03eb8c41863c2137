"""The shape of the code: `core` imports no app of the portal; an app imports only
`core` and the apps below it (accounts → customers → vip → marketing → care → performance → analysis),
never `crm_portal`, which composes them, nor `demo`. Imports inside functions count
too: a lazy import is still a dependency."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["core", "accounts", "customers", "vip", "marketing", "care", "performance", "analysis", "credit"]
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


def _app_sources():
    for package in [*LAYERS, *sorted(ABOVE_THE_APPS)]:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_no_app_rewrites_a_query_tree_or_asks_for_a_plan_to_choose_its_sql():
    """A query is built from its parameters with the ORM's public API: assigning to
    `query.where` (or its children) breaks silently on a Django release, and an
    EXPLAIN per request makes the SQL depend on the planner's mood."""
    offences = []
    for path in _app_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                text = ast.unparse(target)
                if ".query.where" in text or text.endswith(".where.children") or ".where.children[" in text:
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno} assigns {text}")
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and node.value.lstrip().upper().startswith("EXPLAIN"):
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} runs EXPLAIN")
    assert not offences, "\n".join(offences)
