"""The layers, read from the code's own imports: no lower layer imports a higher one.

Data flows collect -> store -> score -> flag -> alert -> show. From the bottom up:

- leaves every layer may use: ``monitor.errors``, ``monitor.text``, ``monitor.config.types``,
  ``monitor.config.secrets``;
- ``collectors`` and ``models``: generic parts that know nothing of the monitor's store or jobs;
- ``monitor.store``: tables, engine, shared SQL; it imports no other part of the core;
- the core (config, ingest, scoring, escalations, spikes, alerts, context, status);
- the top: ``monitor.jobs``, ``monitor.scheduler``, ``monitor.cli``, ``monitor.lab``, and ``dashboard``.

Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEAVES = ("monitor.errors", "monitor.text", "monitor.config.types", "monitor.config.secrets")
TOP = ("monitor.jobs", "monitor.scheduler", "monitor.roles", "monitor.cli", "monitor.lab", "dashboard")
CORE = ("monitor.config", "monitor.store", "monitor.ingest", "monitor.scoring", "monitor.escalations",
        "monitor.spikes", "monitor.alerts", "monitor.context", "monitor.status", "monitor.health")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every project module ``path`` imports (absolute names), at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] in {"monitor", "collectors", "models", "dashboard"}}


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts)


def allowed(importer: str, imported: str) -> bool:
    """The layering rule for one import."""
    if within(imported, LEAVES) or imported.split(".")[0] == importer.split(".")[0] == "collectors":
        return True
    if importer.startswith("collectors"):
        return False  # collectors never reach into the monitor (its store, config loading or jobs)
    if importer.startswith("models"):
        return imported.startswith("models")
    if within(importer, TOP):
        return True
    if within(importer, ("monitor.store",)):
        return within(imported, ("monitor.store",))
    if within(importer, CORE):
        return not within(imported, TOP)
    return True


@pytest.mark.parametrize("path", sources("collectors", "models", "monitor", "dashboard"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_lower_layer_imports_a_higher_one(path: Path) -> None:
    importer = module_name(path)
    wrong = sorted(i for i in imports(path) if not allowed(importer, i) and not i.startswith(importer + "."))
    assert not wrong, f"{importer} imports {wrong}, a higher layer (see this test's docstring)"


def test_the_rule_catches_a_reach_upwards() -> None:
    assert not allowed("collectors.x", "monitor.store")
    assert not allowed("models.inference", "monitor.store")
    assert not allowed("monitor.store.tables", "monitor.ingest.pipeline")
    assert not allowed("monitor.spikes.detect", "dashboard.queries")
    assert not allowed("monitor.scoring", "monitor.jobs")
    assert allowed("monitor.jobs", "monitor.spikes") and allowed("dashboard.ui", "monitor.config")


def test_every_monitor_module_has_a_layer() -> None:
    """A new top-level module must be placed in a layer above, or the rule says nothing about it."""
    unplaced = [module_name(p) for p in (ROOT / "monitor").glob("*.py")
                if module_name(p) not in {"monitor", "monitor.__main__"}
                and not within(module_name(p), LEAVES + TOP + CORE)]
    assert not unplaced, f"{unplaced}: add them to LEAVES, CORE or TOP in this test"
