#!/usr/bin/env bash
# persona.report(lang => 'zh') in a real browser: the planted shop with Chinese reviews
# (tests/fixtures/planted_shop.sql, then planted_shop_zh.sql) through item2vec, profiles,
# K-Means with automatic k and recommendations; the report, in Chinese, is opened in headless
# Chromium and the DOM Chromium rendered is checked: the Chinese headings and no English
# ones, and the segments' distinctive words are whole Chinese words (some of two Han
# characters or more, none a single Han character), as Chinese word segmentation makes them;
# the risk reasons (persona.score_risks) are in Chinese.
# A font with Chinese glyphs must be installed, or the screenshot would show empty boxes.
# An unknown language is refused with SQLSTATE 22023.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/common.sh

PORT=${PERSONA_TEST_PORT:-55498}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v chromium >/dev/null || fail "chromium is not installed (scripts/setup.sh installs Debian's package)"
# Chromium draws Han characters with whatever fontconfig offers for Chinese; without such a
# font they come out as empty boxes, which no DOM check would notice.
[ -n "$(fc-list :lang=zh family)" ] \
    || fail "no font with Chinese glyphs (fc-list :lang=zh is empty): apt-get install fonts-noto-cjk (scripts/setup.sh does)"

scripts/cluster.sh start regress "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
DB=persona_e2e_report_zh
out=$PERSONA_STATE/report-zh-e2e
rm -rf "$out"; mkdir -p "$out"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }

sql -c "CREATE EXTENSION persona" -c "SET client_min_messages = warning" \
    -f tests/fixtures/planted_shop.sql -f tests/fixtures/planted_shop_zh.sql \
    -c "SELECT count(*) FROM persona.train_item2vec('shop', 'shop_events', time_col => 'event_time', dim => 16, epochs => 20, seed => 3)" \
    -c "SELECT count(*) FROM persona.build_profiles('shop', 'shop_events', items => 'shop_items', item2vec_model => 'shop')" \
    -c "SELECT count(*) FROM persona.kmeans_train('shop_segments', profiles => 'shop', k_max => 8, texts => '(SELECT user_id, body FROM shop_reviews)')" \
    -c "SELECT count(*) FROM persona.train_recommender('shop', 'shop_events', items => 'shop_items', category_col => 'category', users => 'shop_users')" \
    -c "SELECT count(*) FROM persona.recommend_all(10, 'shop')" \
    -c "SELECT count(*) FROM persona.score_risks('shop')" >/dev/null
risky=$(sql -c "SELECT count(*) FROM persona.risks WHERE profiles = 'shop'")
((risky >= 1)) || fail "persona.score_risks found no risky user in the planted shop, so the reasons go untested"

# An unknown language: a clear error with SQLSTATE 22023, before anything is read.
err=$("${PSQL[@]}" -d "$DB" -v ON_ERROR_STOP=0 -v VERBOSITY=verbose -c "SELECT persona.report('shop_segments', lang => 'fr')" 2>&1 || true)
grep -q "22023" <<<"$err" && grep -q 'unknown report language "fr"' <<<"$err" \
    || fail "lang => 'fr' did not raise 22023 unknown report language: $err"

sql -c "SELECT persona.report('shop_segments', map_points => 600, lang => 'zh')" -o "$out/report.html"
segments=$(sql -c "SELECT count(*) FROM persona.segments WHERE model = 'shop_segments'")
((segments >= 2)) || fail "expected at least 2 segments, got $segments"

browser=(chromium --headless --no-sandbox --disable-gpu --disable-background-networking
         --disable-dev-shm-usage --no-first-run --user-data-dir="$out/profile" --hide-scrollbars)
timeout 120 "${browser[@]}" --dump-dom "file://$out/report.html" >"$out/dom.html" 2>"$out/chromium.log" \
    || fail "chromium could not render the report: $(tail -5 "$out/chromium.log")"
timeout 120 "${browser[@]}" --window-size=1280,3400 --screenshot="$out/report.png" "file://$out/report.html" \
    >>"$out/chromium.log" 2>&1 || fail "chromium could not take a screenshot: $(tail -5 "$out/chromium.log")"

# The checks read Chromium's DOM with Python's standard library: the words are those of
# the words table's last column, one chip each.
python3 - "$out/dom.html" "$segments" <<'PY' || fail "the Chinese report's DOM is not as expected (above)"
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
segments = int(sys.argv[2])
problems = []
def need(ok, what):
    if not ok:
        problems.append(what)
need('<html lang="zh-Hans">' in dom, 'html lang is not zh-Hans')
for label in ["分群规模", "用户分布图", "各分群的特征", "各分群的与众不同之处", "各分群典型用户的推荐", "高风险用户",
              "代表性词语", "主要品类", "第一主成分", "第二主成分", "购买频次"]:
    need(label in dom, f"label {label} missing")
for english in ["Segment sizes", "Map of users", "Traits by segment", "What sets each segment apart", "Top risks",
                "distinctive words", "principal component"]:
    need(english not in dom, f"English label {english} still there")
words_section = dom[dom.find('<section id="words">'):]
words_section = words_section[:words_section.find("</section>")]
rows = re.findall(r'<tr data-segment="-?\d+">(.*?)</tr>', words_section, re.S)
need(len(rows) == segments, f"{len(rows)} rows in the words table, {segments} segments")
han = re.compile(r"[\u3400-\u9fff]")
words = []
for row in rows:
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    words += [re.sub(r"<[^>]+>", "", w) for w in re.findall(r'<span class="chip">(.*?)</span>', cells[-1] if cells else "")]
chinese = [w for w in words if han.search(w)]
single = [w for w in chinese if len(w) == 1]
long_words = [w for w in chinese if len(han.findall(w)) >= 2]
need(len(long_words) >= segments, f"only {len(long_words)} words of two Han characters or more: {chinese}")
need(not single, f"single Han characters among the distinctive words: {single}")
need(not any(re.search(r"[，。！？、；：]", w) for w in words), f"punctuation inside a word: {words}")
# The risk reasons persona-risk writes are in Chinese too, with their numbers.
risks_section = dom[dom.find('<section id="risks">'):]
risks_section = risks_section[:risks_section.find("</section>")]
need("通常" in risks_section or "本店退款率" in risks_section or "行为序列相同" in risks_section,
     "no Chinese risk reason in the risks section")
for english in ["typical", "events in", "views", "same sequence", "refund", "spent"]:
    need(english not in risks_section, f"English reason text {english!r} in the risks section")
print("distinctive words:", ", ".join(words))
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY
png_bytes=$(stat -c %s "$out/report.png")
((png_bytes > 50000)) || fail "the screenshot is only $png_bytes bytes: blank page?"
echo "report (zh): $segments segments, Chinese headings, whole-word Chinese segment words; screenshot $out/report.png ($png_bytes bytes)"
echo "e2e report_chromium_zh: ok"
