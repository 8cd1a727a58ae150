#!/usr/bin/env bash
# Render every workbook of the sample run to PNG pages, to look at them without Excel.
#
# Usage:
#   scripts/render.sh [--from DIR] [DEST]
#
#   DEST        folder for the PNG pages (default: out/render)
#   --from DIR  render the .xlsx/.ods already under DIR (e.g. the out/ of your own run)
#               instead of doing the sample run
#
# Without --from it does the sample run of the README in a temporary folder:
#   toolkit make-templates --units samples/units.csv --office TX --out TMP/templates
#   toolkit consolidate samples/inbox --units samples/units.csv --office TX --out TMP
# (samples/inbox is made by samples/make_inbox.py first when it does not exist), then
# converts every workbook to PDF with LibreOffice (`soffice --headless --convert-to pdf`,
# private profile, via tests/lo_driver.py) and each PDF page to PNG
# (`pdftoppm -png -r $DPI`). Pages land in DEST with the workbook's relative path:
#   DEST/templates/nq02-2020_TX01_doan-thi-tran-tho-xuan-1.png
#   DEST/tong-hop_nq02-2020_TX-3.png
#   DEST/feedback/TX05_nq02-2020_phan-hoi-1.png
# The PDFs are kept beside the PNGs.
#
# Environment:
#   PYTHON  Python with the toolkit installed (default: .venv/bin/python, else python3)
#   DPI     resolution of the PNG pages (default: 70)
#   SOFFICE LibreOffice binary (default: soffice)
# Needs LibreOffice (libreoffice-calc-nogui) and poppler-utils; .ci/run installs both.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FROM=""
DEST=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM="${2:?--from needs a folder}"; shift 2 ;;
    --from=*) FROM="${1#--from=}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "render.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$DEST" ] || { echo "render.sh: one DEST only" >&2; exit 2; }; DEST="$1"; shift ;;
  esac
done
DEST="${DEST:-out/render}"
DPI="${DPI:-70}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi

for tool in "${SOFFICE:-soffice}" pdftoppm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "render.sh: $tool not found (install libreoffice-calc-nogui and poppler-utils)" >&2
    exit 1
  }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/toolkit-render.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

if [ -n "$FROM" ]; then
  [ -d "$FROM" ] || { echo "render.sh: no folder $FROM" >&2; exit 1; }
  SRC="$(cd "$FROM" && pwd)"
else
  SRC="$WORK/out"
  if [ ! -d "$ROOT/samples/inbox" ]; then
    echo "samples/inbox does not exist: making it with samples/make_inbox.py"
    (cd "$ROOT" && "$PYTHON" samples/make_inbox.py)
  fi
  (cd "$ROOT" && "$PYTHON" -m toolkit.cli make-templates --units samples/units.csv --office TX --out "$SRC/templates")
  (cd "$ROOT" && "$PYTHON" -m toolkit.cli consolidate samples/inbox --units samples/units.csv --office TX --out "$SRC")
fi

mkdir -p "$DEST"
DEST="$(cd "$DEST" && pwd)"
MARK="$DEST/.rendered-by-scripts-render"
if [ -f "$MARK" ]; then  # a folder this script made: drop the pages of the last run
  find "$DEST" -type f \( -name '*.png' -o -name '*.pdf' \) -delete
fi
touch "$MARK"

# One soffice run per folder (PDF names come from the file names, unique within a folder).
count=0
while IFS= read -r -d '' dir; do
  rel="${dir#"$SRC"}"; rel="${rel#/}"
  files=()
  while IFS= read -r -d '' f; do files+=("$f"); done < <(
    find "$dir" -maxdepth 1 -type f \( -name '*.xlsx' -o -name '*.ods' \) \
      ! -name '~$*' ! -name '.~lock.*' -print0 | sort -z)
  [ "${#files[@]}" -gt 0 ] || continue
  out="$DEST${rel:+/$rel}"
  mkdir -p "$out"
  python3 "$ROOT/tests/lo_driver.py" pdf --outdir "$out" "${files[@]}" >/dev/null
  for f in "${files[@]}"; do
    stem="$(basename "${f%.*}")"
    pdftoppm -png -r "$DPI" "$out/$stem.pdf" "$out/$stem"
    pages=$(find "$out" -maxdepth 1 -name "$stem-*.png" | wc -l)
    echo "${rel:+$rel/}$(basename "$f"): $pages page(s)"
    count=$((count + 1))
  done
done < <(find "$SRC" -path "$SRC/*/.*" -prune -o -path "$SRC/.*" -prune -o -type d -print0 |
         sort -z)  # hidden folders (the previous run in .truoc/) are not rendered

[ "$count" -gt 0 ] || { echo "render.sh: no workbook under $SRC" >&2; exit 1; }
echo "Rendered $count workbook(s) to $DEST"
