"""The layers of juzhang (分层) and the import arrows between them.

An arrow may run from a higher layer to a lower one or stay in its layer,
never upwards: core → importers (the file side) → storage → services →
reports, exporters and the month-end close → command line.  The file side
(``juzhang.importers``) reads files into rows and values and imports no
SQLAlchemy, no ``juzhang.storage`` and no service.  Imports inside functions
count as much as those at the top.  docs/architecture.md draws the same map.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "juzhang"

CORE, FILES, STORAGE, SERVICES, REPORTS, CLI = range(6)
NAMES = ["core", "importers", "storage", "services", "reports/exporters", "cli"]

LAYERS: dict[str, int] = {
    # core: domain values and rules, no database, no file format
    "juzhang.core": CORE,
    "juzhang.errors": CORE,
    "juzhang.money": CORE,
    "juzhang.clock": CORE,
    "juzhang.charts": CORE,
    "juzhang.config_file": CORE,
    "juzhang.voucher_file": CORE,
    "juzhang.budget_file": SERVICES,  # reads budget.toml into the service's BudgetInput
    # the file side: files into rows and values
    "juzhang.importers": FILES,
    # the database
    "juzhang.storage": STORAGE,
    "juzhang": STORAGE,  # the package's front door re-exports core names and open_engine
    # services: the one way into the books
    "juzhang.agency": SERVICES,
    "juzhang.books": SERVICES,
    "juzhang.budget": SERVICES,
    "juzhang.cash_count": SERVICES,
    "juzhang.custody": SERVICES,
    "juzhang.claims": SERVICES,
    "juzhang.statements": SERVICES,
    "juzhang.beancount_import": SERVICES,
    "juzhang.import_batch": SERVICES,
    "juzhang.disclosure_config": SERVICES,
    "juzhang.question": SERVICES,  # 提问栏/回音栏: residents' questions and answers
    "juzhang.risk_config": SERVICES,  # 廉政风险提示 thresholds, stored per community
    "juzhang.verify": SERVICES,
    "juzhang.role_audit": SERVICES,
    "juzhang.anchors": SERVICES,
    # reports calculate, exporters render; the month-end close checks with the reports
    "juzhang.reports": REPORTS,
    "juzhang.exporters": REPORTS,
    "juzhang.exporters.site": REPORTS,  # the published boards as a web site (publish)
    "juzhang.exporters.qr": REPORTS,  # the QR code of a board's page (segno's one door)
    "juzhang.closing": REPORTS,
    "juzhang.closing_run": REPORTS,
    "juzhang.risk": REPORTS,  # 廉政风险提示: checks that read the books, claims and journals
    # the command line and the scripted demo
    "juzhang.cli": CLI,
    "juzhang.demo": CLI,
    "juzhang.examples": CLI,  # the demo's data (examples/, installed as juzhang.examples)
}

# Arrows that run upwards today, each with why it stays (keep this short).
KNOWN_UPWARD: dict[tuple[str, str], str] = {}

FILE_SIDE_MAY_NOT_IMPORT = ("sqlalchemy", "juzhang.storage")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    """The layer of the longest prefix of ``module`` in :data:`LAYERS`."""
    if module == "juzhang":
        return LAYERS[module]
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        found = LAYERS.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None


def imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found


def test_every_module_has_a_layer() -> None:
    missing = [m for m in modules() if layer_of(m) is None]
    assert not missing, (
        f"add these modules to LAYERS in tests/test_layers.py (and docs/architecture.md): "
        f"{missing}"
    )


def test_the_file_side_touches_no_database_and_no_service() -> None:
    known = set(modules())
    bad = []
    for module, path in modules().items():
        if layer_of(module) != FILES:
            continue
        for target in imports(path, module, known):
            upward = target.startswith("juzhang") and (layer_of(target) or 0) > FILES
            if upward or target.split(".")[0] in FILE_SIDE_MAY_NOT_IMPORT or any(
                target == name or target.startswith(name + ".")
                for name in FILE_SIDE_MAY_NOT_IMPORT
            ):
                bad.append(f"{module} imports {target}")
    assert not bad, "importers/ reads files only:\n" + "\n".join(bad)


def test_no_import_runs_from_a_lower_layer_to_a_higher_one() -> None:
    known = set(modules())
    bad = []
    for module, path in modules().items():
        here = layer_of(module)
        assert here is not None
        for target in imports(path, module, known):
            if not target.startswith("juzhang"):
                continue
            there = layer_of(target)
            if there is not None and there > here and (module, target) not in KNOWN_UPWARD:
                bad.append(f"{module} ({NAMES[here]}) imports {target} ({NAMES[there]})")
    assert not bad, "imports must run downwards:\n" + "\n".join(sorted(bad))


def test_the_check_sees_function_level_imports(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from juzhang.storage import access\n", encoding="utf-8")
    assert imports(path, "juzhang.importers.m", {"juzhang.storage.access"}) == {
        "juzhang.storage.access"
    }
