#!/usr/bin/env bash
# Opens the page in headless Chromium (WebGPU on its bundled SwiftShader) and waits for the
# report it posts to web/serve.py.
#
# usage: web/headless.sh PORT REPORT_DIR TAG QUERY [CHROMIUM_FLAG...]
#   QUERY: the page's settings, e.g. 'autostart&device=gpu&batch_size=8'; the page reports to
#   /report/TAG, which serve.py (started on PORT with REPORT_DIR) writes to REPORT_DIR/TAG.json.
#   Prints the report; fails when none comes within KILN_WEB_TIMEOUT seconds (default 300).
set -euo pipefail
port=$1 reports=$2 tag=$3 query=$4
shift 4
chromium=${CHROMIUM:-/usr/lib/chromium/chromium}
profile=$(mktemp -d)
report="$reports/$tag.json"
rm -f "$report"
setsid "$chromium" --headless=new --no-sandbox --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" "$@" \
    "http://127.0.0.1:$port/?$query&report=$tag" >"$profile.log" 2>&1 &
browser=$!
deadline=$((SECONDS + ${KILN_WEB_TIMEOUT:-300}))
while [ ! -s "$report" ] && [ $SECONDS -lt $deadline ] && kill -0 $browser 2>/dev/null; do
    sleep 0.2
done
kill -TERM -- -$browser 2>/dev/null || true
sleep 0.5
kill -KILL -- -$browser 2>/dev/null || true
if [ ! -s "$report" ]; then
    echo "no report from the page ($tag) within the time limit; browser log:" >&2
    grep -v dbus "$profile.log" | tail -20 >&2
    rm -rf "$profile" "$profile.log"
    exit 1
fi
rm -rf "$profile" "$profile.log"
cat "$report"
