# Shared settings for the scripts; sourced, not run.
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
# Private clusters live under here, owned by the postgres user (Postgres refuses to run as root).
PERSONA_STATE=${PERSONA_STATE:-/var/tmp/persona}
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
# Runs a command as the postgres user with a clean environment (root's sets RUST_BACKTRACE and more).
as_postgres() { runuser -u postgres -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }
# A venv with psycopg 3 from PyPI under $PERSONA_STATE, made once and reused by the
# Python tests (tests/e2e/bi_psycopg.sh, tests/fuzz/run.sh); prints its python.
psycopg_python() {
    local venv=$PERSONA_STATE/bi-venv
    mkdir -p "$PERSONA_STATE"
    if ! "$venv/bin/python" -c 'import psycopg' >/dev/null 2>&1; then
        log "creating $venv with psycopg 3 from PyPI"
        python3 -m venv --clear "$venv" >&2 \
            || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; return 1; }
        "$venv/bin/pip" install --quiet --disable-pip-version-check 'psycopg[binary]>=3.1,<4' >&2 \
            || { echo "pip could not install psycopg[binary] from PyPI into $venv" >&2; return 1; }
    fi
    echo "$venv/bin/python"
}
