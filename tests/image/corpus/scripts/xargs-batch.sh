#!/bin/sh
# Batch work through xargs: NUL-separated names (spaces survive), one argument
# per command, and the cleanup step of a Dockerfile RUN line.
set -e

mkdir -p cache build
printf '%s\0' "cache/a b.tmp" "cache/c.tmp" "cache/keep.dat" | xargs -0 touch
find cache -type f -name '*.tmp' -print0 | xargs -0 rm -f
ls cache

echo "alpha beta gamma" | xargs -n1 echo item: | sort -r
printf 'one\ntwo\nthree\n' | xargs -n 2 echo pair:
printf 'x\ny\n' | xargs -I{} echo "built {}.o" > build/log
cat build/log
find . -type f -name '*.dat' | xargs -r wc -l | awk '{ print $1 }'
