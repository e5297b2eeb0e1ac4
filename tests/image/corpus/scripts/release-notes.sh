#!/bin/sh
# Build a small report from version tags and a changelog: here-documents with
# and without expansion, reverse sorts, head/tail, uniq and awk totals.
set -e
PROJECT=widget

cat > tags.txt <<'TAGS'
v1.2.0
v1.10.0
v1.9.3
v1.2.0
v0.9.0
TAGS

cat > changes.tsv <<TSV
fix	3
feat	5
fix	2
docs	1
TSV

latest=$(sort -u tags.txt | sort -t. -k2,2n -k3,3n | tail -n 1)
cat <<REPORT
project: $PROJECT
latest tag: $latest
tags, newest name first:
REPORT
sort -u -r tags.txt | head -n 3
echo "kinds:"
cut -f1 changes.tsv | sort | uniq -c | awk '{ print "  " $2 ": " $1 }'
awk -F'\t' '{ n[$1] += $2; t += $2 } END { print "total changes: " t; print "fixes: " n["fix"] }' changes.tsv
echo "v-less: $(echo "$latest" | sed 's/^v//')"
expr "$latest" : 'v1\.' > /dev/null
