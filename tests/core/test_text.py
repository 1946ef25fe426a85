"""Texts at the door: :func:`text_problem` refuses exactly the characters its rule names."""

from __future__ import annotations

import pytest

from juzhang.core.text import MULTILINE, text_problem

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _refused(ch: str, field: str) -> bool:
    """The rule, written out: control characters, C1 controls and bidi overrides."""
    if ch in BIDI:
        return True
    if ch == "\t" or (ch in "\n\r" and field in MULTILINE):
        return False
    return ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0


@pytest.mark.parametrize("field", ["summary", "remark", "counterparty"])
def test_text_problem_refuses_each_bad_character_and_only_those(field: str) -> None:
    for code in [*range(0x300), *range(0x2000, 0x2100), 0x3000, 0x4E2D, 0xFEFF, 0x1F600]:
        ch = chr(code)
        problem = text_problem(f"摘要{ch}尾", field)
        assert (problem is not None) == _refused(ch, field), (field, hex(code))
        if problem is not None:
            assert f"U+{code:04X}" in problem


def test_text_problem_names_the_first_bad_character() -> None:
    problem = text_problem("a\u202eb\x00", "summary")
    assert problem is not None
    assert "U+202E" in problem
    assert "双向" in problem


def test_text_problem_length_limit() -> None:
    assert text_problem("x" * 200, "summary") is None
    assert text_problem("x" * 201, "summary") is not None
