#!/bin/sh
# Environment handling and parameter expansion: env -i for a clean child,
# prefix/suffix trimming, lengths, defaults and bash-style substitution.
IMAGE="registry.example/team/app:1.4.2"
name=${IMAGE##*/}
repo=${IMAGE%/*}
tag=${IMAGE##*:}
echo "name=${name%%:*} repo=$repo tag=$tag len=${#tag}"
echo "dotless=${tag//./_}"
echo "unset default=${NOT_SET:-fallback} assigned=${ALSO_UNSET:=later} now=$ALSO_UNSET"

env -i GREETING=hello TARGET=world /bin/sh -c 'echo "$GREETING, $TARGET"; env | sort | grep -v -e "^PWD=" -e "^SHLVL=" -e "^_="'
set -- one "two words" three
echo "args: $#"
for a in "$@"; do printf '<%s>' "$a"; done
echo
IFS=: read -r first rest <<ITEMS
a:b:c
ITEMS
echo "first=$first rest=$rest"
[ -z "${EMPTY:-}" ] && [ -n "$IMAGE" ]
