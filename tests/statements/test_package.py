"""The lazy public names of juzhang.statements and juzhang.importers.

Both packages export their names on first use (PEP 562 ``__getattr__``) so
that a command importing one service does not import the file readers.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["juzhang.statements", "juzhang.importers"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_resolves_to_its_module(name: str) -> None:
    package = importlib.import_module(name)
    table: dict[str, str] = vars(package)["_EXPORTS"]
    assert sorted(table) == sorted(package.__all__)
    for export, module in table.items():
        assert getattr(package, export) is getattr(importlib.import_module(module), export)
    assert set(package.__all__) <= set(dir(package))


@pytest.mark.parametrize("name", PACKAGES)
def test_an_unknown_name_is_an_attribute_error(name: str) -> None:
    package = importlib.import_module(name)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = package.no_such_name


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    )
    return set(out.stdout.split())


def test_accepting_lines_does_not_import_the_file_side() -> None:
    loaded = imported_after(
        "from juzhang import statements\nstatements.accept_statement_bulk\n"
        "import juzhang.cli.custody"
    )
    assert "juzhang.statements.lines" in loaded
    for heavy in ("juzhang.importers.bank", "juzhang.importers.reader", "openpyxl"):
        assert heavy not in loaded
