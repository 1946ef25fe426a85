"""The documentation cannot drift from the code.

* docs/permissions.md is exactly what docs/gen_permissions.py prints from
  ``juzhang.core.duty.PERMISSIONS``;
* every public name of the documented modules has an entry in docs/api.md;
* the JSON samples in the docs have the shape the code reads and writes;
* every ``juzhang …`` command line in the docs names a real command and real
  options.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
import shlex
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer.main
from openpyxl import load_workbook

from juzhang.cli import app
from juzhang.reports.trial_balance import TrialBalance, TrialBalanceRow
from juzhang.voucher_file import parse_vouchers

DOCS = Path(__file__).resolve().parent.parent / "docs"
API = DOCS / "api.md"
REGENERATE = "run: python docs/gen_permissions.py > docs/permissions.md"

#: The modules docs/api.md documents, each in a section headed "## `module`".
DOCUMENTED = [
    "juzhang.agency",
    "juzhang.custody",
    "juzhang.books",
    "juzhang.verify",
    "juzhang.reports.trial_balance",
    "juzhang.money",
    "juzhang.core.period",
    "juzhang.core.voucher",
    "juzhang.core.duty",
    "juzhang.charts",
    "juzhang.errors",
    "juzhang.storage.engine",
    "juzhang.voucher_file",
    "juzhang.claims",
    "juzhang.importers.claims",
    "juzhang.importers.claims_config",
    "juzhang.exporters.claims_template",
    "juzhang.importers.rules",
    "juzhang.beancount_import",
    "juzhang.importers.beancount_file",
    "juzhang.importers.bank",
    "juzhang.importers.suggest",
    "juzhang.statements",
    "juzhang.reports.ledger",
    "juzhang.reports.statements",
    "juzhang.reports.reconciliation",
    "juzhang.reports.disclosure",
    "juzhang.exporters.excel",
    "juzhang.exporters.tabular",
    "juzhang.exporters.beancount",
    "juzhang.exporters.disclosure_excel",
    "juzhang.exporters.board_verify",
    "juzhang.exporters.site",
    "juzhang.exporters.qr",
    "juzhang.exporters.reconciliation_excel",
    "juzhang.closing",
    "juzhang.closing_run",
    "juzhang.cash_count",
    "juzhang.budget",
    "juzhang.disclosure_config",
    "juzhang.question",
    "juzhang.risk",
    "juzhang.risk_config",
]

GUIDES = [DOCS / "guide.zh.md", DOCS / "guide.en.md", DOCS / "database.md", API]


def _load_generator() -> ModuleType:
    path = DOCS / "gen_permissions.py"
    spec = importlib.util.spec_from_file_location("juzhang_gen_permissions", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- permissions


def test_permissions_doc_is_generated_from_the_table() -> None:
    expected = _load_generator().render()
    actual = (DOCS / "permissions.md").read_text(encoding="utf-8")
    assert actual == expected, f"docs/permissions.md is stale; {REGENERATE}"


def test_permission_table_has_a_mark_for_every_grant() -> None:
    from juzhang.core.duty import PERMISSIONS, Action

    table = _load_generator().table()
    rows = [ln for ln in table.splitlines() if ln.startswith("| ") and "<br>" in ln][1:]
    assert len(rows) == len(Action)
    for action, row in zip(Action, rows, strict=True):
        assert action.value in row
        assert row.count("✓") == len(PERMISSIONS[action])


# --------------------------------------------------------------------------- api.md


def _public_names(module: ModuleType) -> list[str]:
    """``__all__``, else the functions and classes the module itself defines."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return [n for n in names if not n.startswith("__")]
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    ]


def _sections(text: str) -> dict[str, list[str]]:
    """Return the entries under each "## `module`" heading of api.md.

    An entry is a "###" heading or the first cell of a table row (the error
    classes are documented as a table).
    """
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            m = re.match(r"## `([\w.]+)`", line)
            current = out.setdefault(m.group(1), []) if m else None
        elif current is not None and line.startswith("### "):
            current.append(line)
        elif current is not None and line.startswith("| `"):
            current.append(line.split("|")[1])
    return out


@pytest.mark.parametrize("module_name", DOCUMENTED)
def test_api_doc_lists_every_public_name(module_name: str) -> None:
    sections = _sections(API.read_text(encoding="utf-8"))
    assert module_name in sections, f"docs/api.md has no section ## `{module_name}`"
    headings = sections[module_name]
    module = importlib.import_module(module_name)
    missing = [
        name
        for name in _public_names(module)
        if not any(re.search(rf"`[^`]*\b{re.escape(name)}\b", h) for h in headings)
    ]
    assert not missing, f"docs/api.md, section {module_name}, lacks: {', '.join(missing)}"


def test_api_doc_signatures_name_the_real_parameters() -> None:
    """A heading ``name(a, b, *, c=…)`` lists the function's parameters, in order."""
    sections = _sections(API.read_text(encoding="utf-8"))
    checked = 0
    for module_name in DOCUMENTED:
        module = importlib.import_module(module_name)
        for heading in sections.get(module_name, []):
            for name, params in re.findall(r"`(\w+)\(([^`]*)\)", heading):
                obj = getattr(module, name, None)
                if not inspect.isfunction(obj):
                    continue
                real = [p for p in inspect.signature(obj).parameters if p != "kwargs"]
                written = [
                    re.split(r"[=:]", p.strip().lstrip("*"))[0].strip()
                    for p in params.split(",")
                    if p.strip() not in ("*", "**kwargs", "")
                ]
                assert written == real, f"{module_name}.{name}: doc {written} != code {real}"
                checked += 1
    assert checked > 50


# --------------------------------------------------------------------------- JSON samples


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_trial_balance_json_sample_matches_to_json() -> None:
    zero = Decimal("0.00")
    row = TrialBalanceRow("101", "库存现金", 1, True, zero, zero, zero, zero)
    produced = TrialBalance("H001", 202609, 202609, (row,), zero, zero, zero, zero).to_json()
    (sample,) = [
        json.loads(b) for b in _blocks(API.read_text(encoding="utf-8"), "json") if '"totals"' in b
    ]
    assert set(sample) == set(produced)
    assert set(sample["totals"]) == set(produced["totals"])
    assert all(set(a) == set(produced["accounts"][0]) for a in sample["accounts"])


def test_voucher_json_samples_are_readable() -> None:
    count = 0
    for path in GUIDES:
        for block in _blocks(path.read_text(encoding="utf-8"), "json"):
            if '"lines"' in block:
                assert parse_vouchers(block, path.name), path
                count += 1
    assert count >= 5


# --------------------------------------------------------------------------- command lines


def _command_lines(text: str) -> list[list[str]]:
    out = []
    for block in _blocks(text, "sh"):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens and tokens[0] == "juzhang":
                out.append(tokens[1:])
    return out


def _resolve(tokens: list[str]) -> tuple[Any, list[str]]:
    """Follow ``tokens`` down the command tree; return the command and its arguments."""
    root = typer.main.get_command(app)
    globals_ = {o for p in root.params for o in p.opts}
    rest = list(tokens)
    while rest and rest[0] in globals_:
        rest = rest[2:]
    command: Any = root
    while getattr(command, "commands", None) is not None and rest:
        sub = command.commands.get(rest[0])
        default = getattr(command, "default_command", None)  # `juzhang grant LOGIN …` = grant add
        if sub is None and default is not None:
            command = command.commands[default]
            continue
        assert sub is not None, f"no command {rest[0]!r} in: juzhang {' '.join(tokens)}"
        command, rest = sub, rest[1:]
    assert getattr(command, "commands", None) is None, f"incomplete: juzhang {' '.join(tokens)}"
    return command, rest


@pytest.mark.parametrize("path", GUIDES, ids=lambda p: p.name)
def test_documented_commands_exist(path: Path) -> None:
    lines = _command_lines(path.read_text(encoding="utf-8"))
    for tokens in lines:
        command, rest = _resolve(tokens)
        options: set[Any] = {o for p in command.params for o in p.opts} | {"--help"}
        options |= {"--as", "--db"}  # global options may follow the command (juzhang.cli)
        unknown = [t for t in rest if t.startswith("--") and t not in options]
        assert not unknown, f"juzhang {' '.join(tokens)}: unknown options {unknown}"
    if path.name.startswith("guide"):
        assert len(lines) > 40


# --------------------------------------------------------------------------- config examples


def _toml_blocks(path: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("guide", ["guide.en.md", "guide.zh.md"])
def test_the_guides_configuration_examples_are_read_by_juzhang(guide: str) -> None:
    """Each ```toml block of the guide's configuration section parses with its real reader."""
    import tomllib

    from juzhang.disclosure_config import parse_config
    from juzhang.importers.claims_config import parse_claims_config
    from juzhang.importers.profile import parse_profile
    from juzhang.importers.rules import parse_rules

    blocks = _toml_blocks(DOCS / guide)
    kinds = [b.split("\n", 1)[0].split()[1] for b in blocks]
    assert kinds == [
        "h001-disclosure.toml",
        "rules.toml",
        "mapping.toml",
        "claims.toml",
        "disclosure.toml",
        "budget.toml",
    ]
    h001, rules, mapping, claims_config, disclosure, budget = blocks
    assert parse_config(tomllib.loads(h001), "h001").signatures.secretary == "刘玉兰"
    assert [r.name for r in parse_rules(rules).rules] == ["街道拨款", "存款利息", "物业费"]
    assert parse_profile(tomllib.loads(mapping), "mapping.toml").name == "mybank"
    config = parse_claims_config(claims_config)
    assert config.min_attachments == 1 and len(config.approval) == 2
    assert parse_config(tomllib.loads(disclosure), "disclosure.toml").post_by_day == 10
    from juzhang.budget_file import read_budget_file

    path = Path(tempfile.mkdtemp()) / "budget.toml"
    path.write_text(budget, encoding="utf-8")
    assert [b.name for b in read_budget_file(path)][1] == "办公设备（电风扇两台）"


def test_the_readme_quick_start_runs(tmp_path: Path) -> None:
    """The README's quick start (with the voucher.json it shows) and its Python example run."""
    import os
    import subprocess

    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    voucher = re.search(r"```json\n(.*?)```", readme, re.S)
    script = re.search(r"```sh\n(\. \.venv/bin/activate\n.*?)```", readme, re.S)
    assert voucher and script, "README lacks the quick start's voucher.json or commands"
    (tmp_path / "voucher.json").write_text(voucher.group(1), encoding="utf-8")
    commands = script.group(1).replace(". .venv/bin/activate\n", "")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("JUZHANG_DB", None)
    done = subprocess.run(
        ["bash", "-ec", commands], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert '"balanced": true' in done.stdout
    assert "no problems: C001" in done.stdout + done.stderr
    # the Python API in brief, on the same agency.db
    api = re.search(r"```python\n(.*?)```", readme, re.S)
    assert api, "README lacks its Python example"
    done = subprocess.run(
        [sys.executable, "-c", api.group(1)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "drafted voucher 2" in done.stdout


# --------------------------------------------------------------------------- the guide's month

#: Where section 13 (one month, step by step) begins and ends in each guide.
_MONTH = {
    "guide.zh.md": ("## 13. 命令行：一个月的账", "### 代理中心的一个月"),
    "guide.en.md": ("## 13. The command line: one month, step by step", "### An agency's month"),
}

#: The English guide's file names for the same files.
_EN_NAMES = {
    "september.json": "9月凭证.json",
    "correction.json": "订正.json",
    "draft.xlsx": "草稿.xlsx",
}


def _month(guide: str) -> str:
    text = (DOCS / guide).read_text(encoding="utf-8")
    first, last = _MONTH[guide]
    return text[text.index(first) : text.index(last)]


def _run_guide(text: str, env: dict[str, str | None]) -> list[str]:
    """Run the ``juzhang`` lines of ``text``'s sh blocks in-process; return their outputs.

    ``export`` lines set ``env``; a command whose comment says it is refused
    (被拒绝) must fail, with the exit code the comment gives (退出码 N).
    """
    from typer.testing import CliRunner

    runner = CliRunner()
    outputs = []
    for block in _blocks(text, "sh"):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens and tokens[0] == "export":
                key, value = tokens[1].split("=", 1)
                env[key] = value
                continue
            assert tokens and tokens[0] == "juzhang", line
            result = runner.invoke(app, tokens[1:], env=env)
            code = re.search(r"退出码 (\d)", line)
            if code:
                assert result.exit_code == int(code.group(1)), (line, result.output)
            elif "被拒绝" in line:
                assert result.exit_code != 0, line
            else:
                assert result.exit_code == 0, (line, result.output)
            outputs.append(result.output)
    return outputs


def test_the_guides_month_runs_from_first_command_to_the_published_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Section 13 runs as written, through the close to the signed board: one path.

    Then section 20's budget, set and adjusted for the same community after
    its board was published, leaves that board as it was published.
    """
    month = _month("guide.zh.md")
    vouchers, correction = _blocks(month, "json")
    (tmp_path / "9月凭证.json").write_text(vouchers, encoding="utf-8")
    (tmp_path / "订正.json").write_text(correction, encoding="utf-8")
    (statement,) = _blocks(month, "csv")
    (tmp_path / "9月对账单.csv").write_text(statement, encoding="utf-8")
    (settings,) = _toml_blocks_of(month)
    (tmp_path / "h001-disclosure.toml").write_text(settings, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = {"JUZHANG_DB": None, "JUZHANG_USER": None}
    outputs = _run_guide(month, env)
    assert any("已结账 / closed 1" in output for output in outputs)
    assert "与发布的公开表一致 / the file is the published board" in outputs[-1]
    board = tmp_path / "out" / "H001" / "disclosure-2026-09.xlsx"
    sheet = load_workbook(board)["收支明细"]
    words = {str(c.value) for row in sheet.iter_rows() for c in row if c.value}
    assert {"书记：刘玉兰", "主任：陈国栋", "报账员：张秀英"} <= words, words

    text = (DOCS / "guide.zh.md").read_text(encoding="utf-8")
    budgets = text[text.index("## 20. 预算与居民的声音") : text.index("## 21. ")]
    (budget,) = _toml_blocks_of(budgets)
    (tmp_path / "budget.toml").write_text(budget, encoding="utf-8")
    adjusted = budget.replace('amount = "600.00"', 'amount = "0.00"') + (
        '\n[[line]]\nname = "居民夏季纳凉晚会"\nkind = "expense"\n'
        'accounts = ["514"]\namount = "600.00"\n'
    )  # what the section tells the reader to write
    (tmp_path / "adjusted.toml").write_text(adjusted, encoding="utf-8")
    outputs = _run_guide(budgets, env)
    shown = json.loads(outputs[-1])
    assert "居民会议决议 2026-10-12" in json.dumps(shown, ensure_ascii=False)
    verified = _run_guide(f"```sh\njuzhang verify-report {board}\n```", env)
    assert "账簿仍与发布的数字一致" in verified[0]


def _toml_blocks_of(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def test_the_english_guides_month_is_the_same_month() -> None:
    """The English sections 13 and 20 give the same commands and samples as the Chinese ones."""
    zh, en = _month("guide.zh.md"), _month("guide.en.md")
    renamed = [[_EN_NAMES.get(t, t) for t in line] for line in _command_lines(en)]
    assert renamed == _command_lines(zh)
    for lang in ("json", "csv", "toml"):
        assert _blocks(en, lang) == _blocks(zh, lang)
    budgets = [
        text[text.index("## 20.") :]
        for text in ((DOCS / g).read_text(encoding="utf-8") for g in ("guide.zh.md", "guide.en.md"))
    ]
    assert _command_lines(budgets[1]) == _command_lines(budgets[0])
