"""The guide's question commands (section 21), run as written against a published September."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from juzhang.closing import sign_disclosure
from tests.closing.test_closing import clean_month, close, generate_disclosure
from tests.conftest import World
from tests.exporters.test_board import jz

DOCS = Path(__file__).resolve().parents[2] / "docs"


def guide_commands(guide: str) -> list[str]:
    """The ``juzhang`` lines of the guide's section 21, without the leading ``juzhang``."""
    text = (DOCS / guide).read_text(encoding="utf-8")
    section = text.split("\n## 21.", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [line.removeprefix("juzhang ") for line in block.splitlines() if line.strip()]


def test_the_guides_question_commands_run(world: World) -> None:
    import datetime as dt

    clean_month(world)
    close(world)
    generate_disclosure(world)
    world.run(sign_disclosure, "C001", "2026-09", "sup", None, "同意", dt.date(2026, 10, 5))
    commands = guide_commands("guide.en.md")
    assert commands == guide_commands("guide.zh.md")
    outputs = []
    for cmd in commands:
        done = jz(world, cmd)
        assert done.exit_code == 0, f"{cmd}\n{done.output}"
        outputs.append(done.output)
    assert "C001:1" in outputs[0] and "2027-07-15" in outputs[0]  # today 2027-06-30 + 15
    listed = json.loads(outputs[-1])
    assert [(q["id"], q["line"], q["status"]) for q in listed] == [
        ("C001:1", 2, "已答复"),
        ("C001:2", None, "待答复"),
    ]
    assert listed[0]["answer"].startswith("租金自十月起按季度收取")
    # refused commands exit non-zero with the reason
    done = jz(world, 'question add C001 --period 2026-10 "十月？"', actor="sup")
    assert done.exit_code != 0 and "not published" in done.output
    done = jz(world, shlex.join(["question", "answer", "C001:1", "再答"]), actor="adm")
    assert done.exit_code != 0 and "answered" in done.output
    done = jz(world, 'question answer 1 "答"', actor="adm")
    assert done.exit_code != 0 and "ENTITY:NUMBER" in done.output
