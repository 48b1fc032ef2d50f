#!/usr/bin/env python3
"""Peers for bench/kmeans.sh: FAISS and scikit-learn K-Means on the vectors
persona trained on (exported from the same table), same k, iterations and
initialisation, in the same run.

  kmeans_peer.py DATA_FILE DIM K ITERS SEED [REPEATS]
DATA_FILE holds one vector per line, values separated by spaces.
Prints lines "name seconds inertia" for:
  faiss_random    faiss.Kmeans, random initial rows, ITERS iterations, all points
                  (median time of REPEATS runs, default 1)
  sklearn_random  KMeans(init='random', n_init=1, max_iter=ITERS, tol=0)
  sklearn_pp      KMeans(init='k-means++', n_init=3, max_iter=100, tol=1e-4) (quality)
"""
import sys
import time

import numpy as np


def main():
    path, dim, k, iters, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    with open(path) as f:
        x = np.array(f.read().split(), dtype=np.float32).reshape(-1, dim)
    x = np.ascontiguousarray(x)

    import faiss
    faiss.omp_set_num_threads(len(__import__("os").sched_getaffinity(0)))
    times = []
    for _ in range(repeats):
        km = faiss.Kmeans(dim, k, niter=iters, seed=seed, max_points_per_centroid=x.shape[0], verbose=False)
        t = time.perf_counter()
        km.train(x)
        times.append(time.perf_counter() - t)
    secs = sorted(times)[len(times) // 2]
    d, _ = km.index.search(x, 1)
    print(f"faiss_random {secs:.3f} {float(d.sum()):.6g}")
    print("faiss_runs " + " ".join(f"{t:.2f}" for t in times))

    from sklearn.cluster import KMeans
    t = time.perf_counter()
    m = KMeans(n_clusters=k, init="random", n_init=1, max_iter=iters, tol=0, random_state=seed, algorithm="lloyd").fit(x)
    print(f"sklearn_random {time.perf_counter() - t:.3f} {m.inertia_:.6g}")
    t = time.perf_counter()
    m = KMeans(n_clusters=k, init="k-means++", n_init=3, max_iter=100, tol=1e-4, random_state=seed, algorithm="lloyd").fit(x)
    print(f"sklearn_pp {time.perf_counter() - t:.3f} {m.inertia_:.6g}")


if __name__ == "__main__":
    main()
