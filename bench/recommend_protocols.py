"""Baselines for bench/recommend.sh under the protocols of
persona.evaluate_recommendations(protocol => 'last' | 'cutoff' | 'random'):
popularity, and dense EASE with lambda tuned on a validation part of the
training data (never on the test part), in numpy/scipy.

    python bench/recommend_protocols.py EVENTS_TSV [--protocol last|cutoff|random]
        [--cutoff T] [--fraction F] [--seed S] [--lambdas 10,20,...] [--k K]

EVENTS_TSV: user, item, time per line (tab-separated, integer ids). Each user's
events are ordered by (time, item), as persona reads them.

Protocols (the definitions persona implements; any change must be made in both):
  last    each user with two or more events: the last event is the test item;
          training is the earlier events less earlier events of that item.
  cutoff  training is the events with time < T; the test items of a user are
          the distinct items touched at or after T and not before it; users
          with a training event and a test item are tested.
  random  per user, the distinct items are ordered by (key(seed, user, item),
          item id); the first floor(n * F + 0.5) (at most n - 1, none when
          n < 2) are the test items, the rest training with all their events.
          key() is splitmix64's finalizer applied three times (see key()).

Validation for the lambda grid, inside the training part only: for 'random', a
random 1/9 of each user's training items (key() with seed + 1); for 'last' and
'cutoff', each user's latest training item (the 'last' split applied again).
lambda is chosen by validation NDCG@K (the smallest on a tie), EASE is refitted
on the whole training part and scored on the test part.

Metrics over the tested users, full ranking over the catalogue (every item in
the file), the user's training items never recommended, ties by item id:
HR@K, NDCG@K (ideal DCG over min(K, test items)), recall@K, catalogue coverage,
and popularity rank (mean over every list entry of the item's rank by training
popularity, 1 = most popular, ties by item id).

Prints '#' lines (split sizes, the grid, a recount of popularity) and one line
per baseline:  name HR@K NDCG@K recall coverage popularity_rank seconds lambda
"""

import argparse
import math
import sys
import time

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp

GRID = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


# --- the split keys ----------------------------------------------------------

def mix(x):
    """splitmix64's finalizer on uint64 arrays (numpy's uint64 arithmetic wraps)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def u64(x):
    """i64 to u64, two's complement (Rust's `as u64`)."""
    return np.asarray(x, dtype=np.int64).astype(np.uint64)


def key(seed, user, items):
    """key(seed, user, item) = mix(mix(mix(seed) ^ user) ^ item), for an array of items."""
    return mix(mix(mix(u64(seed)) ^ u64(user)) ^ u64(items))


# mix(0) is splitmix64's first output from state 0: a check that the wrapping
# arithmetic above is the reference's, before any split depends on it.
assert int(mix(u64([0]))[0]) == 0xE220A8397B1DCDAF


# --- data and splits ---------------------------------------------------------

def load(path):
    """Per-user event sequences (item indices, time order) and times; item index
    order is item id order, so "ties by item index" is "ties by item id"."""
    raw = np.loadtxt(path, delimiter="\t", dtype=np.float64, ndmin=2)
    users = raw[:, 0].astype(np.int64)
    items = raw[:, 1].astype(np.int64)
    times = raw[:, 2]
    item_ids, item_index = np.unique(items, return_inverse=True)
    order = np.lexsort((items, times, users))
    users, item_index, times = users[order], item_index[order], times[order]
    user_ids, starts = np.unique(users, return_index=True)
    bounds = list(starts[1:]) + [len(users)]
    seqs = [item_index[a:b] for a, b in zip(starts, bounds)]
    tims = [times[a:b] for a, b in zip(starts, bounds)]
    return user_ids, item_ids, seqs, tims


EMPTY = np.zeros(0, dtype=np.int64)


def split_last(seqs):
    train, test = [], []
    for s in seqs:
        if len(s) >= 2:
            t = s[-1]
            h = s[:-1]
            train.append(h[h != t])
            test.append(np.array([t]))
        else:
            train.append(s)
            test.append(EMPTY)
    return train, test


def split_cutoff(seqs, tims, cutoff):
    train, test = [], []
    for s, t in zip(seqs, tims):
        before, after = s[t < cutoff], s[t >= cutoff]
        new = np.setdiff1d(after, before)
        train.append(before)
        test.append(new if len(before) and len(new) else EMPTY)
    return train, test


def split_random(seqs, user_ids, item_ids, fraction, seed):
    train, test = [], []
    for u, s in zip(user_ids, seqs):
        distinct = np.unique(s)
        n = len(distinct)
        n_test = min(max(math.floor(n * fraction + 0.5), 0), n - 1) if n >= 2 else 0
        if n_test == 0:
            train.append(s)
            test.append(EMPTY)
            continue
        ids = item_ids[distinct]
        order = np.lexsort((ids, key(seed, u, ids)))
        held = distinct[order[:n_test]]
        train.append(s[~np.isin(s, held)])
        test.append(np.sort(held))
    return train, test


def matrix(histories, n_items):
    rows = np.concatenate([np.full(len(np.unique(h)), u) for u, h in enumerate(histories)] or [EMPTY])
    cols = np.concatenate([np.unique(h) for h in histories] or [EMPTY])
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(histories), n_items))


def popularity(X):
    """Distinct users per item and the 1-based rank by (count desc, item id asc)."""
    counts = np.asarray(X.sum(axis=0)).ravel()
    order = np.lexsort((np.arange(len(counts)), -counts))
    rank = np.empty(len(counts), dtype=np.int64)
    rank[order] = np.arange(1, len(counts) + 1)
    return counts, rank


# --- evaluation --------------------------------------------------------------

def top_k(row, k):
    """Top k indices by score descending, ties by index ascending, masked (-inf) left out."""
    n = len(row)
    top = np.argpartition(-row, k)[:k] if n > k else np.arange(n)
    kth = row[top].min()
    pool = np.nonzero(row >= kth)[0]
    order = pool[np.lexsort((pool, -row[pool]))][:k]
    return order[np.isfinite(row[order])]


def evaluate(score_rows, X, test, rank, k):
    """score_rows(users) -> dense scores; returns HR, NDCG, recall, coverage, popularity rank, users."""
    n_items = X.shape[1]
    tested = np.array([u for u, t in enumerate(test) if len(t)], dtype=np.int64)
    discounts = 1.0 / np.log2(np.arange(k) + 2)
    hr = nd = rc = rank_sum = 0.0
    entries = 0
    covered = np.zeros(n_items, dtype=bool)
    for start in range(0, len(tested), 1024):
        users = tested[start:start + 1024]
        scores = np.array(score_rows(users), dtype=np.float32)
        scores[X[users].toarray() > 0] = -np.inf
        for row, u in zip(scores, users):
            order = top_k(row, k)
            covered[order] = True
            rank_sum += rank[order].sum()
            entries += len(order)
            hit = np.isin(order, test[u])
            hits = hit.sum()
            if hits:
                hr += 1
                rc += hits / len(test[u])
                nd += discounts[:len(order)][hit].sum() / discounts[:min(k, len(test[u]))].sum()
    m = max(len(tested), 1)
    return hr / m, nd / m, rc / m, covered.mean(), rank_sum / max(entries, 1), len(tested)


def check_popularity(train, test, n_items, k, got):
    """Popularity's figures recounted in plain Python (other code, same definitions)."""
    counts = [0] * n_items
    for h in train:
        for i in set(h.tolist()):
            counts[i] += 1
    order = sorted(range(n_items), key=lambda i: (-counts[i], i))
    rank = {i: r + 1 for r, i in enumerate(order)}
    hr = nd = rc = rank_sum = 0.0
    entries = users = 0
    covered = set()
    for h, t in zip(train, test):
        if not len(t):
            continue
        users += 1
        seen, want = set(h.tolist()), set(t.tolist())
        lst = []
        for i in order:
            if i not in seen:
                lst.append(i)
                if len(lst) == k:
                    break
        covered.update(lst)
        rank_sum += sum(rank[i] for i in lst)
        entries += len(lst)
        dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(lst) if i in want)
        hits = sum(i in want for i in lst)
        if hits:
            hr += 1
            rc += hits / len(want)
            nd += dcg / sum(1 / math.log2(r + 2) for r in range(min(k, len(want))))
    want = (hr / users, nd / users, rc / users, len(covered) / n_items, rank_sum / entries, users)
    diff = max(abs(a - b) for a, b in zip(want, got))
    # A list from the most popular items cannot average a better rank than 1..k does.
    assert got[4] >= (k + 1) / 2 - 1e-9, got
    assert diff < 1e-9, (want, got)
    return diff


# --- EASE --------------------------------------------------------------------

def gram(X):
    return (X.T @ X).toarray().astype(np.float64)


def ease_from_inverse(P):
    """B = I - P diag(1/diag(P)) with a zero diagonal (Steck 2019)."""
    B = (-P / np.diag(P)).astype(np.float32)
    np.fill_diagonal(B, 0.0)
    return B


def ease(G, lam):
    A = G.copy()
    A[np.diag_indices_from(A)] += lam
    return ease_from_inverse(np.linalg.inv(A))


def ease_grid(G, lambdas):
    """EASE for every lambda from one eigendecomposition G = V diag(s) V':
    (G + lambda I)^-1 = W W' with W = V diag(1 / sqrt(s + lambda)), a product
    cheaper than an inversion per lambda on a large catalogue."""
    s, V = sl.eigh(G, driver="evd", check_finite=False)
    s = np.maximum(s, 0.0)  # G is positive semi-definite; rounding may dip below zero
    for lam in lambdas:
        W = V / np.sqrt(s + lam)
        yield lam, ease_from_inverse(W @ W.T)


def ease_scores(X, B, counts):
    # A tiny popularity term orders items the model scores equally (as persona's
    # default ranking does), before the item id.
    tie = (1e-5 * counts / counts.max()).astype(np.float32) if counts.max() > 0 else 0.0
    return lambda users: X[users] @ B + tie


# --- main ----------------------------------------------------------------------

def split(args, user_ids, item_ids, seqs, tims):
    if args.protocol == "last":
        return split_last(seqs)
    if args.protocol == "cutoff":
        return split_cutoff(seqs, tims, args.cutoff)
    return split_random(seqs, user_ids, item_ids, args.fraction, args.seed)


def validation(args, user_ids, item_ids, train):
    """The validation part, made from the training part only, as persona's automatic choice makes it."""
    if args.protocol == "random":
        return split_random(train, user_ids, item_ids, 1.0 / 9.0, args.seed + 1)
    return split_last(train)


def line(name, m, seconds, lam):
    print(f"{name} {m[0]:.4f} {m[1]:.4f} {m[2]:.4f} {m[3]:.4f} {m[4]:.2f} {seconds:.1f} {lam}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("events")
    ap.add_argument("--protocol", choices=("last", "cutoff", "random"), default="last")
    ap.add_argument("--cutoff", type=float)
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--lambdas", default=",".join(map(str, GRID)))
    args = ap.parse_args()
    if args.protocol == "cutoff" and args.cutoff is None:
        ap.error("--protocol cutoff needs --cutoff")
    lambdas = [float(x) for x in args.lambdas.split(",")]
    k = args.k
    started = time.time()

    user_ids, item_ids, seqs, tims = load(args.events)
    n_items = len(item_ids)
    train, test = split(args, user_ids, item_ids, seqs, tims)
    X = matrix(train, n_items)
    counts, rank = popularity(X)
    tested = sum(1 for t in test if len(t))
    print(f"# protocol {args.protocol}"
          + (f" cutoff {args.cutoff:.0f}" if args.protocol == "cutoff" else "")
          + (f" fraction {args.fraction} seed {args.seed}" if args.protocol == "random" else "")
          + f": {len(user_ids)} users, {n_items} items, {sum(map(len, seqs))} events;"
          + f" {tested} users tested, {sum(map(len, test))} test items,"
          + f" {sum(map(len, train))} training events", flush=True)

    t0 = time.time()
    m = evaluate(lambda users: np.tile(-rank.astype(np.float32), (len(users), 1)), X, test, rank, k)
    seconds = time.time() - t0
    diff = check_popularity(train, test, n_items, k, m)
    print(f"# popularity recounted in plain Python: agrees (max difference {diff:.1e})", flush=True)
    line("popularity", m, seconds, "-")

    t0 = time.time()
    v_train, v_test = validation(args, user_ids, item_ids, train)
    Xv = matrix(v_train, n_items)
    v_counts, v_rank = popularity(Xv)
    scores = []
    grid = ease_grid(gram(Xv), lambdas) if len(lambdas) > 1 else ((lam, ease(gram(Xv), lam)) for lam in lambdas)
    for lam, B in grid:
        vm = evaluate(ease_scores(Xv, B, v_counts), Xv, v_test, v_rank, k)
        scores.append((vm[1], -lam, lam, vm))
        del B
    best = max(scores)[2]  # highest NDCG, then the smallest lambda
    print(f"# EASE validation ({scores[0][3][5]} users; lambda: HR@{k}/NDCG@{k}): "
          + ", ".join(f"{lam:g}: {vm[0]:.4f}/{vm[1]:.4f}" for _, _, lam, vm in scores), flush=True)
    B = ease(gram(X), best)
    m = evaluate(ease_scores(X, B, counts), X, test, rank, k)
    line("EASE-tuned", m, time.time() - t0, f"{best:g}")
    print(f"# total {time.time() - started:.1f} s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
