#!/bin/sh
# Render one public disclosure (财务公开表) to PDF and PNG, to look at it as a
# community would post it on its board.
#
#   sh docs/render_disclosure.sh [OUT_DIR]        (default: render-out)
#
# Needs: juzhang installed (python -m juzhang works), LibreOffice Calc
# (soffice) and pdftoppm (poppler-utils).  Chinese text needs a CJK font:
# without one LibreOffice shows boxes.  On Debian/Ubuntu:
#
#   apt-get install -y libreoffice-calc poppler-utils fonts-noto-cjk
#
# The workbook asks for 宋体 (SimSun, charset GB2312); where SimSun is not
# installed LibreOffice falls back to Noto Serif/Sans CJK.
set -eu
OUT=${1:-render-out}
PYTHON=${PYTHON:-python}
mkdir -p "$OUT"

# 1. the demo community H001 (2026-09, juzhang.demo), with a budget and a configuration
cat > "$OUT/H001-disclosure.toml" <<'TOML'
chart = "rural-2023"
community = "幸福社区"
large_expense = "1000.00"
post_by_day = 10

[signatures]
secretary = "陈明"
director = "李红"
group = ["孙立", "吴平", "郑华"]

[[section]]
key = "subsidies"
accounts = ["51302"]

[[section]]
key = "relief"
accounts = ["50401", "51401"]

[[section]]
key = "fees"
accounts = []

[[section]]
key = "one_matter"
accounts = ["231"]
TOML
"$PYTHON" - "$OUT" <<'PY'
import sys
from decimal import Decimal
from pathlib import Path

from juzhang.budget import BudgetInput, set_budget
from juzhang.cli.disclosure import write_disclosure
from juzhang.demo import build_demo
from juzhang.storage.engine import make_engine, transaction

out = Path(sys.argv[1])
build_demo(out / "juzhang.db", out)
engine = make_engine(f"sqlite:///{out / 'juzhang.db'}")
with transaction(engine) as s:
    set_budget(s, "H001", "wangjing", 2026, [
        BudgetInput("街道拨付工作经费", "income", ("50301",), Decimal("320000")),
        BudgetInput("房屋出租收入", "income", ("50101",), Decimal("144000")),
        BudgetInput("办公经费", "expense", ("51301",), Decimal("12000")),
        BudgetInput("社区干部补贴", "expense", ("51302",), Decimal("223200")),
        BudgetInput("公益支出", "expense", ("514",), Decimal("30000")),
    ])
with transaction(engine, write=False) as s:
    path = write_disclosure(s, "H001", 202609, 202609, "xlsx", out / "disclosure-H001-2026-09.xlsx",
                            config=out / "H001-disclosure.toml")
engine.dispose()
print(path)
PY

# 2. xlsx → PDF (A4, as set in the workbook) → PNG, one image per page
soffice --headless --convert-to pdf --outdir "$OUT" "$OUT/disclosure-H001-2026-09.xlsx" >/dev/null
pdftoppm -r 110 -png "$OUT/disclosure-H001-2026-09.pdf" "$OUT/disclosure-H001-2026-09"
ls "$OUT"/disclosure-H001-2026-09*
