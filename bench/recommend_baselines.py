"""Baselines for bench/recommend.sh: popularity, item-kNN and EASE in numpy/scipy,
on the same events and the same protocol as persona.evaluate_recommendations.

    python bench/recommend_baselines.py EVENTS_TSV [LAMBDA] [KNN_NEIGHBOURS]

EVENTS_TSV: user, item, time per line (tab-separated). Each user's events are
ordered by (time, item); the last is the target, the model is fitted on every
user's earlier events (the target item's earlier occurrences left out) and the
user's earlier items are never recommended. Full ranking over all items; ties
by item id ascending. Prints one line per method: name HR@10 NDCG@10 coverage.
"""

import sys
import time
from collections import defaultdict

import numpy as np
import scipy.sparse as sp

K = 10


def load(path):
    per_user = defaultdict(list)
    items = set()
    with open(path) as f:
        for line in f:
            u, i, t = line.split("\t")
            per_user[int(u)].append((float(t), int(i)))
            items.add(int(i))
    ids = sorted(items)
    index = {i: p for p, i in enumerate(ids)}
    histories, targets = [], []
    for u in sorted(per_user):
        seq = [index[i] for _, i in sorted(per_user[u])]
        if len(seq) >= 2:
            last = seq[-1]
            histories.append([i for i in seq[:-1] if i != last])
            targets.append(last)
        else:
            histories.append(seq)
            targets.append(-1)
    return histories, np.array(targets), len(ids)


def matrix(histories, n_items):
    rows, cols = [], []
    for u, h in enumerate(histories):
        for i in set(h):
            rows.append(u)
            cols.append(i)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(histories), n_items))


def evaluate(score_rows, X, targets, n_items):
    """score_rows(users) -> dense scores; history items masked."""
    tested = np.nonzero(targets >= 0)[0]
    hits = ndcg = 0.0
    covered = np.zeros(n_items, dtype=bool)
    index = np.arange(n_items)
    for start in range(0, len(tested), 1024):
        users = tested[start:start + 1024]
        scores = np.asarray(score_rows(users), dtype=np.float32)
        scores[X[users].toarray() > 0] = -np.inf
        for row, u in zip(scores, users):
            # Top k by score descending, ties by item index ascending.
            top = np.argpartition(-row, K)[:K] if n_items > K else index
            kth = row[top].min()
            pool = np.nonzero(row >= kth)[0]
            order = pool[np.lexsort((pool, -row[pool]))][:K]
            covered[order] = True
            where = np.nonzero(order == targets[u])[0]
            if where.size:
                hits += 1
                ndcg += 1 / np.log2(where[0] + 2)
    n = max(len(tested), 1)
    return hits / n, ndcg / n, covered.mean()


def main():
    path = sys.argv[1]
    lam = float(sys.argv[2]) if len(sys.argv) > 2 else 200.0
    neighbours = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    histories, targets, n_items = load(path)
    X = matrix(histories, n_items)
    popularity = np.asarray(X.sum(axis=0)).ravel()
    t0 = time.time()
    hr, nd, cov = evaluate(lambda users: np.tile(popularity, (len(users), 1)), X, targets, n_items)
    print(f"popularity {hr:.4f} {nd:.4f} {cov:.4f} {time.time() - t0:.1f}", flush=True)

    # Item-kNN: cosine of the items' user sets, top neighbours per item kept.
    t0 = time.time()
    Xc = X.tocsc()
    counts = np.asarray(Xc.sum(axis=0)).ravel()
    co = (Xc.T @ Xc).toarray()
    np.fill_diagonal(co, 0)
    norm = np.sqrt(np.outer(counts, counts))
    S = np.divide(co, norm, out=np.zeros_like(co), where=norm > 0).astype(np.float32)
    del co, norm
    if neighbours < n_items:
        cut = np.argpartition(-S, neighbours, axis=1)[:, neighbours:]
        np.put_along_axis(S, cut, 0.0, axis=1)
    Ss = sp.csr_matrix(S)
    del S
    hr, nd, cov = evaluate(lambda users: (X[users] @ Ss).toarray() + 1e-5 * popularity / popularity.max(), X, targets, n_items)
    print(f"item-kNN {hr:.4f} {nd:.4f} {cov:.4f} {time.time() - t0:.1f}", flush=True)
    del Ss

    # EASE (Steck 2019): B = I - P diag(1/diag(P)), P = (X'X + lambda I)^-1, diag(B) = 0.
    t0 = time.time()
    G = (X.T @ X).toarray().astype(np.float64)
    G[np.diag_indices(n_items)] += lam
    P = np.linalg.inv(G)
    del G
    B = (-P / np.diag(P)).astype(np.float32)
    del P
    np.fill_diagonal(B, 0.0)
    hr, nd, cov = evaluate(lambda users: X[users] @ B + 1e-5 * popularity / popularity.max(), X, targets, n_items)
    print(f"EASE {hr:.4f} {nd:.4f} {cov:.4f} {time.time() - t0:.1f}", flush=True)


if __name__ == "__main__":
    main()
