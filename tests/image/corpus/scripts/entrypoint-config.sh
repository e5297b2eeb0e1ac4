#!/bin/sh
# Entrypoint: write the app's config from a template, filling placeholders from
# environment variables (with defaults), then check what it wrote.
set -e

APP_PORT=${APP_PORT:-8080}
APP_NAME=${APP_NAME:-demo}
LOG_LEVEL=${LOG_LEVEL:-info}

mkdir -p conf.d
cat > conf.d/app.conf.template <<'TEMPLATE'
# generated at container start
name = @NAME@
listen = 0.0.0.0:@PORT@
log_level = @LEVEL@
TEMPLATE

cp conf.d/app.conf.template conf.d/app.conf
sed -i \
    -e "s|@NAME@|$APP_NAME|" \
    -e "s|@PORT@|$APP_PORT|" \
    -e "s|@LEVEL@|$LOG_LEVEL|" \
    conf.d/app.conf
sed -i '/^#/d' conf.d/app.conf

if grep -q '@[A-Z]*@' conf.d/app.conf; then
    echo "unfilled placeholder" >&2
    exit 1
fi

case "$LOG_LEVEL" in
    debug|info) echo "verbose logging" ;;
    warn|error) echo "quiet logging" ;;
    *) echo "unknown level $LOG_LEVEL" >&2; exit 2 ;;
esac

cat conf.d/app.conf
printf 'lines: %s\n' "$(wc -l < conf.d/app.conf)"
