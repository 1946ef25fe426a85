"""Residents' questions and the community's answers (提问栏 and 回音栏).

公开透明 is more than a table on a wall: a resident who reads the board may
ask about a month, or about one line of it, and the community answers within
a deadline.  The question is written down by the community's own people —
its cashier (报账员, at the counter) or the finance group (民主理财小组) —
with :func:`add_question`; the answer is given by the finance group or the
agency's director (:func:`answer_question`).  Who may do which is in the one
permission table (:data:`juzhang.core.duty.PERMISSIONS`, ``ASK_QUESTION`` and
``ANSWER_QUESTION``).

**Only a published month is asked about.**  A resident asks about what was
on the board, and only a published board (signed by the 民主理财小组) is
posted: a closed but unsigned month's figures are not public yet and may
still be regenerated, and its line numbers (序号) are not final.  A line is
named by its 序号 on the published board (its snapshot), and the question
keeps the line as the board showed it (凭证号, 摘要, amount).

**Dates.**  A question is dated today (:func:`juzhang.clock.today`) and due
``question_days`` later (default 15, per community in the stored disclosure
configuration, :mod:`juzhang.disclosure_config`); an answer is dated today.

**Append-only.**  A question and its answer are never changed or deleted —
the database refuses UPDATE and DELETE on both tables (migration 0017) — and
each is in the audit log.  A question has at most one answer; a correction
is a new question.

**On the next board** (:func:`board_questions`): the board of months
``first..last`` lists, as of its last day, every question about an earlier
month that was asked by then and was not answered before ``first`` began —
new questions, questions answered during the board's months (with their
answers), and questions still open (in red on the workbook once past due).
A question answered after the board's last day shows there as open; the
board is a statement as of its last day, so it does not change when an
answer comes later, and what was published stays what was published.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import Connection, and_, insert, or_, select

from juzhang import clock
from juzhang.core.duty import Action
from juzhang.core.period import first_day, format_period, last_day
from juzhang.core.text import text_problem
from juzhang.disclosure_config import DEFAULT_QUESTION_DAYS, stored_config
from juzhang.errors import NotFoundError, StateError, ValidationError
from juzhang.storage.access import (
    EntityInfo,
    audit,
    command,
    get_entity,
    next_id,
    now,
    require,
    user_logins,
)
from juzhang.storage.schema import Disclosure, Question, QuestionAnswer

__all__ = [
    "QuestionView",
    "add_question",
    "answer_question",
    "board_questions",
    "list_questions",
    "parse_question_ref",
    "question_status",
    "questions_of_period",
]

OPEN, ANSWERED, OVERDUE = "open", "answered", "overdue"
STATUS_ZH = {OPEN: "待答复", ANSWERED: "已答复", OVERDUE: "逾期未答复"}


@dataclass(frozen=True, slots=True)
class QuestionView:
    """A question and its answer (``answer`` empty and ``answered_on`` None while open)."""

    entity: str
    id: int
    period: int
    line_no: int | None
    line_ref: str
    text: str
    asked_on: dt.date
    due_on: dt.date
    asked_by: str
    answer: str = ""
    answered_on: dt.date | None = None
    answered_by: str = ""

    @property
    def ref(self) -> str:
        """``"C001:3"``: how the command line names the question."""
        return f"{self.entity}:{self.id}"

    def status(self, as_of: dt.date) -> str:
        """``answered``, ``open`` or ``overdue`` as of a date (answers after it do not count)."""
        return question_status(self.due_on, self.answered_on, as_of)

    def to_json(self, as_of: dt.date) -> dict[str, object]:
        """The question as JSON (dates ISO, ``status`` as of ``as_of``)."""
        return {
            "id": self.ref,
            "entity": self.entity,
            "period": format_period(self.period),
            "line": self.line_no,
            "line_ref": self.line_ref,
            "text": self.text,
            "asked_on": self.asked_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "asked_by": self.asked_by,
            "answer": self.answer,
            "answered_on": None if self.answered_on is None else self.answered_on.isoformat(),
            "answered_by": self.answered_by,
            "status": self.status(as_of),
        }


def question_status(due_on: dt.date, answered_on: dt.date | None, as_of: dt.date) -> str:
    """Return ``answered`` (by ``as_of``), ``overdue`` (open past ``due_on``) or ``open``."""
    if answered_on is not None and answered_on <= as_of:
        return ANSWERED
    return OVERDUE if as_of > due_on else OPEN


def parse_question_ref(text: str) -> tuple[str, int]:
    """Split ``"C001:3"`` into ``("C001", 3)``.

    Raises:
        ValidationError: not ``ENTITY:NUMBER``.
    """
    entity, sep, number = text.strip().rpartition(":")
    if not sep or not entity or not number.isdigit() or int(number) < 1:
        raise ValidationError(
            f"提问编号 question id {text!r}",
            "应为 社区代码:编号 / must be ENTITY:NUMBER, e.g. C001:3",
        )
    return entity, int(number)


def _what(ent: EntityInfo, period: int) -> str:
    return f"{ent.code} {format_period(period)} 居民提问 question"


def _text(what: str, value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(what, "内容不能为空 / the text is empty")
    problem = text_problem(value, field)
    if problem:
        raise ValidationError(what, problem)
    return value


def _published_board(session: Connection, ent: EntityInfo, period: int) -> str | None:
    """The published board covering ``period``: its snapshot text ("" when it has none).

    ``None`` when no published board covers the month.
    """
    row = session.execute(
        select(Disclosure.snapshot).where(
            Disclosure.entity_id == ent.id,
            Disclosure.status == "published",
            Disclosure.first_period <= period,
            Disclosure.last_period >= period,
        )
    ).first()
    return None if row is None else (row[0] or "")


def _line_ref(what: str, snapshot: str, period: int, line: int) -> str:
    """The board line ``line`` (序号) as shown: ``记-0003 购办公用品 支出 120.00``."""
    if not snapshot:  # published before snapshots were kept (0009): the number alone
        return ""
    items = json.loads(snapshot).get("items", [])
    for item in items:
        if int(item["no"]) == line:
            if item["period"] != format_period(period):
                raise ValidationError(
                    what,
                    f"第 {line} 行属于 {item['period']} / line {line} is of another month",
                )
            amount = item["expense"] if item["expense"] is not None else item["income"]
            side = "支出" if item["expense"] is not None else "收入"
            return f"{item['voucher']} {item['summary']} {side} {Decimal(amount):,.2f}"
    raise ValidationError(
        what, f"公开表没有第 {line} 行（共 {len(items)} 行）/ the board has no line {line}"
    )


@command
def add_question(
    session: Connection,
    entity: str,
    actor: str,
    period: int,
    text: str,
    line: int | None = None,
) -> QuestionView:
    """Record a resident's question about a published month (提问栏); return it.

    Dated today (:func:`juzhang.clock.today`), due ``question_days`` later
    (the stored disclosure configuration; default 15).  ``line`` is the 序号
    of the line asked about on the published board.  Audited.

    Raises:
        NotFoundError: unknown entity or user.
        SegregationOfDutiesError: the actor is neither the entity's cashier nor
            its finance group (supervisor).
        ValidationError: empty or bad text, or no such line on the board.
        StateError: no published board covers the month.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.ASK_QUESTION)
    what = _what(ent, period)
    body = _text(what, text, "question")
    snapshot = _published_board(session, ent, period)
    if snapshot is None:
        raise StateError(
            what, "该月公开表未签字发布 / the month's board is not published", "提问 ask"
        )
    if line is not None and line < 1:
        raise ValidationError(what, f"行次应为正整数 / the line must be 1 or more: {line}")
    ref = "" if line is None else _line_ref(what, snapshot, period, line)
    config = stored_config(session, ent.code)
    days = DEFAULT_QUESTION_DAYS if config is None else config.question_days
    asked = clock.today()
    qid = next_id(session, Question.__table__, ent.id)
    due = asked + dt.timedelta(days=days)
    session.execute(
        insert(Question).values(
            entity_id=ent.id,
            id=qid,
            period=period,
            line_no=line,
            line_ref=ref,
            text=body,
            asked_on=asked,
            due_on=due,
            asked_by=uid,
            recorded_at=now(),
        )
    )
    view = QuestionView(ent.code, qid, period, line, ref, body, asked, due, actor)
    audit(
        session,
        ent.id,
        actor,
        "question.add",
        view.ref,
        {"period": format_period(period), "line": line, "text": body, "due_on": due.isoformat()},
    )
    return view


@command
def answer_question(
    session: Connection, entity: str, actor: str, question_id: int, text: str
) -> QuestionView:
    """Record the community's answer to a question (回音栏), dated today; return the question.

    Raises:
        NotFoundError: unknown entity, user or question.
        SegregationOfDutiesError: the actor is neither the finance group
            (supervisor) nor the agency's director (admin) of the entity.
        ValidationError: empty or bad text.
        StateError: the question has an answer already.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.ANSWER_QUESTION)
    found = _views(session, ent, Question.id == question_id)
    if not found:
        raise NotFoundError("居民提问 question", f"{ent.code}:{question_id}")
    (q,) = found
    what = f"{q.ref} 居民提问 question"
    if q.answered_on is not None:
        raise StateError(what, "已答复 answered", "再次答复 answer again (ask a new question)")
    body = _text(what, text, "answer")
    today = clock.today()
    session.execute(
        insert(QuestionAnswer).values(
            entity_id=ent.id,
            question_id=q.id,
            text=body,
            answered_on=today,
            answered_by=uid,
            recorded_at=now(),
        )
    )
    audit(session, ent.id, actor, "question.answer", q.ref, {"text": body})
    return QuestionView(
        q.entity,
        q.id,
        q.period,
        q.line_no,
        q.line_ref,
        q.text,
        q.asked_on,
        q.due_on,
        q.asked_by,
        body,
        today,
        actor,
    )


def _views(session: Connection, ent: EntityInfo, *where: object) -> tuple[QuestionView, ...]:
    rows = session.execute(
        select(
            Question.id,
            Question.period,
            Question.line_no,
            Question.line_ref,
            Question.text,
            Question.asked_on,
            Question.due_on,
            Question.asked_by,
            QuestionAnswer.text,
            QuestionAnswer.answered_on,
            QuestionAnswer.answered_by,
        )
        .outerjoin(
            QuestionAnswer,
            and_(
                QuestionAnswer.entity_id == Question.entity_id,
                QuestionAnswer.question_id == Question.id,
            ),
        )
        .where(Question.entity_id == ent.id, *where)  # type: ignore[arg-type]
        .order_by(Question.id)
    ).all()
    logins = user_logins(session, {r[7] for r in rows} | {r[10] for r in rows if r[10]})
    return tuple(
        QuestionView(
            ent.code,
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            logins.get(r[7], ""),
            r[8] or "",
            r[9],
            logins.get(r[10], "") if r[10] is not None else "",
        )
        for r in rows
    )


def list_questions(
    session: Connection, entity: str, period: int | None = None
) -> tuple[QuestionView, ...]:
    """Return an entity's questions with their answers, in the order asked (one month's if given).

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    where = () if period is None else (Question.period == period,)
    return _views(session, ent, *where)


def questions_of_period(session: Connection, entity: str, period: int) -> tuple[QuestionView, ...]:
    """Return the questions asked about one month, with their answers (immutable rows).

    For anything that shows a month's board with its questions (the board's
    web page): each row says what was asked, when, by when it is due, and the
    answer when there is one; :meth:`QuestionView.status` tells open, answered
    or overdue as of a date.

    Raises:
        NotFoundError: unknown entity.
    """
    return list_questions(session, entity, period)


def board_questions(
    session: Connection, entity: str, first: int, last: int
) -> tuple[QuestionView, ...]:
    """Return the questions the board of ``first..last`` lists (see the module docstring).

    Questions about months before ``first``, asked by the board's last day and
    not answered before ``first`` began; an answer given after the board's
    last day is left out (the question shows as open).  In the order asked.

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    start, end = first_day(first), last_day(last)
    found = _views(
        session,
        ent,
        Question.period < first,
        Question.asked_on <= end,
        or_(QuestionAnswer.answered_on.is_(None), QuestionAnswer.answered_on >= start),
    )
    return tuple(
        q
        if q.answered_on is None or q.answered_on <= end
        else replace(q, answer="", answered_on=None, answered_by="")  # answered after: open
        for q in found
    )
