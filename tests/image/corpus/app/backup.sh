#!/bin/sh
# Nightly job: archive the data directory, keep the newest three archives.
set -e
DATA=${DATA:-data}
DEST=${DEST:-backups}

mkdir -p "$DATA" "$DEST"
[ -n "$(ls -A "$DATA")" ] || echo "seed $(date +%s)" > "$DATA/seed.txt"

stamp=$(date -u +%Y%m%d%H%M%S)
archive="$DEST/data-$stamp.tar.gz"
nice -n 10 timeout 60 tar -czf "$archive" "$DATA"
gzip -t "$archive"

# checksums of everything we archived, via find -exec and xargs
find "$DATA" -type f -exec md5sum {} + | sort -k2 > "$DEST/data-$stamp.md5"
find "$DATA" -type f -print0 | xargs -0 -n 1 basename | sort > "$DEST/files.txt"

# rotate: keep three, newest first
ls -1t "$DEST"/data-*.tar.gz | tail -n +4 | xargs -r rm -f
env LC_ALL=C du -s "$DEST" | cut -f1 > "$DEST/usage"
echo "backup $(basename "$archive") done, $(cat "$DEST/usage") KB used"
