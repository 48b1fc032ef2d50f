#!/usr/bin/env python3
"""Peer and scorer for bench/item2vec.sh.

Reads the Amazon Beauty sequences, holds out each user's last item, and scores
next-item prediction (HR@10, NDCG@10) from the last seen item's nearest
neighbours (cosine, over all items, the query item excluded) for:
  persona   item vectors exported from persona.item_vectors (a TSV file)
  gensim    Word2Vec(sg=1) trained here with the same hyperparameters, 1 worker
  popular   the 10 most frequent training items (the query item excluded)
Prints one line per method.
"""
import math
import sys
import time

import numpy as np


def load(path):
    seqs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                seqs.append(parts[1:])
    return seqs


def score(name, vocab_ids, vectors, queries, targets, extra=""):
    index = {item: i for i, item in enumerate(vocab_ids)}
    norm = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    hits = ndcg = 0.0
    q_rows = [index.get(q, -1) for q in queries]
    batch = 2048
    for start in range(0, len(queries), batch):
        rows = q_rows[start:start + batch]
        known = [r for r in rows if r >= 0]
        sims = norm[[max(r, 0) for r in rows]] @ norm.T
        for k, r in enumerate(rows):
            if r < 0:
                continue
            s = sims[k]
            s[r] = -np.inf
            top = np.argpartition(-s, 10)[:10]
            top = top[np.argsort(-s[top])]
            target = index.get(targets[start + k], -1)
            where = np.where(top == target)[0]
            if len(where):
                hits += 1
                ndcg += 1 / math.log2(where[0] + 2)
    n = len(queries)
    print(f"{name:10s} HR@10 {hits / n:.4f}  NDCG@10 {ndcg / n:.4f}  {extra}")


def main():
    data, persona_tsv, dim, window, negative, epochs, sample = sys.argv[1:8]
    seed = int(sys.argv[8]) if len(sys.argv) > 8 else 1
    dim, window, negative, epochs, sample = int(dim), int(window), int(negative), int(epochs), float(sample)
    seqs = load(data)
    train = [s[:-1] for s in seqs]
    queries = [s[-2] for s in seqs]
    targets = [s[-1] for s in seqs]
    n_items = sum(len(s) for s in train)

    ids, vecs = [], []
    with open(persona_tsv) as f:
        for line in f:
            item, emb = line.rstrip("\n").split("\t")
            ids.append(item)
            vecs.append([float(x) for x in emb.strip("{}").split(",")])
    score("persona", ids, np.array(vecs, dtype=np.float32), queries, targets)

    from gensim.models import Word2Vec
    t = time.perf_counter()
    model = Word2Vec(train, vector_size=dim, window=window, negative=negative, sg=1, min_count=1,
                     sample=sample, epochs=epochs, workers=1, seed=seed, ns_exponent=0.75, alpha=0.025)
    secs = time.perf_counter() - t
    words = n_items * epochs
    score("gensim", list(model.wv.index_to_key), model.wv.vectors, queries, targets,
          f"train {secs:.1f} s, {words / secs:,.0f} items/s (1 worker)")

    counts = {}
    for s in train:
        for item in s:
            counts[item] = counts.get(item, 0) + 1
    popular = sorted(counts, key=lambda i: -counts[i])[:11]
    hits = ndcg = 0.0
    for q, tgt in zip(queries, targets):
        top = [i for i in popular if i != q][:10]
        if tgt in top:
            hits += 1
            ndcg += 1 / math.log2(top.index(tgt) + 2)
    print(f"{'popular':10s} HR@10 {hits / len(seqs):.4f}  NDCG@10 {ndcg / len(seqs):.4f}")


if __name__ == "__main__":
    main()
