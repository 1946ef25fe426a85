"""The claim form (报账单模板): the Excel workbook the cashier fills in.

Its columns are :data:`juzhang.importers.claims.COLUMNS`, so what this
writes is what :func:`juzhang.importers.claims.read_claim_batch` reads.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from juzhang.importers.claims import COLUMNS, EXAMPLE_MARK
from juzhang.importers.table import column_letter
from juzhang.money import capitals

__all__ = ["ROW_MM", "write_claims_template"]

ROW_MM = 9.0
"""Least height of a printed row of the claim form, in millimetres (signatures are handwritten)."""


def write_claims_template(path: str | Path, *, rows: int = 40) -> Path:
    """Write the Excel claim form (报账单模板) the cashier fills in; return its path.

    Sheet 报账单: the title, a line for 单位 (community), 所属期间 (month) and
    报账员 (cashier) to fill in, the header, one example row (its 事由 starts
    with 【示例】 and is skipped on import) and ``rows`` boxed empty rows with
    text format for the text columns (invoice numbers keep their leading
    zeros), a date format, ``#,##0.00`` for amounts, a 现金/银行 dropdown for
    支付方式, input checks on 金额 and 附件张数, column widths, A4 landscape
    print set-up repeating the header on every page, every row at least
    :data:`ROW_MM` millimetres high on paper (the rows go over as many pages
    as they need).  Sheet 填写说明 explains
    the rules.  Written with :mod:`juzhang.exporters.excel`; an existing file
    is overwritten.

    Raises:
        OSError: the file cannot be written.
    """
    from juzhang.exporters.excel import Column, Sheet, new_workbook, save  # noqa: PLC0415 — start-up time (heavy, used here only)

    target = Path(path)
    wb = new_workbook("报账单", subject="报账单模板 claim form")
    sheet = Sheet.add(
        wb,
        "报账单",
        [
            Column(
                _KIND.get(c.key, "text"),
                min_width=c.width,
                max_width=c.width + 10,
                wrap=c.key in ("purpose", "remark"),
            )
            for c in COLUMNS
        ],
    )
    sheet.title("报账单")
    sheet.info("单位：", "所属期间：", "报账员（签字）：")
    first, _ = sheet.header([c.header for c in COLUMNS])
    example = [dt.date.today() if c.key == "date" else _EXAMPLE.get(c.key) for c in COLUMNS]
    sheet.line(example)
    for _ in range(rows):
        sheet.line([None] * len(COLUMNS))
    # Rows at least ROW_MM high on paper, once fitted to the page width: room for
    # the handwritten 经手人 / 证明人 / 审批人.  Over as many pages as that takes.
    points = ROW_MM / 25.4 * 72 / sheet.print_scale(landscape=True)
    for r in range(first + 1, sheet.row + 1):
        sheet.height(r, math.ceil(points))
    sheet.finish(landscape=True)
    data = (first + 1, sheet.row)
    for i, column in enumerate(COLUMNS):
        for r in range(data[0], data[1] + 1):
            sheet.ws.cell(row=r, column=i + 1).number_format = column.number_format
    _template_validation(sheet.ws, *data)
    notes = Sheet.add(wb, "填写说明", [Column("text", min_width=100, max_width=100, wrap=True)])
    notes.title(_NOTES[0], size=14)
    for text in _NOTES[1:]:
        notes.note(text)
    notes.finish(landscape=False, freeze=False)
    save(wb, target)
    return target


_KIND = {"date": "date", "amount": "amount", "payment": "center", "attachments": "number"}

_EXAMPLE: dict[str, str | Decimal | int] = {
    "purpose": f"{EXAMPLE_MARK}购买办公用品（打印纸、墨盒）",
    "amount": Decimal("356.00"),
    "capitals": capitals(Decimal("356.00")),
    "category": "管理费用",
    "payment": "现金",
    "handler": "张三",
    "witness": "李四",
    "approver": "王五、赵六",
    "attachments": 2,
    "invoice_no": "04400190011112345678",
    "decision_ref": "",
    "remark": "示例行，导入时跳过；填写时可直接改写 / example, skipped on import",
}


def _template_validation(ws: Any, first: int, last: int) -> None:
    # Data validation has no helper in juzhang.exporters.excel yet: openpyxl directly.
    from openpyxl.worksheet.datavalidation import DataValidation  # noqa: PLC0415 — start-up time (heavy, used here only)

    def col(key: str) -> str:
        letter = column_letter([c.key for c in COLUMNS].index(key))
        return f"{letter}{first}:{letter}{last}"

    payment = DataValidation(
        type="list",
        formula1='"现金,银行"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="支付方式",
        error="请选择 现金 或 银行",
        promptTitle="支付方式",
        prompt="现金 或 银行",
        showInputMessage=True,
    )
    amount = DataValidation(
        type="decimal",
        operator="greaterThan",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="金额",
        error="金额应为大于 0 的数字，最多两位小数",
    )
    attachments = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="附件张数",
        error="附件张数应为整数",
    )
    for rule, key in ((payment, "payment"), (amount, "amount"), (attachments, "attachments")):
        rule.add(col(key))
        ws.add_data_validation(rule)


_NOTES = (
    "报账单填写说明 / how to fill in the claim form",
    "1. 每行一笔支出。日期、事由、金额、科目或类别、支付方式必填；单位、所属期间填在表头。",
    "2. 经手人、证明人、审批人必须签名（填姓名）；证明人不能是经手人本人。",
    "3. 附件张数至少 1 张（发票、收据等原始凭证）。",
    "4. 大写金额可不填；填写时必须与金额一致（如 叁佰伍拾陆元整）。",
    "5. 科目或类别：填科目代码（如 513）或名称（如 管理费用、办公费）。",
    "6. 支付方式：现金 或 银行（下拉选择）。",
    "7. 审批：300 元及以上需两人审批（如 主任、书记，用顿号分隔）；超过 1000 元须填写决议文号"
    "（两委会议、居民（代表）会议、一事一议）。各社区的限额以报账规则为准。",
    "8. 示例行（事由以【示例】开头）导入时跳过，可删除或直接改写。",
    "9. 手续不全的报账将被退回，不入账；请补齐后重新提交。",
)
