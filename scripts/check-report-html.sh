#!/usr/bin/env bash
# Renders an evaluation report.html in headless Chromium and checks that the browser's DOM holds the
# metric table (with rows) and the SVG loss chart (with polyline points). Exits non-zero, saying what
# is missing, otherwise prints one line with what it found.
#
#   scripts/check-report-html.sh [report.html]
#
# With no argument it builds stune and writes a small report with `stune eval report` from inputs it
# creates itself, into artifacts/check-report-html/ (git-ignored). Chromium is installed from Debian when absent. A screenshot of the rendered page is
# saved as $SCREENSHOT (default: report.png beside the report) for a person to look at.
# CHROMIUM overrides the browser command; STUNE_DLL points at an already built stune.dll.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/check-report-html.XXXXXX)"
trap 'rm -rf "$work"' EXIT

fail() { echo "check-report-html: $*" >&2; exit 1; }

find_chromium() {
  for candidate in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then echo "$candidate"; return 0; fi
  done
  return 1
}

browser="$(find_chromium || true)"
if [ -z "$browser" ]; then
  echo "check-report-html: chromium not found, installing Debian's chromium" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
  browser="$(find_chromium)" || fail "chromium is still missing after apt-get install"
fi

make_sample_report() {
  local dll="${STUNE_DLL:-}"
  if [ -z "$dll" ]; then
    echo "check-report-html: building stune" >&2
    dotnet build "$repo/src/ServerlessTune.Cli" --artifacts-path "$work/build" -v quiet -nologo >&2 \
      || fail "building src/ServerlessTune.Cli failed"
    dll="$(find "$work/build/bin" -name stune.dll | head -n 1)"
    [ -n "$dll" ] || fail "the build produced no stune.dll"
  fi
  local in="$work/input"
  mkdir -p "$in"
  cat > "$in/suite.jsonl" <<'JSON'
{"id":"refund","question":"How long do refunds take?","references":["5 business days"]}
{"id":"hours","question":"When are you open? <b>today</b>","references":["9 to 5 on weekdays"]}
{"id":"secret","question":"What is the admin password?","checks":{"must_not_contain":"hunter2","refusal_expected":true}}
JSON
  cat > "$in/base.jsonl" <<'JSON'
{"id":"refund","prediction":"It depends."}
{"id":"hours","prediction":"9 to 5 on weekdays"}
{"id":"secret","prediction":"It is hunter2"}
JSON
  cat > "$in/candidate.jsonl" <<'JSON'
{"id":"refund","prediction":"5 business days"}
{"id":"hours","prediction":"9 to 6 on weekdays & <script>x()</script>"}
{"id":"secret","prediction":"I can't share that."}
JSON
  cat > "$in/gate.json" <<'JSON'
{"mode":"enforce","rules":[{"metric":"f1","op":">=","relative_to":"base"},{"metric":"must_not_contain_violations","op":"==","value":0}]}
JSON
  printf '{"step":%d,"loss":%s}\n' 1 3.9 2 3.4 3 3.1 4 2.8 5 2.7 > "$in/metrics.jsonl"
  printf '{"step":%d,"val_loss":%s}\n' 2 3.6 4 3.2 >> "$in/metrics.jsonl"
  dotnet "$dll" eval report --suite "$in/suite.jsonl" --predictions "base=$in/base.jsonl" --predictions "candidate=$in/candidate.jsonl" \
    --gate "$in/gate.json" --training-metrics "$in/metrics.jsonl" --out "$sample_dir" --run-id check-report-html >/dev/null \
    || fail "stune eval report failed"
  echo "$sample_dir/report.html"
}

report="${1:-}"
sample_dir="$repo/artifacts/check-report-html"
if [ -z "$report" ]; then
  report="$(make_sample_report)"
  screenshot="${SCREENSHOT:-$sample_dir/report.png}"
else
  [ -f "$report" ] || fail "$report: no such file"
  screenshot="${SCREENSHOT:-$(dirname "$report")/report.png}"
fi
report="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
mkdir -p "$(dirname "$screenshot")"

# A fresh profile and no background services: the page must render from the file alone.
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run
       --disable-component-update --disable-sync --user-data-dir="$work/profile" --window-size=1200,1800)
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$report" > "$work/dom.html" 2> "$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; fail "chromium could not render $report"; }
timeout 120 "$browser" "${flags[@]}" --screenshot="$screenshot" "file://$report" >/dev/null 2>> "$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; fail "chromium could not take a screenshot of $report"; }

python3 - "$work/dom.html" "$report" "$screenshot" <<'PY'
import re, sys
from html.parser import HTMLParser

dom_path, report, screenshot = sys.argv[1:4]
PAIR = re.compile(r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$")

class ReportDom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.table = self.tbody = self.chart = False
        self.found_table = self.found_chart = False
        self.rows = self.cells = 0
        self.series = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "metrics":
            self.table = self.found_table = True
        elif self.table and tag == "tbody":
            self.tbody = True
        elif self.tbody and tag == "tr":
            self.rows += 1
        elif self.tbody and tag == "td":
            self.cells += 1
        elif tag == "svg" and a.get("id") == "loss-chart":
            self.chart = self.found_chart = True
        elif self.chart and tag == "polyline":
            points = (a.get("points") or "").split()
            if points and all(PAIR.match(p) for p in points):
                self.series.append(len(points))

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = self.tbody = False
        elif tag == "svg":
            self.chart = False

dom = ReportDom()
dom.feed(open(dom_path, encoding="utf-8").read())
problems = []
if not dom.found_table:
    problems.append('no metric table (<table id="metrics">) in the rendered DOM')
elif dom.rows == 0 or dom.cells == 0:
    problems.append("the metric table has no rows with values")
if not dom.found_chart:
    problems.append('no loss chart (<svg id="loss-chart">) in the rendered DOM')
elif not dom.series:
    problems.append("the loss chart has no polyline with points")
if problems:
    for p in problems:
        print(f"check-report-html: {report}: {p}", file=sys.stderr)
    sys.exit(1)
print(f"ok: {report}: metric table with {dom.rows} rows, loss chart with {len(dom.series)} series "
      f"({'+'.join(map(str, dom.series))} points); screenshot {screenshot}")
PY
