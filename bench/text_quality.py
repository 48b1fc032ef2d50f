"""Data preparation and scoring for bench/text_quality.sh (see there for the why).

  text_quality.py prepare-zh POS_GZ NEG_GZ OUTDIR
  text_quality.py prepare-en CSV_GZ N OUTDIR
  text_quality.py score WORKDIR

prepare-* write OUTDIR/texts.jsonl (one JSON string per line, what
examples/embed_lines.rs reads) and OUTDIR/labels.txt (1 positive, 0 negative).
score reads WORKDIR/{zh,en}/ with the vectors the driver wrote
(<model>.f32, n x 384 little-endian) and WORKDIR/rates.tsv, and prints the table.
Needs only numpy and scikit-learn.
"""
import csv
import gzip
import json
import os
import sys

import numpy as np

DIM = 384
SEED = 0
# One C for every feature set: nothing is tuned per feature, so differences
# are the features', not the tuning's. 1.0 is scikit-learn's default.
C = 1.0
MODELS = [("minilm", "persona all-MiniLM-L6-v2"), ("e5", "persona multilingual-e5-small q4")]


def write_set(outdir, texts, labels):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "texts.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    with open(os.path.join(outdir, "labels.txt"), "w") as f:
        f.write("".join(f"{y}\n" for y in labels))
    print(f"{outdir}: {len(texts)} texts, {sum(labels)} positive, {len(labels) - sum(labels)} negative", file=sys.stderr)


def distinct_lines(path):
    # dict keeps first-seen order, so the file order (and so the output) is deterministic.
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return list(dict.fromkeys(s for s in (line.strip() for line in f) if s))


def prepare_zh(pos_gz, neg_gz, outdir):
    pos, neg = distinct_lines(pos_gz), distinct_lines(neg_gz)
    # A text in both files has no true label: it would only add noise to every feature set alike.
    both = set(pos) & set(neg)
    pos = [t for t in pos if t not in both]
    neg = [t for t in neg if t not in both]
    print(f"zh: {len(both)} texts in both files dropped", file=sys.stderr)
    write_set(outdir, pos + neg, [1] * len(pos) + [0] * len(neg))


def prepare_en(csv_gz, n, outdir):
    rows = []
    with gzip.open(csv_gz, "rt", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            text, rating = (r["Review Text"] or "").strip(), int(r["Rating"])
            if text and rating != 3:
                rows.append((text, 1 if rating >= 4 else 0))
    # A seeded sample of row positions in file order: the same N texts on every machine.
    pick = np.sort(np.random.default_rng(SEED).choice(len(rows), size=min(n, len(rows)), replace=False))
    write_set(outdir, [rows[i][0] for i in pick], [rows[i][1] for i in pick])


def tfidf(analyzer):
    from sklearn.feature_extraction.text import TfidfVectorizer
    # norm='l2' (the default): rows are unit length, like the persona vectors.
    return TfidfVectorizer(analyzer=analyzer, ngram_range=(1, 2), sublinear_tf=True, min_df=2)


def score_features(X, y, vectorizer=None):
    """5-fold stratified CV accuracy (and balanced accuracy) of logistic
    regression, and NMI of 2-means. Balanced accuracy is there because the
    English set is mostly positive: plain accuracy near the majority share can
    mean a classifier that always says "positive"."""
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import normalized_mutual_info_score
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline

    lr = LogisticRegression(C=C, max_iter=5000)
    # TF-IDF is refit inside each training fold, so the vocabulary and idf
    # never see the held-out fold.
    est = make_pipeline(vectorizer, lr) if vectorizer is not None else lr
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    cv = cross_validate(est, X, y, cv=folds, scoring=("accuracy", "balanced_accuracy"), n_jobs=1)
    acc = cv["test_accuracy"]
    # Clustering is unsupervised, so TF-IDF is fit on all texts here; KMeans
    # runs on the L2-normalised sparse matrix itself (no SVD).
    feats = vectorizer.fit_transform(X) if vectorizer is not None else X
    pred = KMeans(n_clusters=2, n_init=10, random_state=SEED).fit_predict(feats)
    return acc.mean(), acc.std(), normalized_mutual_info_score(y, pred), cv["test_balanced_accuracy"].mean()


def score(workdir):
    rates = {}
    with open(os.path.join(workdir, "rates.tsv")) as f:
        for line in f:
            ds, model, rate, tokens, n = line.split()
            rates[ds, model] = (float(rate), int(tokens) / int(n))
    results = {}
    print(f"logistic regression C={C}, 5-fold stratified CV (shuffled, seed {SEED}); "
          f"KMeans k=2, n_init=10, seed {SEED}; TF-IDF for KMeans: L2-normalised sparse matrix, no SVD")
    header = (f"{'set':<4} {'features':<34} {'accuracy':>15} {'bal.acc':>7} {'NMI':>7} "
              f"{'texts/s':>8} {'tokens/text':>11}")
    print(header)
    print("-" * len(header))

    def row(ds, name, r, rate="-", tok="-"):
        print(f"{ds:<4} {name:<34} {r[0]:>8.4f}±{r[1]:.4f} {r[3]:>7.4f} {r[2]:>7.4f} {rate:>8} {tok:>11}", flush=True)

    for ds, peers in [("zh", [("char", "TF-IDF char 1-2-gram")]),
                      ("en", [("char", "TF-IDF char 1-2-gram"), ("word", "TF-IDF word 1-2-gram")])]:
        d = os.path.join(workdir, ds)
        with open(os.path.join(d, "texts.jsonl"), encoding="utf-8") as f:
            texts = np.array([json.loads(line) for line in f], dtype=object)
        y = np.loadtxt(os.path.join(d, "labels.txt"), dtype=int)
        # The share of the larger class: the accuracy of always guessing it.
        majority = max(y.mean(), 1 - y.mean())
        print(f"{ds:<4} {'(majority class)':<34} {majority:>15.4f} {0.5:>7.4f} {'':>7} "
              f"  n={len(y)}, {y.sum()} positive, mean {np.mean([len(t) for t in texts]):.0f} chars")
        for key, name in MODELS:
            X = np.fromfile(os.path.join(d, f"{key}.f32"), dtype="<f4").reshape(-1, DIM)
            assert len(X) == len(y), (ds, key, len(X), len(y))
            results[ds, key] = score_features(X, y)
            rate, tok = rates[ds, key]
            row(ds, name, results[ds, key], f"{rate:.1f}", f"{tok:.1f}")
        for key, name in peers:
            results[ds, key] = score_features(texts, y, tfidf(key))
            row(ds, name, results[ds, key])
    e5, tf = results["zh", "e5"], results["zh", "char"]
    ratio = lambda a, b: f"{a / b:.3f}" if b > 0 else "n/a"
    print(f"\nzh, persona-e5 / TF-IDF char 1-2-gram: accuracy {ratio(e5[0], tf[0])} "
          f"({e5[0] - tf[0]:+.4f}), NMI {ratio(e5[2], tf[2])} ({e5[2] - tf[2]:+.4f})")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "prepare-zh":
        prepare_zh(*args)
    elif cmd == "prepare-en":
        prepare_en(args[0], int(args[1]), args[2])
    elif cmd == "score":
        score(args[0])
    else:
        sys.exit(__doc__)
