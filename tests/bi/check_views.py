#!/usr/bin/env python3
"""Reads persona's BI relations through psycopg 3 and checks them against README.md.

The README documents each relation under a heading `#### persona.<name>`, with the
first table below it headed `| column | type | meaning |` and one row per column,
in order, name and type in backticks; types are spelt as format_type() prints them.

For each of persona.segments, persona.segment_members, persona.profiles and
persona.recommendations this script runs SELECT * ... LIMIT n, takes the column
names and type OIDs (and type modifiers) of the result from the cursor, turns
each (OID, typmod) into a name with format_type() from the server's pg_type, and
compares the list with the README's. Then it checks that the rows make sense
(shares, members, profiles, recommendation lists).

Usage:
  check_views.py --readme README.md --dsn 'host=... dbname=...' [--recommendations yes|no]
  check_views.py --readme README.md --self-test   (no database: the README parser and diff)
Exits 0 when everything matches, 1 with a message per problem otherwise.
"""
import argparse
import math
import re
import sys
from collections import defaultdict

RELATIONS = ["persona.segments", "persona.segment_members", "persona.profiles", "persona.recommendations"]
HEADER = ["column", "type", "meaning"]
SAMPLE_ROWS = 50


class ReadmeError(Exception):
    pass


def parse_readme(text):
    """Returns {relation: [(column, type, meaning), ...]} for every `#### persona.x` section."""
    lines = text.splitlines()
    docs = {}
    i = 0
    while i < len(lines):
        m = re.match(r"^####\s+(persona\.[a-z_][a-z0-9_]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        rel, start = m.group(1), i + 1
        if rel in docs:
            raise ReadmeError(f"README.md documents {rel} twice (second at line {start})")
        i += 1
        # The first table after the heading, before the next heading.
        while i < len(lines) and not lines[i].lstrip().startswith("|") and not lines[i].startswith("#"):
            i += 1
        if i >= len(lines) or not lines[i].lstrip().startswith("|"):
            raise ReadmeError(f"README.md: no table under '#### {rel}' (line {start})")
        header = split_row(lines[i], 3)
        if [h.lower() for h in header] != HEADER:
            raise ReadmeError(f"README.md line {i + 1}: the table of {rel} must be headed "
                              f"'| column | type | meaning |', not '{lines[i].strip()}'")
        i += 1
        if i >= len(lines) or not re.match(r"^\s*\|(\s*:?-+:?\s*\|){3}\s*$", lines[i]):
            raise ReadmeError(f"README.md line {i + 1}: no '|---|---|---|' row under the header of {rel}")
        i += 1
        rows = []
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            col, typ, meaning = split_row(lines[i], 3)
            col, typ = unquote(col), unquote(typ)
            if not col or not typ or not meaning:
                raise ReadmeError(f"README.md line {i + 1}: {rel} row needs a column, a type and a meaning: {lines[i].strip()}")
            rows.append((col, typ, meaning))
            i += 1
        if not rows:
            raise ReadmeError(f"README.md: the table of {rel} (line {start}) has no rows")
        docs[rel] = rows
    return docs


def split_row(line, n):
    """Cells of a markdown table row; the last cell (the meaning) keeps any further '|'."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells = [c.strip() for c in s.split("|", n - 1)]
    if len(cells) != n:
        raise ReadmeError(f"README.md: expected {n} cells in '{line.strip()}'")
    return cells


def unquote(cell):
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == "`" and cell[-1] == "`":
        cell = cell[1:-1].strip()
    return cell


def diff_columns(rel, documented, actual):
    """Problems (strings) between the README's [(name, type)] and the server's [(name, type)]."""
    problems = []
    doc_names = [c for c, _ in documented]
    act_names = [c for c, _ in actual]
    doc_types = dict(documented)
    act_types = dict(actual)
    for dup in sorted({c for c in doc_names if doc_names.count(c) > 1}):
        problems.append(f"{rel}: README.md lists column '{dup}' more than once")
    added = [c for c in act_names if c not in doc_types]
    removed = [c for c in doc_names if c not in act_types]
    # One column gone and one new at the same position: call it a rename.
    if len(added) == 1 and len(removed) == 1 and act_names.index(added[0]) == doc_names.index(removed[0]):
        a, r = added[0], removed[0]
        note = "" if act_types[a] == doc_types[r] else f" (and retyped {doc_types[r]} -> {act_types[a]})"
        problems.append(f"{rel}: column '{r}' was renamed to '{a}'{note} (position {act_names.index(a) + 1})")
    else:
        for c in added:
            problems.append(f"{rel}: column '{c}' ({act_types[c]}, position {act_names.index(c) + 1}) was added; "
                            f"README.md does not document it")
        for c in removed:
            problems.append(f"{rel}: column '{c}' ({doc_types[c]}) is documented in README.md but is gone")
    for c in act_names:
        if c in doc_types and doc_types[c] != act_types[c]:
            problems.append(f"{rel}: column '{c}' is {act_types[c]}, README.md says {doc_types[c]}")
    common_doc = [c for c in doc_names if c in act_types]
    common_act = [c for c in act_names if c in doc_types]
    if common_doc != common_act:
        problems.append(f"{rel}: columns are in a different order: README.md has ({', '.join(common_doc)}), "
                        f"the server returns ({', '.join(common_act)})")
    return problems


def readme_rows(actual, documented_rows):
    """The table rows README.md should have for these columns, reusing documented meanings."""
    meaning = {c: m for c, _, m in documented_rows}
    return "\n".join(f"| `{c}` | `{t}` | {meaning.get(c, 'TODO: what it means.')} |" for c, t in actual)


def self_test(readme_text):
    """The parser and the diff catch each kind of change (no database needed)."""
    docs = parse_readme(readme_text)
    missing = [r for r in RELATIONS if r not in docs]
    assert not missing, f"README.md has no section for {missing}"
    base = [(c, t) for c, t, _ in docs["persona.segment_members"]]
    assert diff_columns("v", base, base) == [], "identical lists differ"
    cases = {
        "added": base + [("extra", "text")],
        "gone": base[:-1],
        "renamed": [("segment_id" if c == "segment" else c, t) for c, t in base],
        "is double precision, README.md says integer": [(c, "double precision" if c == "segment" else t) for c, t in base],
        "different order": [base[1], base[0]] + base[2:],
    }
    for word, changed in cases.items():
        problems = diff_columns("v", base, changed)
        assert any(word in p for p in problems), f"change '{word}' not reported as such: {problems}"
    # A table without the header, a heading without a table, a row without a type.
    bad = [
        "#### persona.x\n\n| name | type | meaning |\n|---|---|---|\n| `a` | `int` | a |\n",
        "#### persona.x\n\nno table here\n\n#### persona.y\n",
        "#### persona.x\n\n| column | type | meaning |\n|---|---|---|\n| `a` | | a |\n",
        "#### persona.x\n\n| column | type | meaning |\n|---|---|---|\n\ntext\n",
    ]
    for text in bad:
        try:
            parse_readme(text)
        except ReadmeError:
            continue
        raise AssertionError(f"malformed README accepted: {text!r}")
    # A meaning may hold a '|' of its own.
    ok = parse_readme("#### persona.x\n| column | type | meaning |\n|---|---|---|\n| `a` | `text[]` | a \\| b |\n")
    assert ok == {"persona.x": [("a", "text[]", "a \\| b")]}, ok
    print(f"self-test: README parser and column diff ok ({', '.join(f'{r} {len(docs[r])} columns' for r in RELATIONS)})")


class Checker:
    def __init__(self, conn):
        self.conn = conn
        self.problems = []
        self.type_names = {}

    def fail(self, msg):
        self.problems.append(msg)

    def type_name(self, oid, typmod):
        key = (oid, typmod)
        if key not in self.type_names:
            with self.conn.cursor() as cur:
                cur.execute("SELECT format_type(t.oid, %s) FROM pg_catalog.pg_type t WHERE t.oid = %s",
                            (typmod if typmod >= 0 else None, oid))
                row = cur.fetchone()
            self.type_names[key] = row[0] if row else f"unknown type oid {oid}"
        return self.type_names[key]

    def columns(self, rel):
        """[(name, type)] of SELECT * FROM rel, from the cursor's description; and the sample rows."""
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {rel} LIMIT {SAMPLE_ROWS}")
            rows = cur.fetchall()
            cols = []
            for i, d in enumerate(cur.description):
                cols.append((d.name, self.type_name(d.type_code, cur.pgresult.fmod(i))))
        return cols, rows

    def query(self, sql, params=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def check_segments(self, expect_model):
        members = defaultdict(dict)   # model -> user -> (segment, version)
        for model, user, seg, dist, margin, score, version in self.query("SELECT * FROM persona.segment_members"):
            members[model][user] = (seg, version)
            if dist is None or dist < -1e-9 or not math.isfinite(dist):
                self.fail(f"persona.segment_members: user {user} of {model} has distance {dist}")
            if margin is None or margin < -1e-9:
                self.fail(f"persona.segment_members: user {user} of {model} has margin {margin}")
            if score is None or not math.isfinite(score):
                self.fail(f"persona.segment_members: user {user} of {model} has anomaly_score {score}")
        floor = int(self.query("SELECT coalesce(nullif(current_setting('persona.k_anonymity_floor', true), ''), '10')")[0][0])
        segs = defaultdict(dict)
        with self.conn.cursor() as cur:
            cur.execute("SELECT * FROM persona.segments")
            names = [d.name for d in cur.description]
            for row in cur.fetchall():
                r = dict(zip(names, row))
                segs[r["model"]][r["segment"]] = r
        if expect_model not in members:
            self.fail(f"persona.segment_members: no rows for model {expect_model}")
            return
        if expect_model not in segs:
            self.fail(f"persona.segments: no rows for model {expect_model}")
            return
        for model, users in members.items():
            sizes = defaultdict(int)
            for seg, _ in users.values():
                sizes[seg] += 1
            total = len(users)
            shown = segs.get(model, {})
            hidden = {s: n for s, n in sizes.items() if s not in shown}
            for s, n in hidden.items():
                if n >= floor:
                    self.fail(f"persona.segment_members: segment {s} of {model} has {n} members "
                              f"(k-anonymity floor {floor}) but is missing from persona.segments")
            for s, r in shown.items():
                if s not in sizes:
                    self.fail(f"persona.segments: segment {s} of {model} has no members in persona.segment_members")
                    continue
                if r["size"] != sizes[s]:
                    self.fail(f"persona.segments: segment {s} of {model} has size {r['size']}, "
                              f"persona.segment_members counts {sizes[s]}")
                if r["size"] < floor:
                    self.fail(f"persona.segments: segment {s} of {model} has {r['size']} members, under the floor {floor}")
                if abs(r["share"] - sizes[s] / total) > 6e-5:
                    self.fail(f"persona.segments: segment {s} of {model} has share {r['share']}, expected {sizes[s] / total:.4f}")
                if {v for (_, v) in users.values()} != {r["version"]}:
                    self.fail(f"persona.segments: version {r['version']} of {model} differs from its members' versions")
                if not r["label"]:
                    self.fail(f"persona.segments: segment {s} of {model} has no label")
                for ex in r["exemplar_users"] or []:
                    if users.get(ex, (None,))[0] != s:
                        self.fail(f"persona.segments: exemplar user {ex} of segment {s} ({model}) is not a member of it")
                for col in ("monetary_lift", "frequency_lift", "activity_lift"):
                    if r[col] is not None and not (r[col] >= 0 and math.isfinite(r[col])):
                        self.fail(f"persona.segments: segment {s} of {model} has {col} {r[col]}")
            visible = sum(r["share"] for r in shown.values())
            hidden_share = sum(hidden.values()) / total
            if abs(visible + hidden_share - 1) > 1e-3:
                self.fail(f"persona.segments: shares of {model} sum to {visible:.4f} + {hidden_share:.4f} hidden, not 1")
            print(f"  {model}: {len(shown)} segments shown (shares sum to {visible:.4f}), "
                  f"{len(hidden)} hidden under the floor of {floor} ({sum(hidden.values())} users), {total} members")
        # With the floor at 1 every segment shows and the shares sum to 1.
        with self.conn.transaction():
            self.query("SELECT set_config('persona.k_anonymity_floor', '1', true)")
            total_share = self.query("SELECT sum(share), count(*) FROM persona.segments WHERE model = %s", (expect_model,))[0]
        k = len({s for s, _ in members[expect_model].values()})
        if total_share[1] != k or abs(total_share[0] - 1) > 1e-3:
            self.fail(f"persona.segments with persona.k_anonymity_floor = 1: {total_share[1]} segments of {k}, "
                      f"shares sum to {total_share[0]}")
        else:
            print(f"  with persona.k_anonymity_floor = 1: all {k} segments shown, shares sum to {total_share[0]:.4f}")

    def check_profiles(self, name, users):
        rows = self.query("""SELECT user_id, frequency, monetary, recency_days, events, price_band, activity_level,
                                    lifecycle_stage, profile_vec, first_seen <= last_seen AND last_seen <= as_of
                             FROM persona.profiles WHERE name = %s""", (name,))
        if len(rows) != users:
            self.fail(f"persona.profiles: {len(rows)} profiles named {name}, expected {users}")
        bad = defaultdict(list)
        for user, freq, monetary, recency, events, band, activity, stage, vec, times_ok in rows:
            if freq < 0 or monetary < 0 or events <= 0:
                bad["negative frequency or spend, or no events"].append(user)
            if recency is not None and recency < 0:
                bad["negative recency_days"].append(user)
            if (recency is None) != (freq == 0):
                bad["recency_days NULL exactly when never bought"].append(user)
            if band not in (None, "budget", "mid", "premium"):
                bad[f"price_band {band}"].append(user)
            if activity not in ("none", "low", "medium", "high") or stage not in ("new", "active", "at_risk", "lapsed"):
                bad["activity_level / lifecycle_stage"].append(user)
            if not vec or abs(math.sqrt(sum(x * x for x in vec)) - 1) > 1e-3:
                bad["profile_vec of unit length"].append(user)
            if not times_ok:
                bad["first_seen <= last_seen <= as_of"].append(user)
        for what, who in bad.items():
            self.fail(f"persona.profiles: {len(who)} profiles fail '{what}', e.g. user {who[0]}")
        buyers = sum(1 for r in rows if r[1] > 0)
        print(f"  {name}: {len(rows)} profiles, {buyers} buyers, every profile_vec unit length")

    def check_recommendations(self, model, k, users, items):
        rows = self.query("SELECT user_id, rank, item_id, score, reason, computed_at FROM persona.recommendations "
                          "WHERE model = %s ORDER BY user_id, rank", (model,))
        lists = defaultdict(list)
        for user, rank, item, score, reason, at in rows:
            lists[user].append((rank, item, score, reason, at))
        if set(lists) != users:
            self.fail(f"persona.recommendations: lists for {len(lists)} users of {model}, expected {len(users)}")
        bad = defaultdict(list)
        for user, recs in lists.items():
            if [r[0] for r in recs] != list(range(1, len(recs) + 1)) or len(recs) != k:
                bad[f"ranks 1..{k}"].append(user)
            if len({r[1] for r in recs}) != len(recs):
                bad["no repeated item"].append(user)
            if any(r[1] not in items for r in recs):
                bad["items from the catalogue"].append(user)
            if any(r[2] is None or not math.isfinite(r[2]) for r in recs):
                bad["finite score"].append(user)
            if any(not r[3] for r in recs):
                bad["a reason"].append(user)
            if any(r[4] is None for r in recs):
                bad["computed_at"].append(user)
        for what, who in bad.items():
            self.fail(f"persona.recommendations: {len(who)} users of {model} fail '{what}', e.g. user {who[0]}")
        print(f"  {model}: {len(rows)} recommendations for {len(lists)} users")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", required=True)
    ap.add_argument("--dsn")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--recommendations", choices=["yes", "no"], default="yes",
                    help="whether recommend_all ran (no: the view is checked for its columns only)")
    ap.add_argument("--profiles", default="shop")
    ap.add_argument("--segments", default="shop_segments")
    ap.add_argument("--recommender", default="shop")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    try:
        with open(args.readme, encoding="utf-8") as f:
            docs = parse_readme(f.read())
    except ReadmeError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    if args.self_test:
        with open(args.readme, encoding="utf-8") as f:
            self_test(f.read())
        return 0

    import psycopg  # only needed against a database
    problems = []
    missing = [r for r in RELATIONS if r not in docs]
    for r in missing:
        problems.append(f"README.md has no '#### {r}' section with a '| column | type | meaning |' table")

    with psycopg.connect(args.dsn, autocommit=True) as conn:
        print(f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__} libpq {psycopg.pq.version()}), "
              f"server {conn.info.server_version}")
        chk = Checker(conn)
        for rel in RELATIONS:
            try:
                actual, sample = chk.columns(rel)
            except psycopg.Error as e:
                problems.append(f"{rel}: cannot be read: {str(e).strip()}")
                continue
            documented = [(c, t) for c, t, _ in docs.get(rel, [])]
            found = diff_columns(rel, documented, actual) if rel in docs else []
            if found:
                problems += found
                problems.append(f"{rel}: README.md must record the change (and CHANGELOG.md name it); "
                                f"the table rows for what the server returns now:\n{readme_rows(actual, docs.get(rel, []))}")
            print(f"{rel}: {len(actual)} columns as documented, {len(sample)} sample rows"
                  if not found and rel in docs else f"{rel}: columns differ from README.md")
        print("values:")
        try:
            chk.check_segments(args.segments)
            users = chk.query("SELECT count(DISTINCT user_id) FROM shop_events")[0][0]
            chk.check_profiles(args.profiles, users)
            if args.recommendations == "yes":
                user_ids = {r[0] for r in chk.query("SELECT user_id::bigint FROM shop_users")}
                items = {r[0] for r in chk.query("SELECT item_id::bigint FROM shop_items")}
                chk.check_recommendations(args.recommender, args.k, user_ids, items)
            else:
                try:
                    n = chk.query("SELECT count(*) FROM persona.recommendations")[0][0]
                except psycopg.Error:
                    n = "no"
                print(f"  persona.recommend_all does not exist in the installed extension: "
                      f"persona.recommendations checked for its columns only ({n} rows)")
        except psycopg.Error as e:
            chk.fail(f"reading the views' rows failed: {str(e).strip()}")
        problems += chk.problems

    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"FAIL: {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
