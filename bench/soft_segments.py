"""Soft segments against K-Means on the same profiles: agreement with the
planted personas (adjusted Rand index) and the mean log-likelihood per user
of each as a mixture, both in the mixture's own projected space: the K-Means
segments are read as a mixture of spherical Gaussians (weights = shares,
means = segment means, one shared variance), the usual way to give K-Means
a likelihood.

    soft_segments.py DUMP.json

DUMP.json (written by soft_segments.sh): {"rows": [[user, persona, kmeans_segment,
gmm_segment, [vector...], gmm_at_kmeans_k_segment], ...], "mixture": {...}, "mixture_k": {...}}
(the mixtures as persona.kmeans_models.mixture stores them)
"""
import json
import sys

import numpy as np
from scipy.special import logsumexp
from sklearn.metrics import adjusted_rand_score


def project(x, m):
    if m["metric"] == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    p = np.array(m["projection"]).reshape(m["components_dim"], m["dim"])
    return (x - np.array(m["mean"])) @ p.T


def gmm_loglik(z, m):
    k, c = m["k"], m["components_dim"]
    means = np.array(m["means"]).reshape(k, c)
    covs = np.array(m["covariances"]).reshape(k, c, c)
    out = np.empty((len(z), k))
    for j in range(k):
        chol = np.linalg.cholesky(covs[j])
        d = np.linalg.solve(chol, (z - means[j]).T)
        out[:, j] = np.log(m["weights"][j]) - 0.5 * (c * np.log(2 * np.pi) + 2 * np.log(np.diag(chol)).sum()) - 0.5 * (d ** 2).sum(0)
    return logsumexp(out, axis=1).mean()


def kmeans_loglik(z, labels):
    n, c = z.shape
    segs = sorted(set(labels))
    means = {s: z[labels == s].mean(0) for s in segs}
    var = sum(((z[labels == s] - means[s]) ** 2).sum() for s in segs) / (n * c)
    out = np.empty((n, len(segs)))
    for j, s in enumerate(segs):
        w = (labels == s).mean()
        out[:, j] = np.log(w) - 0.5 * c * np.log(2 * np.pi * var) - ((z - means[s]) ** 2).sum(1) / (2 * var)
    return logsumexp(out, axis=1).mean()


def main():
    dump = json.load(open(sys.argv[1]))
    rows, m = dump["rows"], dump["mixture"]
    persona = np.array([r[1] for r in rows])
    km = np.array([r[2] for r in rows])
    gm = np.array([r[3] for r in rows])
    z = project(np.array([r[4] for r in rows], dtype=float), m)
    ll_km, ll_gm = kmeans_loglik(z, km), gmm_loglik(z, m)
    mk = dump["mixture_k"]
    gk = np.array([r[5] for r in rows])
    zk = project(np.array([r[4] for r in rows], dtype=float), mk)
    ll_km_k, ll_gk = kmeans_loglik(zk, km), gmm_loglik(zk, mk)
    print(f"{len(rows)} users, {len(set(persona))} planted personas, {m['components_dim']} projected dimensions")
    print(f"K-Means (persona.kmeans_train, k = {len(set(km))}): ARI {adjusted_rand_score(persona, km):.3f}, "
          f"log-likelihood {ll_km:.3f} a user (as spherical Gaussians)")
    print(f"GMM (persona.gmm_train, k = {m['k']}):     ARI {adjusted_rand_score(persona, gm):.3f}, "
          f"log-likelihood {ll_gm:.3f} a user ({ll_gm - ll_km:+.3f})")
    print(f"GMM with K-Means' k = {mk['k']}:          ARI {adjusted_rand_score(persona, gk):.3f}, "
          f"log-likelihood {ll_gk:.3f} a user in its own projection, K-Means there {ll_km_k:.3f} ({ll_gk - ll_km_k:+.3f})")


if __name__ == "__main__":
    main()
