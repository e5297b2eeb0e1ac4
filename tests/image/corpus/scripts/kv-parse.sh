#!/bin/sh
# Read a key=value settings file the way entrypoints read .env files: with a
# read loop, with cut and with awk, and export what it finds.
cat > settings.env <<'EOF_ENV'
# database
DB_HOST=db.internal
DB_PORT=5432
db_user=app
CACHE_TTL=300

FEATURE_FLAGS=a,b,c
EOF_ENV

count=0
while IFS='=' read -r key value; do
    case "$key" in
        ''|'#'*) continue ;;
    esac
    count=$((count + 1))
    upper=$(echo "$key" | tr 'a-z' 'A-Z')
    export "$upper=$value"
    echo "$upper -> $value"
done < settings.env
echo "settings: $count"

echo "port from cut: $(grep '^DB_PORT=' settings.env | cut -d= -f2)"
echo "keys from awk:"
awk -F= '/^[A-Za-z]/ { print "  " $1 }' settings.env | sort
echo "flags:"
grep '^FEATURE_FLAGS=' settings.env | cut -d= -f2 | tr ',' '\n' | sort -r
total=$(awk -F= '$2 ~ /^[0-9]+$/ { s += $2 } END { print s }' settings.env)
echo "numeric total: $total"
[ "$DB_USER" = app ] && [ "$CACHE_TTL" -gt 60 ]
