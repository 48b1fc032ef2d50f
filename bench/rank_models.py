"""Cross-check of persona-rank's evaluation (crates/persona-rank/examples/evaluate)
with numpy: popularity and EASE on Amazon Beauty (S3-Rec split), full ranking,
leave-last-out, the user's history excluded.

    /opt/persona-pyref/bin/python bench/rank_models.py [lambda ...]

Protocol, as in the Rust example: the last item of each user is the test
target; models are fitted on everything before it (training + validation
items). Ties rank by item index ascending.
"""

import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

DATA = Path(__file__).resolve().parents[2] / "shared/data/amazon-beauty-seq/Beauty.txt"
K = 10


def load(path):
    seqs = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) > 1:
            seqs.append([int(x) - 1 for x in fields[1:]])
    n_items = max(max(s) for s in seqs) + 1
    return seqs, n_items


def interactions(histories, n_items):
    rows, cols = [], []
    for u, h in enumerate(histories):
        for i in set(h):
            rows.append(u)
            cols.append(i)
    data = np.ones(len(rows), dtype=np.float64)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(histories), n_items))


def evaluate(score_rows, X, targets):
    """score_rows(users) -> dense scores; history items masked to -inf."""
    hits, ndcg = 0.0, 0.0
    n_items = X.shape[1]
    index = np.arange(n_items)
    for start in range(0, X.shape[0], 2048):
        users = np.arange(start, min(start + 2048, X.shape[0]))
        scores = np.asarray(score_rows(users), dtype=np.float32)
        scores[X[users].toarray() > 0] = -np.inf
        for row, u in zip(scores, users):
            order = np.lexsort((index, -row))[:K]
            where = np.nonzero(order == targets[u])[0]
            if where.size:
                hits += 1
                ndcg += 1 / np.log2(where[0] + 2)
    return hits / X.shape[0], ndcg / X.shape[0]


def main():
    lambdas = [float(x) for x in sys.argv[1:]] or [200.0]
    seqs, n_items = load(DATA)
    histories = [s[:-1] for s in seqs]
    targets = np.array([s[-1] for s in seqs])
    X = interactions(histories, n_items)
    popularity = np.asarray(X.sum(axis=0)).ravel()
    hr, nd = evaluate(lambda users: np.tile(popularity, (len(users), 1)), X, targets)
    print(f"popularity  HR@10 {hr:.4f}  NDCG@10 {nd:.4f}  ({len(seqs)} users, {n_items} items)")
    gram = (X.T @ X).toarray()
    for lam in lambdas:
        t0 = time.time()
        P = np.linalg.inv(gram + lam * np.eye(n_items))
        B = -P / np.diag(P)
        np.fill_diagonal(B, 0.0)
        fit = time.time() - t0
        B32 = B.astype(np.float32)
        del P, B
        hr, nd = evaluate(lambda users: (X[users] @ B32), X, targets)
        print(f"EASE λ={lam:g} HR@10 {hr:.4f}  NDCG@10 {nd:.4f}  (numpy inverse {fit:.0f} s)")


if __name__ == "__main__":
    main()
