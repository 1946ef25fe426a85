"""The oversight forms (监督报表): risk signals (廉政风险提示表) and the sub-district summary.

Both written with the form writer (:mod:`juzhang.exporters.form`): 宋体,
boxed cells, text always text, exact amounts, A4 landscape fit to width,
header repeated on every page.

* :func:`write_risk_workbook` — 廉政风险提示表: per community and check, each
  signal with its date, amount, what it concerns (凭证, 报账单, 日记账) and
  why; then the count per community and check, and the thresholds used.
* :func:`write_summary_workbook` — 社区财务汇总表: one row per community
  (income, expenditure, cash, bank, questions waiting, risk signals) with
  totals, and a bar chart of each community's income and expenditure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from juzhang.core.period import format_period
from juzhang.exporters.form import (
    Column,
    Sheet,
    gc_paused,
    new_workbook,
    put_amount,
    put_text,
    save,
)
from juzhang.reports.disclosure import period_title
from juzhang.reports.summary import SummaryReport
from juzhang.risk import CHECK_TITLES, RiskReport, title_zh

__all__ = ["risk_workbook", "summary_workbook", "write_risk_workbook", "write_summary_workbook"]

SETTING_NAMES = {
    "cash_settlement_limit": "现金结算起点（元）",
    "approval_threshold": "审批限额（元）",
    "split_days": "拆分报销：天数",
    "cash_limit": "库存现金限额（元）",
    "cash_limit_days": "超限额容许天数",
    "deposit_days": "现金收入存行天数",
    "no_invoice_threshold": "白条起点（元）",
    "cadre_standard": "干部补贴单笔标准（元，0 为不查）",
    "round_sum": "整数金额按月重复支付（开/关）",
    "round_unit": "整数单位（元）",
    "round_months": "连续月数",
}


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _chinese(message: str) -> str:
    """The Chinese part of a bilingual message: before the ``/`` that only English follows.

    A ``/`` inside the Chinese part (an invoice number ``A/B``, a 摘要) has
    Chinese after it and stays.
    """
    for i, ch in enumerate(message):
        if ch == "/" and not _CJK.search(message, i + 1):
            return message[:i].rstrip()
    return message


def _setting(value: object) -> str:
    if isinstance(value, bool):
        return "开" if value else "关"
    return str(value)


def _period_words(period: int) -> str:
    return period_title(period, period)


def risk_workbook(reports: Sequence[RiskReport], period: int) -> Workbook:
    """Return the 廉政风险提示表 of ``reports`` (one community or many) for ``period``."""
    title = f"廉政风险提示表（{_period_words(period)}）"
    wb = new_workbook(title, subject="廉政风险提示")
    sheet = Sheet.add(
        wb,
        "风险提示",
        [
            Column("text", min_width=12, max_width=22, wrap=True),
            Column("text", min_width=18, max_width=24, wrap=True),
            Column("date", min_width=11, max_width=11),
            Column("amount", min_width=12, max_width=16),
            Column("text", min_width=18, max_width=30, wrap=True),
            Column("text", min_width=30, max_width=56, wrap=True),
        ],
    )
    sheet.title(title, size=16)
    names = "、".join(f"{r.entity_name}" for r in reports) if len(reports) <= 3 else ""
    sheet.info(f"社区：{names or f'{len(reports)} 个社区'}", format_period(period), "单位：元")
    sheet.header(["社区", "提示类别", "日期", "金额", "涉及凭证/报账单/日记账", "说明"])
    for report in reports:
        who = f"{report.entity_name}（{report.entity}）"
        if not report.signals:
            sheet.line([who, "本期无风险提示", None, None, "", ""])
        for s in report.signals:
            sheet.line(
                [
                    who,
                    title_zh(s.check),
                    s.date,
                    s.amount,
                    s.concerns,
                    _chinese(s.message),
                ]
            )
    sheet.blank()
    sheet.note("提示数量 / signals per check：", size=11)
    for report in reports:
        counts = report.counts()
        text = "；".join(f"{title_zh(k)} {counts[k]} 条" for k in CHECK_TITLES if k in counts)
        sheet.note(f"{report.entity_name}（{report.entity}）：{text or '无'}")
    if reports:
        used = reports[0].settings.to_json()
        sheet.note(
            "判断标准（第一个社区的设置）："
            + "；".join(f"{SETTING_NAMES[k]} {_setting(v)}" for k, v in used.items()),
        )
    sheet.note("风险提示只供民主理财小组和街道核查，不影响结账。")
    sheet.finish(landscape=True)
    wb.active = 0
    return wb


@gc_paused
def write_risk_workbook(reports: Sequence[RiskReport], period: int, path: Path) -> Path:
    """Write the 廉政风险提示表 to ``path``; return the path.

    Raises:
        OSError: the file cannot be written.
    """
    save(risk_workbook(reports, period), path)
    return path


CHART_COLUMN = 12  # hidden columns L:N hold the chart's data, outside the printed table


def summary_workbook(summary: SummaryReport) -> Workbook:
    """Return the 社区财务汇总表: one row per community, the totals, and a chart."""
    words = _period_words(summary.period)
    title = f"社区财务汇总表（{words}）"
    wb = new_workbook(title, subject="社区财务汇总")
    sheet = Sheet.add(
        wb,
        "汇总",
        [
            Column("text", min_width=14, max_width=24, wrap=True),
            Column("amount", min_width=12, max_width=16),
            Column("amount", min_width=12, max_width=16),
            Column("amount", min_width=12, max_width=16),
            Column("amount", min_width=12, max_width=16),
            Column("number", min_width=8, max_width=10),
            Column("number", min_width=8, max_width=10),
            Column("number", min_width=8, max_width=10),
        ],
    )
    sheet.title(title, size=16)
    sheet.info(f"{len(summary.rows)} 个社区", format_period(summary.period), "单位：元")
    sheet.header(
        [
            "社区",
            "本月收入",
            "本月支出",
            "月末库存现金",
            "月末银行存款",
            "待答复提问",
            "其中逾期",
            "风险提示",
        ]
    )
    for r in summary.rows:
        sheet.line(
            [
                f"{r.name}（{r.entity}）",
                r.income,
                r.expense,
                r.cash,
                r.bank,
                r.open_questions,
                r.overdue_questions,
                r.risk_signals,
            ]
        )
    sheet.line(
        [
            "合计",
            *(summary.total(c) for c in ("income", "expense", "cash", "bank")),
            *(summary.total(c) for c in ("open_questions", "overdue_questions", "risk_signals")),
        ],
        bold=True,
    )
    sheet.note(
        "收入、支出为本月发生额（不含结转凭证），与各社区财务公开表一致；待答复提问截至制表日，风险提示为本月。"
    )
    for problem in summary.problems:
        sheet.note(f"未列入 / left out：{problem.where}：{problem.message}")
    _chart(sheet, summary)
    sheet.finish(landscape=True)
    wb.active = 0
    return wb


def _chart(sheet: Sheet, summary: SummaryReport) -> None:
    """A clustered bar chart of each community's income and expenditure, below the table."""
    if not summary.rows:
        return
    ws = sheet.ws
    top = sheet.row + 2
    put_text(ws.cell(row=top, column=CHART_COLUMN), "社区")
    put_text(ws.cell(row=top, column=CHART_COLUMN + 1), "收入")
    put_text(ws.cell(row=top, column=CHART_COLUMN + 2), "支出")
    names = [r.name for r in summary.rows]
    unique = len(set(names)) == len(names)
    for i, r in enumerate(summary.rows, start=1):
        put_text(ws.cell(row=top + i, column=CHART_COLUMN), r.name if unique else r.entity)
        put_amount(ws.cell(row=top + i, column=CHART_COLUMN + 1), r.income, "#,##0")
        put_amount(ws.cell(row=top + i, column=CHART_COLUMN + 2), r.expense, "#,##0")
    for col in range(CHART_COLUMN, CHART_COLUMN + 3):
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].hidden = True
    bottom = top + len(summary.rows)
    chart = BarChart()
    chart.type = "col"
    chart.style = 10
    chart.title = "各社区本月收入与支出（元）"
    chart.y_axis.numFmt = "#,##0"
    chart.y_axis.scaling.min = 0
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.visible_cells_only = False
    data = Reference(
        ws, min_col=CHART_COLUMN + 1, max_col=CHART_COLUMN + 2, min_row=top, max_row=bottom
    )
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=CHART_COLUMN, min_row=top + 1, max_row=bottom))
    chart.width = 24.0
    chart.height = 8.0
    ws.add_chart(chart, f"A{sheet.row + 2}")


@gc_paused
def write_summary_workbook(summary: SummaryReport, path: Path) -> Path:
    """Write the 社区财务汇总表 to ``path``; return the path.

    Raises:
        OSError: the file cannot be written.
    """
    save(summary_workbook(summary), path)
    return path
