#!/bin/sh
# Search a source tree the way a CI step or healthcheck does: recursive grep,
# file lists, extended regular expressions, counts and inverted matches.
mkdir -p src/lib src/app docs
printf 'import os\n# TODO: remove\nDEBUG = False\n' > src/app/main.py
printf 'def helper():\n    return 1  # TODO\n' > src/lib/util.py
printf 'Release notes\nFIXME later\n' > docs/notes.txt
printf 'binary\n' > src/app/data.bin

echo "todo lines:"
grep -rn 'TODO' src | sort
echo "files with markers:"
grep -rlE 'TODO|FIXME' . | sort
echo "python files: $(find src -name '*.py' | wc -l)"
echo "non-comment lines in main: $(grep -vc '^#' src/app/main.py)"
if grep -qi 'debug = true' src/app/main.py; then
    echo "debug is on"; exit 1
fi
echo "case-insensitive hits: $(grep -ri 'release' docs | wc -l)"
grep -rh 'DEBUG' src | head -n 1
! grep -q 'password' src/app/main.py
