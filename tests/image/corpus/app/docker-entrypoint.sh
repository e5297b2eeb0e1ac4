#!/bin/sh
# Entrypoint of a small web app image: prepare config from the environment,
# then hand over to the command line.
set -eu

log() {
    printf '%s [entrypoint] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

# The port is the last field of LISTEN, e.g. "0.0.0.0:8080".
listen_port() {
    port=$(echo "${LISTEN:-0.0.0.0:8080}" | awk -F: '{ print $NF }')
    echo "$port"
}

alias ll='ls -l'

render_config() {
    mkdir -p conf.d
    : > conf.d/app.conf
    for var in $(env | grep '^APP_' | cut -d= -f1 | sort); do
        value=$(eval "echo \"\${$var}\"")
        key=$(echo "$var" | sed 's/^APP_//' | tr 'A-Z' 'a-z')
        echo "$key = $value" >> conf.d/app.conf
    done
    log "wrote $(wc -l < conf.d/app.conf) settings"
}

PORT=$(listen_port)
export PORT
APP_NAME=${APP_NAME:-demo} APP_MODE=${APP_MODE:-prod} render_config
[ -s conf.d/app.conf ] || { log "no settings"; exit 1; }
log "listening on port $PORT"

if [ "$#" -eq 0 ]; then
    set -- sh -c 'echo ready'
fi
exec "$@"
