#!/usr/bin/env bash
# K-Means on real review embeddings against the reviews' Department labels
# (women's clothing reviews, shipped in data/): N reviews with a department
# are embedded with persona.embed_column, clustered with persona.kmeans_train
# (cosine, k = number of departments), and scored with normalised mutual
# information; scikit-learn's KMeans on the same vectors is the peer.
#
#   bench/kmeans_reviews.sh [N]    (default 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

N=${1:-3000}
PORT=${PERSONA_BENCH_PORT:-55497}; DB=persona_bench_reviews
PYREF=${PERSONA_PYREF:-/opt/persona-pyref}
scripts/cluster.sh start bench "$PORT"
PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
sql() { "${PSQL[@]}" -d "$DB" -At "$@"; }
work=$PERSONA_STATE/bench-reviews; mkdir -p "$work"; chmod 777 "$work"
zcat data/womens_clothing_reviews.csv.gz >"$work/reviews.csv"
sql -c "CREATE EXTENSION persona" \
    -c "CREATE TABLE raw (n int, clothing_id int, age int, title text, body text, rating int, recommended int, feedback int, division text, department text, class text)" \
    -c "COPY raw FROM '$work/reviews.csv' WITH (FORMAT csv, HEADER true)" \
    -c "CREATE TABLE reviews AS SELECT n AS id, body, department, NULL::real[] AS v FROM raw
        WHERE body IS NOT NULL AND department IS NOT NULL ORDER BY hashtext(n::text) LIMIT $N"
log "embedding $N reviews"
sql -c "SET client_min_messages = warning" -c "CALL persona.embed_column('reviews', 'body', 'v')"
k=$(sql -c "SELECT count(DISTINCT department) FROM reviews")
sql -c "SET client_min_messages = warning" \
    -c "SELECT seconds FROM persona.kmeans_train('reviews', 'reviews', 'v', k => $k, key_col => 'id', seed => 1)" >/dev/null
nmi=$(sql -c "SELECT round(persona.normalized_mutual_info(array_agg(dense_rank ORDER BY id), array_agg(m.segment ORDER BY id))::numeric, 4)
              FROM (SELECT id, dense_rank() OVER (ORDER BY department)::int FROM reviews) d
              JOIN persona.segment_members m ON m.user_id = d.id AND m.model = 'reviews'")
sql -c "COPY (SELECT department, array_to_string(v, ' ') FROM reviews ORDER BY id) TO '$work/vectors.tsv'"
peer=$("$PYREF/bin/python" - "$work/vectors.tsv" "$k" <<'PY'
import sys
import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score
labels, rows = [], []
for line in open(sys.argv[1]):
    dep, vec = line.rstrip("\n").split("\t")
    labels.append(dep)
    rows.append(np.array(vec.split(), dtype=np.float32))
x = np.stack(rows)
x /= np.linalg.norm(x, axis=1, keepdims=True)
m = KMeans(n_clusters=int(sys.argv[2]), n_init=3, random_state=1).fit(x)
print(f"{normalized_mutual_info_score(labels, m.labels_):.4f}")
PY
)
echo
echo "K-Means on $N women's clothing review embeddings (all-MiniLM-L6-v2), k = $k departments"
echo "NMI against Department: persona $nmi, scikit-learn KMeans on the same vectors $peer"
rm -f "$work/reviews.csv" "$work/vectors.tsv"
