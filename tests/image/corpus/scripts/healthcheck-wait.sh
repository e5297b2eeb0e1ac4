#!/bin/sh
# A healthcheck/wait-for script: poll for a ready marker with a bounded loop,
# clean up through a trap, report with an exit status.
set -u
STATE=./state
mkdir -p "$STATE"
trap 'rm -rf "$STATE"; echo "cleaned up"' EXIT

check() {
    [ -s "$STATE/ready" ] && grep -qx 'status=up' "$STATE/ready"
}

attempt=0
max=${MAX_ATTEMPTS:-5}
until check; do
    attempt=$((attempt + 1))
    if [ "$attempt" -gt "$max" ]; then
        echo "gave up after $max attempts"
        exit 1
    fi
    echo "waiting ($attempt/$max)"
    [ "$attempt" -eq 3 ] && echo 'status=up' > "$STATE/ready"
    sleep 0
done
echo "ready after $attempt attempts"
test -d "$STATE"
