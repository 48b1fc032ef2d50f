#!/usr/bin/env bash
# persona.report() in a real browser: the planted shop (tests/fixtures/planted_shop.sql)
# through item2vec, profiles, K-Means with automatic k, recommendations; the report is
# written to a file, opened in headless Chromium (Debian's `chromium`), and the DOM
# Chromium rendered is checked: every section, one bar / legend entry / heat-map row
# per segment that persona.segments shows, a point per sampled user, a recommendation
# row per exemplar, the top risks. A screenshot is saved beside the report.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_report
out=$PERSONA_STATE/report-e2e
rm -rf "$out"; mkdir -p "$out"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v chromium >/dev/null || fail "chromium is not installed (scripts/setup.sh installs Debian's package)"

sql -c "CREATE EXTENSION persona" -c "SET client_min_messages = warning" -f tests/fixtures/planted_shop.sql \
    -c "SELECT count(*) FROM persona.train_item2vec('shop', 'shop_events', time_col => 'event_time', dim => 16, epochs => 20, seed => 3)" \
    -c "SELECT count(*) FROM persona.build_profiles('shop', 'shop_events', items => 'shop_items', item2vec_model => 'shop')" \
    -c "SELECT count(*) FROM persona.kmeans_train('shop_segments', profiles => 'shop', k_max => 8, texts => '(SELECT user_id, body FROM shop_reviews)')" \
    -c "SELECT count(*) FROM persona.train_recommender('shop', 'shop_events', items => 'shop_items', category_col => 'category', users => 'shop_users')" \
    -c "SELECT count(*) FROM persona.recommend_all(10, 'shop')" >/dev/null

sql -c "SELECT persona.report('shop_segments', map_points => 600)" -o "$out/report.html"
segments=$(sql -c "SELECT count(*) FROM persona.segments WHERE model = 'shop_segments'")
with_exemplar=$(sql -c "SELECT count(*) FROM persona.segments s WHERE model = 'shop_segments'
                        AND EXISTS (SELECT FROM persona.recommendations r WHERE r.user_id = s.exemplar_users[1])")
risks=$(sql -c "SELECT least(20, count(*)) FROM persona.top_outliers WHERE model = 'shop_segments'")
((segments >= 2)) || fail "expected at least 2 segments, got $segments"

# --dump-dom prints the DOM after Chromium has parsed and laid out the page.
browser=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
         --disable-dev-shm-usage --no-first-run --user-data-dir="$out/profile" --hide-scrollbars)
timeout 120 "${browser[@]}" --dump-dom "file://$out/report.html" >"$out/dom.html" 2>"$out/chromium.log" \
    || fail "chromium could not render the report: $(tail -5 "$out/chromium.log")"
timeout 120 "${browser[@]}" --window-size=1280,3400 --screenshot="$out/report.png" "file://$out/report.html" \
    >>"$out/chromium.log" 2>&1 || fail "chromium could not take a screenshot: $(tail -5 "$out/chromium.log")"

count() { grep -o "$1" "$out/dom.html" | wc -l; }
for section in sizes map traits words recommendations risks; do
    [ "$(count "<section id=\"$section\">")" -eq 1 ] || fail "section $section is not rendered exactly once"
done
[ "$(count 'class="bar"')" -eq "$segments" ] || fail "bars: $(count 'class="bar"'), segments: $segments"
[ "$(count 'class="legend-entry"')" -eq "$segments" ] || fail "legend entries: $(count 'class="legend-entry"'), segments: $segments"
[ "$(count 'class="heat-row"')" -eq "$segments" ] || fail "heat-map rows: $(count 'class="heat-row"'), segments: $segments"
[ "$(count 'class="centroid"')" -eq "$segments" ] || fail "centroids: $(count 'class="centroid"'), segments: $segments"
[ "$(count '<circle')" -ge 600 ] || fail "map points: $(count '<circle'), expected at least 600"
words_rows=$(grep -o '<tr data-segment="[0-9-]*"><td><span class="swatch"' "$out/dom.html" | wc -l)
[ "$words_rows" -eq $((segments + with_exemplar)) ] || fail "table rows: $words_rows, expected $segments segments + $with_exemplar exemplars"
((with_exemplar >= 1)) || fail "no exemplar user has recommendations"
[ "$(count 'class="risk"')" -eq "$risks" ] || fail "risk rows: $(count 'class="risk"'), expected $risks"
grep -q "No recommendations computed" "$out/dom.html" && fail "the recommendations section is empty"
png_bytes=$(stat -c %s "$out/report.png")
((png_bytes > 50000)) || fail "the screenshot is only $png_bytes bytes: blank page?"
echo "report: $segments segments, $(count '<circle') map points, $with_exemplar exemplars with recommendations, $risks risks; screenshot $out/report.png ($png_bytes bytes)"
echo "e2e report_chromium: ok"
