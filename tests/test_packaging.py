"""pyproject.toml lists every package, so a wheel holds all of juzhang, its examples
and its migrations, and `juzhang db upgrade` works from the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from juzhang.storage.engine import alembic_config

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
    } | {
        ".".join(("juzhang", *p.parent.relative_to(ROOT).parts))
        for p in (ROOT / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    listed = set(_setuptools()["packages"])  # type: ignore[call-overload]
    assert found - listed == set(), "add these packages to pyproject.toml"
    assert listed - found == {"juzhang.examples"}


def test_the_examples_folder_is_installed_as_juzhang_examples() -> None:
    mapping = _setuptools()["package-dir"]
    assert mapping == {
        "": "src",
        "juzhang.examples": "examples",
        "juzhang.migrations": "migrations",
    }
    assert (ROOT / "examples" / "__init__.py").is_file()
    import juzhang.examples.demo_data as demo_data

    assert Path(demo_data.__file__).resolve() == ROOT / "examples" / "demo_data.py"


def test_the_migrations_folder_is_installed_as_juzhang_migrations() -> None:
    assert (ROOT / "migrations" / "__init__.py").is_file()
    assert Path(alembic_config().get_main_option("script_location")) == ROOT / "migrations"


@pytest.mark.slow
def test_a_wheel_holds_the_migrations_and_upgrades_a_database(tmp_path: Path) -> None:
    """Build the wheel, unpack it, and run `juzhang db upgrade` from the unpacked copy."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("juzhang-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    shipped = {
        "juzhang/migrations/" + p.relative_to(ROOT / "migrations").as_posix()
        for p in (ROOT / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert shipped - names == set()
    assert any(n.endswith(".sql") for n in shipped)
    script = (
        "import sys, juzhang, juzhang.migrations\n"
        "from juzhang.cli import main\n"
        "print(juzhang.__file__)\n"
        "print(juzhang.migrations.__file__)\n"
        "sys.argv = ['juzhang', '--db', sys.argv[1], 'db', 'upgrade']\n"
        "main()\n"
    )
    db = tmp_path / "wheel.db"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    env.pop("JUZHANG_DB", None)
    run = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{db}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    package, migrations = run.stdout.splitlines()[:2]
    assert Path(package).is_relative_to(tmp_path / "site")
    assert Path(migrations).is_relative_to(tmp_path / "site")

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        triggers = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        ).scalar_one()
    engine.dispose()
    assert (
        version == sorted(p.name[:4] for p in (ROOT / "migrations" / "versions").glob("0*.py"))[-1]
    )
    assert triggers > 20
