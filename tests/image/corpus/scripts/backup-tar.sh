#!/bin/sh
# Back up a data directory into a gzipped tarball, restore it elsewhere and
# check that every file came back.
set -e

mkdir -p data/uploads data/db
printf 'row1\nrow2\n' > data/db/table.csv
echo "avatar" > data/uploads/a.png
echo "notes" > "data/uploads/file with spaces.txt"
chmod 600 data/db/table.csv

tar czf backup.tar.gz data
echo "archive members:"
tar tzf backup.tar.gz | sort

mkdir restore
tar xzf backup.tar.gz -C restore
for f in $(cd data && find . -type f | tr ' ' '#'); do
    f=$(echo "$f" | tr '#' ' ')
    if [ -f "restore/data/$f" ] && [ "$(cat "data/$f")" = "$(cat "restore/data/$f")" ]; then
        echo "ok $f"
    else
        echo "MISSING $f"
    fi
done | sort > check.txt
cat check.txt
[ -r restore/data/db/table.csv ] && [ ! -x restore/data/db/table.csv ]
echo "restored files: $(find restore -type f | wc -l)"
missing=$(grep -c MISSING check.txt || true)
echo "missing: $missing"
exit "$missing"
