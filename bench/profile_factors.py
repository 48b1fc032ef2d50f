"""Who the user is, from their profile: gender AUC and age-group accuracy of a
logistic regression on persona's profile vectors, against the named peer, the
same regression on the raw user x item matrix (BlurMe, RecSys 2012), with the
same folds in the same run.

    profile_factors.py USERS_FILE INTER_FILE NAME=VECTORS.tsv [NAME=VECTORS.tsv ...]

USERS_FILE and INTER_FILE are MovieLens in the RecBole layout (ml-100k.user,
ml-100k.inter); each VECTORS.tsv holds user_id <TAB> {v1,v2,...} as COPY writes
profile_vec. Prints one line per feature set: mean and spread over 5 folds.
"""
import sys

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

AGE_GROUPS = [18, 25, 35, 45, 50, 56]  # ML-1M's groups: under 18, 18-24, ..., 56 and over


def read_users(path):
    users = {}
    with open(path) as f:
        next(f)
        for line in f:
            uid, age, gender = line.rstrip("\n").split("\t")[:3]
            users[int(uid)] = (gender == "F", int(np.searchsorted(AGE_GROUPS, int(age), side="right")))
    return users


def raw_matrix(path, ids):
    row_of = {u: n for n, u in enumerate(ids)}
    rows, cols, col_of = [], [], {}
    with open(path) as f:
        next(f)
        for line in f:
            u, i = line.split("\t")[:2]
            u = int(u)
            if u in row_of:
                rows.append(row_of[u])
                cols.append(col_of.setdefault(i, len(col_of)))
    m = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(col_of)))
    m.data[:] = 1.0
    return m


def read_vectors(path):
    out = {}
    with open(path) as f:
        for line in f:
            uid, vec = line.rstrip("\n").split("\t")
            if vec != "\\N":
                out[int(uid)] = np.array([float(x) for x in vec.strip("{}").split(",")])
    return out


def evaluate(x, gender, age, folds, dense):
    def model(multi):
        lr = LogisticRegressionCV(Cs=10, cv=3, max_iter=5000, scoring="roc_auc" if not multi else "accuracy")
        return make_pipeline(StandardScaler(), lr) if dense else lr

    aucs, accs = [], []
    for train, test in folds:
        g = model(False).fit(x[train], gender[train])
        aucs.append(roc_auc_score(gender[test], g.predict_proba(x[test])[:, 1]))
        a = model(True).fit(x[train], age[train])
        accs.append(accuracy_score(age[test], a.predict(x[test])))
    return np.mean(aucs), np.std(aucs), np.mean(accs), np.std(accs)


def main():
    users_file, inter_file, *sets = sys.argv[1:]
    users = read_users(users_file)
    vectors = {name: read_vectors(path) for name, path in (s.split("=", 1) for s in sets)}
    # Users every feature set has, in one order, so that the folds are the same.
    ids = sorted(u for u in users if all(u in v for v in vectors.values()))
    gender = np.array([users[u][0] for u in ids], dtype=int)
    age = np.array([users[u][1] for u in ids])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(ids)), gender))
    print(f"{len(ids)} users ({gender.mean():.1%} women), {len(set(age))} age groups, 5 folds", flush=True)
    results = [("raw user x item matrix (peer)", evaluate(raw_matrix(inter_file, ids), gender, age, folds, False))]
    for name, v in vectors.items():
        x = np.vstack([v[u] for u in ids])
        results.append((f"{name} ({x.shape[1]}-d profile_vec)", evaluate(x, gender, age, folds, True)))
    peer = results[0][1]
    for name, (auc, auc_sd, acc, acc_sd) in results:
        print(f"{name:45s} gender AUC {auc:.4f} ± {auc_sd:.4f} ({auc / peer[0]:.3f}x)   "
              f"age-group accuracy {acc:.4f} ± {acc_sd:.4f} ({acc / peer[2]:.3f}x)")


if __name__ == "__main__":
    main()
