#!/bin/sh
# Functions with local variables, arithmetic and loops, as entrypoints use for
# retries and port checks; ends with a deliberate non-zero status.

log() {
    printf '[%s] %s\n' "$1" "$2"
}

retry() {
    local tries=$1 n=0
    shift
    while [ "$n" -lt "$tries" ]; do
        n=$((n + 1))
        if "$@"; then
            log ok "attempt $n succeeded"
            return 0
        fi
        log warn "attempt $n failed"
    done
    return 1
}

ready_after_three() {
    local count
    count=$(cat counter 2>/dev/null || echo 0)
    count=$((count + 1))
    echo "$count" > counter
    [ "$count" -ge 3 ]
}

valid_port() {
    case "$1" in
        ''|*[!0-9]*) return 1 ;;
    esac
    [ "$1" -ge 1 ] && [ "$1" -le 65535 ]
}

retry 5 ready_after_three
for p in 80 8080 0 70000 http; do
    if valid_port "$p"; then log port "$p valid"; else log port "$p invalid"; fi
done

i=0 sum=0
while [ $i -lt 10 ]; do
    i=$((i + 1))
    [ $((i % 2)) -eq 0 ] || continue
    sum=$((sum + i * i))
done
echo "sum of even squares: $sum"
echo "hex: $((0x1F)) shift: $((1 << 10)) big: $((2147483647 + 1))"
retry 2 false || exit 3
