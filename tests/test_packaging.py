"""pyproject.toml lists every package, so a wheel holds all of juzhang and its examples."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setuptools() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(config["tool"]["setuptools"])


def test_every_package_under_src_is_listed() -> None:
    """Every folder with files, data folders too (setuptools warns of unlisted ones)."""
    found = {
        ".".join(p.parent.relative_to(ROOT / "src").parts)
        for p in (ROOT / "src" / "juzhang").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    listed = set(_setuptools()["packages"])  # type: ignore[call-overload]
    assert found - listed == set(), "add these packages to pyproject.toml"
    assert listed - found == {"juzhang.examples"}


def test_the_examples_folder_is_installed_as_juzhang_examples() -> None:
    mapping = _setuptools()["package-dir"]
    assert mapping == {"": "src", "juzhang.examples": "examples"}
    assert (ROOT / "examples" / "__init__.py").is_file()
    import juzhang.examples.demo_data as demo_data

    assert Path(demo_data.__file__).resolve() == ROOT / "examples" / "demo_data.py"
