#!/bin/sh
# An install step: lay out directories, set modes, make symlinks, and check
# the result with test operators and find.
set -e
PREFIX=./opt/tool

mkdir -p "$PREFIX/bin" "$PREFIX/etc" "$PREFIX/share/doc"
cat > "$PREFIX/bin/tool-1.4" <<'BIN'
#!/bin/sh
echo tool 1.4
BIN
chmod 755 "$PREFIX/bin/tool-1.4"
ln -s tool-1.4 "$PREFIX/bin/tool"
echo "secret=1" > "$PREFIX/etc/tool.conf"
chmod 600 "$PREFIX/etc/tool.conf"
: > "$PREFIX/share/doc/README"

[ -L "$PREFIX/bin/tool" ] && echo "link ok"
[ -x "$PREFIX/bin/tool-1.4" ] && echo "executable ok"
[ -w "$PREFIX/etc/tool.conf" ] && [ ! -x "$PREFIX/etc/tool.conf" ] && echo "config mode ok"
[ -e "$PREFIX/share/doc/README" ] && [ ! -s "$PREFIX/share/doc/README" ] && echo "empty readme ok"
echo "dirs:"
find "$PREFIX" -type d | sort
echo "links: $(find "$PREFIX" -type l | wc -l)"
echo "empty files: $(find "$PREFIX" -type f -empty | wc -l)"
echo "base: $(basename "$PREFIX/bin/tool-1.4") dir: $(dirname "$PREFIX/etc/tool.conf")"
sh "$PREFIX/bin/tool"
