"""A report's documented JSON (``to_json()``) as text and as a file.

Apart from :mod:`.tabular` (which re-exports both) so that a JSON report
imports no other report's module at start-up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from juzhang.exporters.shared import Report

__all__ = ["render_json", "write_json"]


def render_json(report: Report) -> str:
    """Return the report's documented JSON (``to_json()``) as text, without a final newline."""
    data: dict[str, Any] = report.to_json()
    return json.dumps(data, ensure_ascii=False, indent=2)


def write_json(report: Report, path: Path) -> None:
    """Write the report's JSON to ``path`` (UTF-8, final newline).

    Raises:
        OSError: the file cannot be written.
    """
    path.write_text(render_json(report) + "\n", encoding="utf-8")
