#!/usr/bin/env bash
# Installs everything persona needs on a Debian 12 machine, as root, idempotently:
# Debian packages, cargo-pgrx 0.18.1 initialised against Debian's PostgreSQL 15,
# the models and the Chinese demo's reviews. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

# chromium and fonts: the report tests render persona.report() in headless Chromium, the
# Chinese one too (fonts-noto-cjk, without which Han characters come out as empty boxes).
packages=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron libclang-dev clang pkg-config sudo
          python3 python3-pip python3-venv unzip ca-certificates chromium fonts-dejavu-core fonts-noto-cjk)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The machine image may bring its own python3 and pip; Debian's are only needed without them.
if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
    missing=($(printf '%s\n' "${missing[@]}" | grep -vx -e python3 -e python3-pip -e python3-venv || true))
fi
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! cargo pgrx --version 2>/dev/null | grep -q "0.18.1"; then
    log "installing cargo-pgrx 0.18.1 (about 7 minutes)"
    cargo install cargo-pgrx --version 0.18.1 --locked
fi
if ! grep -qs "pg15 *= *\"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
    log "initialising cargo-pgrx against $PG_CONFIG"
    cargo pgrx init --pg15 "$PG_CONFIG"
fi

scripts/fetch-model.sh
scripts/fetch-demo-data.sh
