#!/bin/sh
# Render juzhang's Excel forms to PDF (LibreOffice headless) and PNG (pdftoppm), to LOOK at them.
#
# Usage:
#   docs/render_pdf.sh                  build the demo community (juzhang demo) and render every
#                                       report of 2026-09 and two printed vouchers
#   docs/render_pdf.sh FILE.xlsx ...    render the given workbooks
#
# Output goes to $OUT (default ./render-out): FILE.pdf and FILE-1.png, FILE-2.png, ... (one PNG
# per page, $DPI dots per inch, default 110).  Open the PNGs and check what a Chinese accountant
# would: the title and header on every page, columns not cut off, amounts right-aligned with two
# decimals, Chinese text in a Song (serif) face, one page wide.
#
# Needs (Debian/Ubuntu):  apt-get install -y libreoffice-calc poppler-utils fonts-noto-cjk
# and the juzhang command on PATH (or JUZHANG=/path/to/juzhang).
#
# Fonts: the forms name 宋体 (SimSun), which Linux does not have.  Left alone, LibreOffice falls
# back to a sans face for Latin and to the *Japanese* variant of Noto CJK for Chinese, which draws
# some characters with Japanese glyph forms.  This script therefore runs LibreOffice with its own
# fontconfig file that maps 宋体 / SimSun / 新宋体 to Noto Serif CJK SC and 黑体 / SimHei to Noto Sans
# CJK SC (the system configuration is included, not changed), and with a throw-away LibreOffice
# profile so it works while another LibreOffice is open.  This is not part of the test suite.
set -eu

OUT=${OUT:-render-out}
DPI=${DPI:-110}
JUZHANG=${JUZHANG:-juzhang}

for tool in soffice pdftoppm; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "render_pdf.sh: $tool not found (apt-get install -y libreoffice-calc poppler-utils)" >&2
        exit 1
    }
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <match target="pattern">
    <test name="family" qual="any" compare="eq"><string>宋体</string></test>
    <edit name="family" mode="assign" binding="strong"><string>Noto Serif CJK SC</string></edit>
  </match>
  <match target="pattern">
    <test name="family" qual="any" compare="eq"><string>SimSun</string></test>
    <edit name="family" mode="assign" binding="strong"><string>Noto Serif CJK SC</string></edit>
  </match>
  <match target="pattern">
    <test name="family" qual="any" compare="eq"><string>新宋体</string></test>
    <edit name="family" mode="assign" binding="strong"><string>Noto Serif CJK SC</string></edit>
  </match>
  <match target="pattern">
    <test name="family" qual="any" compare="eq"><string>黑体</string></test>
    <edit name="family" mode="assign" binding="strong"><string>Noto Sans CJK SC</string></edit>
  </match>
  <match target="pattern">
    <test name="family" qual="any" compare="eq"><string>SimHei</string></test>
    <edit name="family" mode="assign" binding="strong"><string>Noto Sans CJK SC</string></edit>
  </match>
</fontconfig>
EOF

if [ "$#" -eq 0 ]; then
    # The demo community H001, September 2026: every report and two vouchers.
    "$JUZHANG" demo --dir "$WORK/demo" >/dev/null
    DB="sqlite:///$WORK/demo/juzhang.db"
    run() { "$JUZHANG" --db "$DB" "$@" 2>/dev/null; }
    run report trial-balance H001 --period 2026-09 --out "$OUT/trial-balance.xlsx"
    run report general-ledger H001 --period 2026-09 --out "$OUT/general-ledger.xlsx"
    run report ledger H001 --period 2026-09 --account 513 --out "$OUT/ledger-513.xlsx"
    run report cash-journal H001 --period 2026-09 --out "$OUT/cash-journal.xlsx"
    run report bank-journal H001 --period 2026-09 --out "$OUT/bank-journal.xlsx"
    run report income-expenditure H001 --period 2026-09 --out "$OUT/income-expenditure.xlsx"
    run report balance-sheet H001 --period 2026-09 --out "$OUT/balance-sheet.xlsx"
    run voucher print H001 1 --period 2026-09 --out "$OUT/voucher-0001.xlsx"
    run voucher print H001 3 --period 2026-09 --out "$OUT/voucher-0003.xlsx"
    set -- "$OUT"/*.xlsx
fi

# One LibreOffice run converts every file (starting it is the slow part).
FONTCONFIG_FILE="$WORK/fonts.conf" soffice -env:UserInstallation="file://$WORK/profile" \
    --headless --convert-to pdf --outdir "$OUT" "$@" >/dev/null 2>&1
for file in "$@"; do
    name=$(basename "$file" .xlsx)
    pdftoppm -r "$DPI" -png "$OUT/$name.pdf" "$OUT/$name"
    echo "$OUT/$name.pdf"
done
