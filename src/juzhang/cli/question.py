"""Command line for residents' questions (提问栏) and the community's answers (回音栏).

::

    juzhang question add ENTITY --period YYYY-MM [--line N] TEXT   --as cashier|supervisor
    juzhang question answer ENTITY:ID TEXT                          --as supervisor|admin
    juzhang question list ENTITY [--period YYYY-MM] [--format table|json|csv|tsv]

A question is about a published month (or line N of its board), dated today
and due after the community's ``question_days`` (default 15).  Questions and
answers are never changed; see :mod:`juzhang.question`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from juzhang import clock
from juzhang.cli._common import Entity, OptPeriod, Period, actor, command_group, note, session
from juzhang.cli._listing import Col, ListFormat, emit
from juzhang.core.period import format_period
from juzhang.question import (
    STATUS_ZH,
    add_question,
    answer_question,
    list_questions,
    parse_question_ref,
)

__all__ = ["question_app"]

question_app = command_group("居民提问与答复 / residents' questions and answers")

Text = Annotated[str, typer.Argument(metavar="TEXT", help="内容 / the text")]


@question_app.command("add")
def question_add(
    ctx: typer.Context,
    entity: Entity,
    period: Period,
    text: Text,
    line: Annotated[
        int | None,
        typer.Option("--line", metavar="N", help="公开表序号 / the board's line number"),
    ] = None,
) -> None:
    """Record a resident's question about a published month (提问栏)."""
    with session(ctx) as s:
        q = add_question(s, entity, actor(ctx), period, text, line)
    note(
        f"提问已登记 / question recorded: {q.ref} {format_period(q.period)}"
        f"，答复期限 due {q.due_on.isoformat()}"
    )


@question_app.command("answer")
def question_answer(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(metavar="ENTITY:ID", help="提问编号 / e.g. C001:3")],
    text: Text,
) -> None:
    """Record the community's answer to a question (回音栏)."""
    entity, number = parse_question_ref(question)
    with session(ctx) as s:
        q = answer_question(s, entity, actor(ctx), number, text)
    note(f"已答复 / answered: {q.ref} ({q.answered_on})")


@question_app.command("list")
def question_list(
    ctx: typer.Context, entity: Entity, period: OptPeriod = None, fmt: ListFormat = None
) -> None:
    """List the questions and answers (--format table|json|csv|tsv)."""
    with session(ctx, write=False) as s:
        found = list_questions(s, entity, period)
    today = clock.today()
    rows = [
        {
            "id": q.ref,
            "period": format_period(q.period),
            "line": q.line_no,
            "question": q.text,
            "asked_on": q.asked_on,
            "due_on": q.due_on,
            "status": STATUS_ZH[q.status(today)],
            "answer": q.answer,
            "answered_on": q.answered_on,
            "asked_by": q.asked_by,
            "answered_by": q.answered_by,
        }
        for q in found
    ]
    emit(
        (
            Col("id", "编号 id"),
            Col("period", "月份 period", "date"),
            Col("line", "行 line", "number"),
            Col("question", "提问 question"),
            Col("asked_on", "提问日期 asked", "date"),
            Col("due_on", "期限 due", "date"),
            Col("status", "状态 status"),
            Col("answer", "答复 answer"),
            Col("answered_on", "答复日期 answered", "date"),
            Col("asked_by", "登记人 by"),
            Col("answered_by", "答复人 by"),
        ),
        rows,
        fmt,
    )
