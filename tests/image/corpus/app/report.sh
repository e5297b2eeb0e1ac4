#!/bin/sh
# Summarise a log: requests per status code, slowest paths.
LOG=${1:-access.log}

make_sample() {
    i=0
    while [ $i -lt 20 ]; do
        code=200
        [ $((i % 7)) -eq 0 ] && code=404
        [ $((i % 9)) -eq 0 ] && code=500
        echo "10.0.0.$((i % 4)) GET /item/$i $code $((i * 13 % 97))"
        i=$((i + 1))
    done > "$LOG"
}

per_status() {
    summary=$(cut -d' ' -f4 "$LOG" | sort | uniq -c | sort -rn | awk '{ printf "%s:%s ", $2, $1 }')
    echo "status: $summary"
}

slowest() {
    sort -k5 -n -r "$LOG" | head -n 3 | while read -r ip method path code ms; do
        printf '%6s ms  %s\n' "$ms" "$path"
    done
}

[ -f "$LOG" ] || make_sample
case "${2:-all}" in
    status) per_status ;;
    slow) slowest ;;
    *) per_status; slowest ;;
esac
lines=$(wc -l < "$LOG")
expr "$lines" \> 0 >/dev/null && echo "lines: $lines"
