"""juzhang.exporters' lazy names, and a JSON report's start-up imports."""

from __future__ import annotations

import importlib

from juzhang.exporters import json_text, tabular
from tests.statements.test_package import imported_after


def test_every_public_name_resolves_to_its_module() -> None:
    package = importlib.import_module("juzhang.exporters")
    table: dict[str, str] = vars(package)["_EXPORTS"]
    assert sorted(table) == sorted(package.__all__)
    for export, module in table.items():
        assert getattr(package, export) is getattr(importlib.import_module(module), export)


def test_tabular_still_offers_the_json_writers() -> None:
    assert tabular.render_json is json_text.render_json
    assert tabular.write_json is json_text.write_json


def test_the_report_commands_import_no_other_report_at_start() -> None:
    loaded = imported_after("import juzhang.cli.report")
    assert "juzhang.reports.trial_balance" in loaded
    for other in (
        "juzhang.reports.ledger",
        "juzhang.reports.statements",
        "juzhang.exporters.tabular",
        "juzhang.exporters.shared",
        "openpyxl",
    ):
        assert other not in loaded
