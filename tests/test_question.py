"""Residents' questions (提问栏) and answers (回音栏), told as a worked story of C001.

September 2026 is booked, closed and published (signed 2026-10-05).  On
2026-10-12 the cashier writes down a resident's question about line 2 of the
September board (记-0002 收门面租金 800.00) and the finance group one about
the month; the first is answered on 10-20, the second not by its deadline
(10-27).  October's board, as of 10-31, lists both: the first with its
answer, the second in red, overdue.  After October's board is signed the
second is answered (11-03): the published October board does not change, and
November's board lists it with its answer (the first, answered in October,
is not listed again).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from juzhang import clock
from juzhang.closing import published_disclosure, sign_disclosure, write_published
from juzhang.errors import (
    NotFoundError,
    SegregationOfDutiesError,
    StateError,
    ValidationError,
)
from juzhang.exporters.board_verify import verify_report
from juzhang.exporters.disclosure_excel import write_disclosure_workbook
from juzhang.question import (
    add_question,
    answer_question,
    board_questions,
    list_questions,
    parse_question_ref,
    questions_of_period,
)
from juzhang.reports.disclosure import disclosure, disclosure_from_json
from tests.closing.test_closing import (
    OCT,
    SEP,
    audit_rows,
    clean_month,
    close,
    generate_disclosure,
)
from tests.conftest import World, dump

NOV = 202611
OCTOBER = [(8, "200.00", "501", "收门面租金")]


def sign(w: World, period: int, on: dt.date) -> None:
    w.run(sign_disclosure, "C001", period, "sup", None, "同意公开", on)


@pytest.fixture
def published(world: World) -> World:
    """C001 with September closed and its board published on 2026-10-05."""
    clean_month(world)
    close(world)
    generate_disclosure(world)
    sign(world, SEP, dt.date(2026, 10, 5))
    return world


def ask(w: World, on: dt.date, actor: str, text_: str, line: int | None = None) -> int:
    with clock.fixed(on):
        return w.run(add_question, "C001", actor, SEP, text_, line).id


def answer(w: World, on: dt.date, number: int, text_: str, actor: str = "sup") -> None:
    with clock.fixed(on):
        w.run(answer_question, "C001", actor, number, text_)


def test_questions_are_recorded_dated_and_due(published: World) -> None:
    w = published
    q1 = ask(w, dt.date(2026, 10, 12), "cash", "门面租金为何只收一个月？", line=2)
    q2 = ask(w, dt.date(2026, 10, 12), "sup", "慰问困难户名单是否公开？")
    first, second = w.run(list_questions, "C001")
    assert (first.id, second.id) == (q1, q2) == (1, 2)
    assert first.asked_on == dt.date(2026, 10, 12) and first.due_on == dt.date(2026, 10, 27)
    assert first.line_no == 2 and first.line_ref == "记-0002 收门面租金 收入 800.00"
    assert (first.asked_by, second.asked_by, second.line_no) == ("cash", "sup", None)
    assert first.status(dt.date(2026, 10, 27)) == "open"
    assert first.status(dt.date(2026, 10, 28)) == "overdue"
    answer(w, dt.date(2026, 10, 20), q1, "十月起按季度收取，见合同。")
    (done,) = w.run(questions_of_period, "C001", SEP)[:1]
    assert done.answer == "十月起按季度收取，见合同。" and done.answered_on == dt.date(2026, 10, 20)
    assert done.answered_by == "sup" and done.status(dt.date(2026, 10, 28)) == "answered"
    assert done.status(dt.date(2026, 10, 19)) == "open"  # not answered yet on that day
    adds = audit_rows(w, "question.add")
    assert [(a, s) for a, s, _ in adds] == [("cash", "C001:1"), ("sup", "C001:2")]
    assert adds[0][2]["line"] == 2 and adds[0][2]["due_on"] == "2026-10-27"
    assert audit_rows(w, "question.answer") == [
        ("sup", "C001:1", {"text": "十月起按季度收取，见合同。"})
    ]


def test_what_is_refused(published: World) -> None:
    w = published
    on = dt.date(2026, 10, 12)
    before = dump(w.engine)
    for person in ("bk", "rv", "adm"):
        with pytest.raises(SegregationOfDutiesError, match="record resident question"):
            ask(w, on, person, "为何？")
    with pytest.raises(StateError, match="not published"), clock.fixed(on):
        w.run(add_question, "C001", "sup", OCT, "十月的账？")
    with pytest.raises(ValidationError, match="no line 9"):
        ask(w, on, "sup", "第九行？", line=9)
    with pytest.raises(ValidationError, match="empty"):
        ask(w, on, "sup", "   ")
    with pytest.raises(ValidationError, match="bidirectional"):
        ask(w, on, "sup", "abc\u202edef")
    assert dump(w.engine) == before  # nothing half-written
    q = ask(w, on, "cash", "为何？")
    for person in ("cash", "bk", "rv"):
        with pytest.raises(SegregationOfDutiesError, match="answer resident question"):
            answer(w, on, q, "因为", actor=person)
    with pytest.raises(NotFoundError):
        answer(w, on, 99, "因为")
    answer(w, on, q, "因为", actor="adm")
    with pytest.raises(StateError, match="answered"):
        answer(w, on, q, "补充")
    assert parse_question_ref("C001:3") == ("C001", 3)
    for bad in ("C001", "3", "C001:x", "C001:0", ":3"):
        with pytest.raises(ValidationError, match="ENTITY:NUMBER"):
            parse_question_ref(bad)


def test_the_database_refuses_to_change_a_question_or_an_answer(published: World) -> None:
    w = published
    q = ask(w, dt.date(2026, 10, 12), "cash", "为何？")
    answer(w, dt.date(2026, 10, 13), q, "因为")
    before = dump(w.engine)
    for sql in (
        "UPDATE question SET text = '改过的问题'",
        "UPDATE question SET due_on = asked_on",
        "DELETE FROM question",
        "UPDATE question_answer SET text = '改过的答复'",
        "DELETE FROM question_answer",
    ):
        with pytest.raises(sa_exc.DBAPIError, match="append-only"), w.engine.begin() as conn:
            conn.execute(text(sql))
    assert dump(w.engine) == before
    # a second answer around the service: the primary key refuses it
    with pytest.raises(sa_exc.IntegrityError), w.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO question_answer (entity_id, question_id, text, answered_on,"
                " answered_by, recorded_at) SELECT entity_id, question_id, '另一答复',"
                " answered_on, answered_by, recorded_at FROM question_answer"
            )
        )


def october(w: World) -> None:
    clean_month(w, OCT, OCTOBER)
    close(w, OCT)


def test_the_next_board_lists_the_questions_and_publishes_them_frozen(
    published: World, tmp_path: Path
) -> None:
    w = published
    q1 = ask(w, dt.date(2026, 10, 12), "cash", "门面租金为何只收一个月？", line=2)
    q2 = ask(w, dt.date(2026, 10, 12), "sup", "慰问困难户名单是否公开？")
    answer(w, dt.date(2026, 10, 20), q1, "十月起按季度收取。")
    october(w)
    board = generate_disclosure(w, OCT)
    assert [(q.id, q.status) for q in board.questions] == [(q1, "answered"), (q2, "overdue")]
    figures = {f.key: f.value for f in board.figures()}
    assert figures["question/1/answer"] == "答（10月20日）：十月起按季度收取。"
    assert figures["question/2/status"] == "逾期未答复"
    assert str(figures["question/1/question"]).startswith(
        "问1（2026年9月 第2行 记-0002 收门面租金 收入 800.00，10月12日提问）："
    )
    again = disclosure_from_json(board.to_json(), board.config)
    assert again.questions == board.questions and again.digest == board.digest
    # the workbook shows them, the overdue one in red; verify-report accepts it
    path = write_disclosure_workbook(board, tmp_path / "oct.xlsx")
    sheet = openpyxl.load_workbook(path)["汇总及专项"]
    cells = {c.value: c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    assert "尚未答复" in cells and "答（10月20日）：十月起按季度收取。" in cells
    overdue = next(c for v, c in cells.items() if v.startswith("问2（"))
    assert overdue.font.color is not None and overdue.font.color.rgb == "FFC00000"
    assert w.run(verify_report, path).matches
    # published with its questions; a later answer changes neither the snapshot nor the board
    sign(w, OCT, dt.date(2026, 11, 2))
    answer(w, dt.date(2026, 11, 3), q2, "名单已在公开栏张贴。")
    frozen = w.run(published_disclosure, "C001", OCT)
    assert frozen is not None and frozen.questions == board.questions
    assert frozen.fingerprint == board.fingerprint
    signed = w.run(write_published, "C001", OCT, tmp_path / "oct-signed.xlsx")
    result = w.run(verify_report, signed)
    assert result.matches and result.books_agree and result.exit_code == 0
    # November: the October answer to q2 is listed; q1, answered in October, is not again
    clean_month(w, NOV, [(3, "100.00", "501", "收门面租金")])
    close(w, NOV)
    nov = w.run(disclosure, "C001", NOV)
    assert [(q.id, q.status, q.answer) for q in nov.questions] == [
        (q2, "answered", "名单已在公开栏张贴。")
    ]
    assert [q.id for q in w.run(board_questions, "C001", NOV, NOV)] == [q2]


def test_a_board_without_questions_keeps_its_digest(published: World) -> None:
    """Boards published before questions existed verify as before: no question, no figure."""
    w = published
    october(w)
    board = w.run(disclosure, "C001", OCT)
    assert board.questions == ()
    assert not any(f.key.startswith("question/") for f in board.figures())
    assert "questions" in board.to_json()
    data = board.to_json()
    del data["questions"]  # a snapshot stored before this change
    assert disclosure_from_json(data, board.config).digest == board.digest


def test_the_deadline_is_the_communitys(published: World) -> None:
    from juzhang.disclosure_config import DisclosureConfig, set_stored_config

    w = published
    w.run(set_stored_config, "C001", "rv", DisclosureConfig("rural-2023", question_days=7))
    ask(w, dt.date(2026, 10, 12), "sup", "为何？")
    (q,) = w.run(list_questions, "C001", SEP)
    assert q.due_on == dt.date(2026, 10, 19)
