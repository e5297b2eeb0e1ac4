#!/bin/sh
# Log housekeeping as a cron-style container runs it: compress logs older than
# a day, drop compressed ones older than a month, leave today's alone.
set -e

mkdir -p logs/app logs/worker
for f in logs/app/access.log logs/app/error.log logs/worker/jobs.log logs/app/today.log; do
    echo "line of $f" > "$f"
done
echo "ancient" > logs/worker/old.log
gzip logs/worker/old.log

touch -d "2020-01-01 00:00:00" logs/app/access.log logs/app/error.log logs/worker/jobs.log
touch -d "2019-06-01 12:00:00" logs/worker/old.log.gz

find logs -type f -name '*.gz' -mtime +30 -exec rm -f {} \;
find logs -type f -name '*.log' -mtime +1 -exec gzip {} \;

find logs -type f | sort
echo "compressed: $(find logs -type f -name '*.gz' | wc -l)"
gunzip -c logs/app/error.log.gz
[ -f logs/app/today.log ] || exit 1
