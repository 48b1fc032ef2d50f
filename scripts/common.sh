# Shared settings for the scripts; sourced, not run.
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
# Private clusters live under here, owned by the postgres user (Postgres refuses to run as root).
PERSONA_STATE=${PERSONA_STATE:-/var/tmp/persona}
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
# Runs a command as the postgres user with a clean environment (root's sets RUST_BACKTRACE and more).
as_postgres() { runuser -u postgres -- env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"; }
