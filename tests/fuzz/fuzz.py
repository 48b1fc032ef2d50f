#!/usr/bin/env python3
"""Bounded, deterministic fuzz of every routine in schema persona.

The routines are read from pg_proc, so a new function is fuzzed without anyone
adding it here. Each one gets a base call (its arguments without defaults, with
working values on the shop tests/fuzz/run.sh built), then the base call with
one argument replaced: by NULL, and by each hostile value of its type (empty,
NaN, huge and multi-dimensional arrays; quotes, 10,000 characters, non-ASCII
and empty names; sources that divide by zero, name a catalog, are cut short,
inject or do not exist; extreme numbers; deeply nested and invalid jsonb);
then random combinations (fixed seed); then the base call and a NULL in each
position again as --role, a role with no rights on the models. Functions and
aggregates (called as aggregates over two rows) run in a transaction that is
rolled back, so every call sees the same database; procedures run with CALL
outside one (they may COMMIT).

A call fails on SQLSTATE XX000 (an internal error: a Rust panic or elog),
a lost connection or a crash in the server log, and on 57014 or a wall time
over the limit unless it was asked to sleep (those get a 1 s statement_timeout
and must be cancelled by it). Everything else, an ERROR with a real SQLSTATE
or a result, passes. Ends with the line "N passed, M failed" (calls).

Usage: fuzz.py --dsn DSN --server-log FILE [--seed 11] [--combos 30] [--limit 10] [--role R]
"""
import argparse
import random
import re
import sys
import threading
import time
from collections import Counter, defaultdict

import psycopg


def q(s):
    return "'" + s.replace("'", "''") + "'"


# Routines that are not called, with the reason. Keep this short: everything
# else in the schema is fuzzed.
SKIP = {}
# Aggregate support functions take `internal`, which no SQL value can be
# (calls fail with 42883); they are fuzzed through their aggregates.
INTERNAL = "takes internal: only callable by its aggregate, which is fuzzed"

# Cheap working values by argument name; (function, argument) entries first.
# Values are SQL expressions. Defaulted arguments not listed keep their default.
VALID = {
    ("kmeans_train", "model"): q("fuzz_km"), ("train_recommender", "model"): q("fuzz_rec"),
    ("train_item2vec", "model"): q("fuzz_i2v"), ("register_model", "name"): q("fuzz_model"),
    ("build_profiles", "name"): q("fuzz_prof"), ("build_profiles", "events"): q("fuzz_events"),
    ("refresh_profiles", "name"): q("fuzz_small"), ("_compute_profiles", "p_name"): q("fuzz_small"),
    ("recommend", "model"): q("shop"), ("recommend_all", "model"): q("shop"),
    ("similar_items", "model"): q("shop"), ("evaluate_recommendations", "model"): q("shop"),
    ("report", "model"): q("shop_segments"), ("report", "map_points"): "50",
    ("kmeans_train", "source"): q("fuzz_vecs"), ("kmeans_train", "profiles"): None, ("kmeans_train", "k"): "3",
    ("kmeans_train", "n_init"): "1",
    ("train_item2vec", "time_col"): q("event_time"), ("train_item2vec", "dim"): "8",
    ("train_item2vec", "epochs"): "1", ("recommend", "k"): "5", ("similar_items", "k"): "5",
    ("_source", "source"): q("shop_events"), ("_column_type", "source"): q("shop_events"),
    ("_column_type", "col"): q("user_id"), ("_column_type", "kind"): q("integer"),
    ("segment_transitions", "model"): q("shop_segments"),
    "model": q("shop_segments"), "p_model": q("shop_segments"), "p_name": q("shop"), "name": q("shop"),
    "source": q("shop_events"), "events": q("shop_events"), "path": q("$sharedir/persona/models/all-MiniLM-L6-v2"),
    "argument": q("source"), "user_id": "1", "item": "12", "k": "5",
    "vec": "(SELECT profile_vec FROM persona.profiles WHERE name = 'shop' ORDER BY user_id LIMIT 1)",
    "a": "'{1,2,3}'", "b": "'{3,2,1}'", "v": "'{3,4}'", "labels_a": "'{1,1,2,2}'", "labels_b": "'{1,2,1,2}'",
    "input": q("a warm wool coat"), "inputs": "'{a warm wool coat,\"\"}'", "tbl": q("fuzz_texts"),
    "text_col": q("body"), "vec_col": q("vec"), "from_version": "1", "to_version": "1", "p_version": "1",
    "frequency": "2", "recency": "30", "t": "60", "horizon": "30", "mean_spend": "50",
    "behaviour_vec": "'{1,0}'", "text_vec": "'{0,1}'", "text_weight": "0.5", "behaviour_dim": "2", "text_dim": "2",
    "names": "'{fuzz_tmp}'", "o": "(SELECT options FROM persona.profile_definitions WHERE name = 'fuzz_small')",
    "p_as_of": "now()", "fit": "true", "changed": "false", "owner": "10", "p_owner": q("postgres"),
    "query": q("SELECT to_jsonb(count(*)) FROM shop_events"), "p_query": q("SELECT to_jsonb(count(*)) FROM shop_events"),
    ("embed", "model"): None, ("embed_batch", "model"): None, ("embed_column", "model"): None,
    ("embed_on_change", "model"): None,
    "kind": q("profiles"), "p_kind": q("profiles"), "p_what": q("read it"), "what": q("read it"),
}
# Pairs of arguments of which a call gives one (the base call gives the second).
EXCLUSIVE = {"kmeans_train": [("profiles", "source")]}
MODELS = {"bgnbd_model": "ROW(0.5, 2, 0.8, 2.5, -100, 100)", "gamma_gamma_model": "ROW(6, 4, 15, -100, 100)"}

# Hostile names for every text argument; arguments whose text is SQL (a
# source, a query) get hostile sources too, and a call that sleeps, which
# the 1 s statement_timeout of such calls must cancel.
TEXT = ["''", "' '", q("it's"), q('"quoted"'), "repeat('x', 10000)", q("café crème, très joli"), q("日本語"),
        q("a\tb\nc"), q("(SELECT 1/0)"), q("no_such_table")]
SOURCES = TEXT + [q("pg_class"), q("(SELECT"), q("; DROP TABLE x"), q("shop_events; DROP TABLE shop_items"),
                  q("persona.models"), q("((SELECT 1))"), q("(SELECT * FROM shop_events) s, pg_class"), q("\\"), q("NULL"),
                  q("SELECT (repeat('[', 200) || repeat(']', 200))::jsonb"), q("(SELECT '{\"a\": 1e400}'::jsonb AS j)")]
SQL_ARGS = {"source", "events", "items", "users", "texts", "user_vectors", "item_vectors", "filter", "query"}
SLEEP = {"filter": q("pg_sleep(30) IS NOT NULL"), None: q("(SELECT e.* FROM shop_events e, pg_sleep(30) z)")}
FILTERS = [q("1/0 = 1"), q("true) OR (true"), q("no_such_column > 1"), q(")"), q("price > 'abc'"), q("true; DROP TABLE x")]
INT = ["-2147483648", "-1", "0", "1", "2", "2147483647"]
BIGINT = ["(-9223372036854775808)::bigint", "-1", "0", "1", "9223372036854775807"]
FLOAT = ["0", "-1", "1e308", "-1e308", "'NaN'", "'Infinity'", "'-Infinity'", "1e-308", "0.5"]
REAL = ["0", "-1", "3.4e38", "'NaN'", "'Infinity'", "'-Infinity'", "1e-45"]
REAL_ARR = ["'{}'", "'{NaN,1}'", "'{Infinity,1}'", "'{1,2,3}'", "'{{1,2},{3,4}}'", "'{1,NULL,3}'", "'{NULL}'",
            "'[0:2]={1,2,3}'", "'{3.4e38,3.4e38}'", "'{0,0,0}'", "array_fill(0.5::real, ARRAY[100000])", "'{1e-45}'"]
INT_ARR = ["'{}'", "'{1,2,3}'", "'{{1,2},{3,4}}'", "'{1,NULL}'", "'{-2147483648,2147483647}'", "'[5:6]={1,2}'",
           "(SELECT array_agg(i % 7) FROM generate_series(1, 100000) i)"]
TEXT_ARR = ["'{}'", "'{cat1}'", "'{NULL}'", "'{{a,b},{c,d}}'", "ARRAY[repeat('x', 10000)]", "'{\"\"}'", "'{café}'"]
NESTED = {"jsonb": ["(repeat('[', 200) || repeat(']', 200))::jsonb", "(repeat('{\"a\":', 300) || '1' || repeat('}', 300))::jsonb",
                    "(repeat('[', 5000) || repeat(']', 5000))::jsonb", "'{\"lambda\": 1e400}'", "'{\"lambda\": \"x\"}'",
                    "'{\"lambda\": null}'", "'{\"lamda\": 1}'", "'{\"lambda\": -1}'", "'{\"neighbours\": 1e300}'",
                    "'{\"max_items\": 2147483648}'", "'[]'", "'null'", "'\"x\"'", "'1'", "'{}'",
                    "'{\"view\": -1}'", "'{\"view\": 1e400}'", "'{\"events\": \"(SELECT 1/0)\"}'"]}
POOLS = {
    "text": TEXT, "name": TEXT, "character varying": TEXT, "integer": INT, "smallint": ["-32768", "0", "32767"],
    "bigint": BIGINT, "double precision": FLOAT, "real": REAL, "numeric": FLOAT + ["1e1000"], "boolean": ["true", "false"],
    "real[]": REAL_ARR, "double precision[]": REAL_ARR, "integer[]": INT_ARR, "bigint[]": INT_ARR, "text[]": TEXT_ARR,
    "jsonb": NESTED["jsonb"], "json": NESTED["jsonb"],
    "interval": ["'0'", "'-1 day'", "'1 microsecond'", "'178000000 years'", "'30 days'"],
    "timestamp with time zone": ["'infinity'", "'-infinity'", "'4713-01-01 BC'", "'294276-12-31'", "now()"],
    "oid": ["0", "10", "4294967295"], "regrole": [q("postgres"), q("pg_read_all_data"), "0::oid"],
    "regclass": [q("fuzz_texts"), q("pg_class"), q("persona.models"), "0::oid", q("no_such_table"), q("shop_items")],
    "bytea": ["'\\x'", "'\\x00'", "'\\xdeadbeef'", "decode(repeat('ff', 1000), 'hex')"],
    "internal": [],
}


def model_pool(t):
    base = MODELS.get(t.split(".")[-1])
    if base is None:
        return []
    n = base.count(",") + 1
    return [f"ROW({', '.join(['NULL'] * n)})", f"ROW({', '.join(['-1'] * n)})", f"ROW({', '.join(['0'] * n)})",
            f"ROW({', '.join([chr(39) + 'NaN' + chr(39)] * n)})", f"ROW({', '.join(['1e308'] * n)})"]


def typed(expr, t):
    return expr if t == "internal" else f"({expr})::{t}"


class Routine:
    def __init__(self, row):
        self.oid, self.name, self.kind, self.sig, names, types, self.ndefaults = row
        self.types = list(types)
        self.names = [n or "" for n in (names or [""] * len(self.types))][: len(self.types)]
        self.named = self.kind != "a" and all(self.names)

    def valid(self, i):
        t, n = self.types[i], self.names[i]
        if t.split(".")[-1] in MODELS:
            return MODELS[t.split(".")[-1]]
        for key in ((self.name, n), n):
            if key in VALID:
                return VALID[key]
        if i < len(self.types) - self.ndefaults or not self.named:
            pool = POOLS.get(t, [])
            return pool[-1] if pool else "NULL"
        return None  # keep the default

    def pool(self, i):
        t, n = self.types[i], self.names[i]
        sql = n in SQL_ARGS or n.endswith("source") or "query" in n
        values = list(FILTERS if n == "filter" else SOURCES if sql and t == "text" else POOLS.get(t, []) or model_pool(t))
        if sql:
            values.append(SLEEP.get(n, SLEEP[None]))
        return values

    def call(self, args):
        """SQL for one call; args maps position -> expression (None: leave out)."""
        if self.kind == "a":
            cols = ", ".join(f"c{i}" for i in range(len(self.types)))
            row = lambda vals: "(" + ", ".join(typed(v, t) for v, t in zip(vals, self.types)) + ")"
            base = [self.valid(i) or "NULL" for i in range(len(self.types))]
            mine = [args.get(i, base[i]) or "NULL" for i in range(len(self.types))]
            return f"SELECT {self.sig}({cols}) FROM (VALUES {row(base)}, {row(mine)}) t({cols})", False
        parts = []
        for i, t in enumerate(self.types):
            v = args.get(i, self.valid(i))
            if self.named:
                if v is not None:
                    parts.append(f"{self.names[i]} => {typed(v, t)}")
            elif v is not None or i < max(args, default=-1):
                parts.append(typed(v or "NULL", t))
        text = f"{self.sig}({', '.join(parts)})"
        if self.kind == "p":
            return f"CALL {text}", True
        return f"SELECT count(*) FROM {text} AS r", False


def cases(r, rng, combos):
    out = [{}]
    for i in range(len(r.types)):
        out.append({i: "NULL"})
        out.extend({i: v} for v in r.pool(i))
    choices = [i for i in range(len(r.types)) if r.pool(i)]
    for _ in range(combos if choices else 0):
        picked = rng.sample(choices, min(len(choices), rng.choice([2, 3])))
        out.append({i: rng.choice(r.pool(i) + ["NULL"]) for i in picked})
    # Arguments that exclude each other: giving one takes the other's base value away.
    for a, b in EXCLUSIVE.get(r.name, []):
        ia, ib = (r.names.index(x) if x in r.names else None for x in (a, b))
        for c in out:
            if ia is not None and ib is not None and ia in c and c[ia] != "NULL" and ib not in c:
                c[ib] = "NULL"
    return out


class Runner:
    def __init__(self, dsn, limit):
        self.dsn, self.limit = dsn, limit
        self.watch = psycopg.connect(dsn, autocommit=True)
        self.connect()

    def connect(self):
        self.conn = psycopg.connect(self.dsn, autocommit=True)
        self.conn.execute("SET client_min_messages = error")
        self.conn.execute(f"SET statement_timeout = '{self.limit}s'")
        self.pid = self.conn.execute("SELECT pg_backend_pid()").fetchone()[0]

    def run(self, sql, procedure, sleeps, role=None):
        """(sqlstate or 'ok' or 'lost', seconds)."""
        stop = threading.Event()

        def watchdog():  # statement_timeout not honoured: cancel, then terminate
            for fn, after in (("pg_cancel_backend", self.limit + 5), ("pg_terminate_backend", 10)):
                if stop.wait(after):
                    return
                self.watch.execute(f"SELECT {fn}(%s)", [self.pid])

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        started = time.monotonic()
        state = "ok"
        try:
            if not procedure:
                self.conn.execute("BEGIN")
                if sleeps:
                    self.conn.execute("SET LOCAL statement_timeout = '1s'")
                if role:
                    self.conn.execute(f"SET LOCAL ROLE {role}")
            else:
                if sleeps:
                    self.conn.execute("SET statement_timeout = '1s'")
                if role:
                    self.conn.execute(f"SET ROLE {role}")
            cur = self.conn.execute(sql)
            if cur.description is not None:
                cur.fetchall()
        except psycopg.Error as e:
            state = e.sqlstate or ("lost" if self.conn.closed or isinstance(e, psycopg.OperationalError) else type(e).__name__)
        finally:
            stop.set()
            guard.join()
        secs = time.monotonic() - started
        try:
            if not procedure:
                self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"RESET ROLE; SET statement_timeout = '{self.limit}s'")
        except psycopg.Error:
            state = "lost"
        if state == "lost" or self.conn.closed:
            state = "lost"
            self.reconnect()
        return state, secs

    def reconnect(self):
        for _ in range(60):  # the server may be in crash recovery
            try:
                self.watch = psycopg.connect(self.dsn, autocommit=True)
                self.connect()
                return
            except psycopg.OperationalError:
                time.sleep(1)
        sys.exit("cannot reconnect to the server")


def judge(state, secs, sleeps, limit):
    """Why a call failed, or None."""
    if state == "XX000":
        return "internal error XX000"
    if state == "lost":
        return "connection lost (server crash?)"
    if state == "57014" and not sleeps:
        return f"cancelled by statement_timeout ({limit} s)"
    if secs > (1 if sleeps else limit) + 3:
        return f"took {secs:.1f} s"
    if not re.fullmatch(r"ok|[0-9A-Z]{5}", state):
        return "client error"
    return None


CRASH = re.compile(r"terminated by signal|was terminated by|PANIC:|TRAP:|server process .* exited with exit code [1-9]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--server-log", required=True)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--combos", type=int, default=30)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--role", default="persona_fuzz_analyst", help="a role without rights on the models ('' for none)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with open(a.server_log, "rb") as f:
        log_start = f.seek(0, 2)
    runner = Runner(a.dsn, a.limit)
    rows = runner.conn.execute(
        """SELECT p.oid, p.proname, p.prokind, quote_ident(n.nspname) || '.' || quote_ident(p.proname),
                  (SELECT array_agg(n ORDER BY o) FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS x(n, m, o)
                    WHERE m IS NULL OR m IN ('i', 'b', 'v')),
                  ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS y(t, o) ORDER BY o),
                  p.pronargdefaults
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'persona' ORDER BY p.proname, p.oid::regprocedure::text""").fetchall()
    fixed = [Routine(row) for row in rows]
    per_fn, states, failures, seconds, base = defaultdict(Counter), Counter(), [], {}, {}
    role_states = Counter()
    started = time.monotonic()
    for r in fixed:
        label = r.name + "(" + ", ".join(r.types) + ")"
        skip = SKIP.get(r.name) or (INTERNAL if "internal" in r.types else None)
        if skip:
            print(f"skipped {label}: {skip}")
            continue
        t0 = time.monotonic()
        # As the superuser, everything; as a role with no rights on the
        # models, the base call and a NULL in each position.
        todo = [(None, c) for c in cases(r, rng, a.combos)]
        todo += [(a.role, {})] + [(a.role, {i: "NULL"}) for i in range(len(r.types))] if a.role else []
        for n, (role, args) in enumerate(todo):
            sql, procedure = r.call(args)
            sleeps = "pg_sleep" in sql
            state, secs = runner.run(sql, procedure, sleeps, role)
            (role_states if role else per_fn[label])[state] += 1
            if n == 0:
                base[label] = state
            states[state] += 1
            why = judge(state, secs, sleeps, a.limit)
            if why:
                failures.append((f"{why}; {state} after {secs:.1f} s", f"SET ROLE {role}; {sql}" if role else sql))
        seconds[label] = time.monotonic() - t0
    elapsed = time.monotonic() - started
    with open(a.server_log, "rb") as f:
        f.seek(log_start)
        crashes = [l for l in f.read().decode("utf-8", "replace").splitlines() if CRASH.search(l)]
    total = sum(states.values())
    print(f"\nfuzz: {total} calls over {len(per_fn)} routines in {elapsed:.0f} s (seed {a.seed})")
    for label in sorted(per_fn):
        c = per_fn[label]
        print(f"  {sum(c.values()):4d} {seconds[label]:5.1f}s  {label} [base {base[label]}]: "
              + ", ".join(f"{s} {n}" for s, n in sorted(c.items())))
    if a.role:
        print(f"  {sum(role_states.values()):4d} calls as {a.role}: " + ", ".join(f"{s} {n}" for s, n in sorted(role_states.items())))
    print("SQLSTATEs: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    for why, sql in failures:
        print(f"FAIL ({why}): {sql}")
    for line in crashes:
        print(f"FAIL (server log): {line}")
    failed = len(failures) + len(crashes)
    print(f"{total - len(failures)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
