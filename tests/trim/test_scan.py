"""Finding the commands scripts run: parser, wrappers, Dockerfiles, inittab, the corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from busyconf.errors import UserError
from busyconf.trim.plan import dockerfile_commands, scan_paths
from tests.image.image_helpers import CORPUS


def _cmds(tmp_path: Path, text: str, name: str = "script.sh") -> dict[str, list[str]]:
    path = tmp_path / name
    path.write_text(text)
    return scan_paths([path]).commands()


def test_awk_inside_command_substitution_inside_a_function(tmp_path: Path) -> None:
    text = '#!/bin/sh\nport() {\n  p=$(echo "$1" | awk -F: \'{print $NF}\')\n  echo "$p"\n}\nport a:1\n'
    cmds = _cmds(tmp_path, text)
    assert "awk" in cmds and cmds["awk"] == [f"{tmp_path}/script.sh:3"]
    assert "port" not in cmds


def test_pipelines_backticks_heredocs_case_and_arithmetic(tmp_path: Path) -> None:
    text = (
        "#!/bin/sh\n"
        "x=`basename $0` y=$((1 + 2)) z=${x#a}\n"
        "case $1 in a) ls -l | sort ;; *) cat <<EOF\n$(date)\nEOF\n;; esac\n"
        "[ -f x ] && head -n1 x || exit 1\n"
        "while read -r l; do printf '%s\\n' \"$l\"; done < x\n"
    )
    cmds = _cmds(tmp_path, text)
    assert {"sh", "basename", "ls", "sort", "cat", "date", "[", "head", "read", "printf", "exit"} <= set(cmds)


def test_wrappers_are_looked_through(tmp_path: Path) -> None:
    text = (
        "env -i FOO=1 nice -n 5 timeout -s KILL 5 nohup sed -n p x\n"
        "exec chroot /new setsid tail -f log\n"
        "find . -name '*.c' -exec grep -l main {} \\; -exec sh -c 'wc -l \"$1\"' _ {} +\n"
        "busybox tr a b; printf x | xargs -0 rm; xargs < list\n"
        "command cut -d: -f1 x; command -v apk >/dev/null\n"
        "trap 'rm -f /tmp/lock' EXIT; eval 'uniq x'\n"
        "su -c 'id -u' nobody; flock /tmp/l -c 'sleep 1'\n"
    )
    cmds = _cmds(tmp_path, text)
    for name in (
        "env",
        "nice",
        "timeout",
        "nohup",
        "sed",
        "chroot",
        "setsid",
        "tail",
        "find",
        "grep",
        "sh",
        "wc",
        "busybox",
        "tr",
        "xargs",
        "rm",
        "echo",
        "cut",
        "uniq",
        "id",
        "sleep",
        "flock",
        "su",
    ):
        assert name in cmds, name
    assert "apk" not in cmds and "KILL" not in cmds and "5" not in cmds and "/new" not in cmds


def test_functions_and_aliases_are_not_commands(tmp_path: Path) -> None:
    cmds = _cmds(tmp_path, "alias ll='ls -l | head'\nlog() { logger -t me \"$@\"; }\nll; log hi\n")
    assert "ll" not in cmds and "log" not in cmds
    assert {"ls", "head", "logger", "alias"} <= set(cmds)


def test_paths_and_dynamic_names_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.sh"
    path.write_text("#!/bin/sh\n/usr/bin/awk 1 x\n./helper.sh\n$TOOL --go\n")
    scan = scan_paths([path])
    assert "awk" in scan.commands()
    assert "./helper.sh" in scan.commands() and "helper.sh" not in scan.commands()
    assert [n.where for n in scan.notes] == [f"{path}:4"]


def test_shebangs_count_and_non_shell_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("#!/usr/bin/env bash\necho hi\n")
    (tmp_path / "b.py").write_text("#!/usr/bin/python3\nprint(1)\n")
    (tmp_path / "c").write_text("ls /\n")
    os.chmod(tmp_path / "c", 0o755)
    (tmp_path / "notes.txt").write_text("cat this is prose\n")
    (tmp_path / "blob").write_bytes(b"\x7fELF\0\0\0")
    scan = scan_paths([tmp_path])
    cmds = scan.commands()
    assert {"env", "bash", "echo", "ls"} <= set(cmds) and "cat" not in cmds
    skipped = dict(scan.skipped)
    assert "not a shell script" in skipped[str(tmp_path / "b.py")]
    assert str(tmp_path / "notes.txt") in skipped and str(tmp_path / "blob") in skipped


def test_dockerfile_lines() -> None:
    text = (
        "FROM scratch\n"
        "RUN apk add --no-cache curl \\\n"
        "  # a comment the builder drops\n"
        "  && rm -rf /var/cache/apk\n"
        'RUN ["/bin/sh", "-c", "adduser -D app"]\n'
        "RUN --mount=type=cache,target=/c <<EOS\n"
        "set -e\n"
        "gzip -9 x\n"
        "EOS\n"
        'CMD ["nginx", "-g", "daemon off;"]\n'
        "HEALTHCHECK --interval=5s CMD wget -q -O- http://localhost/ || exit 1\n"
        "ENV A=b\n"
    )
    got = dockerfile_commands(text, "Dockerfile")
    assert [line for line, _ in got] == [2, 5, 7, 10, 11]
    assert "rm -rf" in got[0][1] and got[2][1].startswith("set -e")


def test_dockerfile_and_inittab_are_scanned(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\nRUN a=1 \\\n  && mkdir -p /d && \\\n  chmod 700 /d\n")
    (tmp_path / "inittab").write_text(
        "::sysinit:/etc/init.d/rcS\n::respawn:-/bin/sh\ntty1::once:/sbin/getty 0 tty1\n"
    )
    scan = scan_paths([tmp_path])
    cmds = scan.commands()
    assert cmds["chmod"] == [f"{tmp_path}/Dockerfile:4"]
    assert cmds["getty"] == [f"{tmp_path}/inittab:3"]
    assert scan.paths()["rcS"] == "/etc/init.d/rcS"


def test_unparsable_script_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.sh"
    path.write_text('#!/bin/sh\nif [ -f x ]; then\n  echo "unterminated\nfi\n')
    with pytest.raises(UserError, match=r"broken\.sh:3:\d+: cannot parse"):
        scan_paths([path])
    nested = tmp_path / "nested.sh"
    nested.write_text("#!/bin/sh\n\nsh -c 'echo (' \n")
    with pytest.raises(UserError, match=r"nested\.sh:3:\d+: cannot parse: in sh -c"):
        scan_paths([nested])


def test_corpus_commands() -> None:
    # The app and rootfs corpus; corpus/scripts is test_trim_proof's.
    scan = scan_paths([CORPUS / "app", CORPUS / "rootfs"])
    cmds = scan.commands()
    assert len(scan.files) == 7
    expected = {
        "[",
        "adduser",
        "awk",
        "basename",
        "cat",
        "chmod",
        "chown",
        "cut",
        "date",
        "du",
        "echo",
        "env",
        "expr",
        "find",
        "getty",
        "grep",
        "gzip",
        "head",
        "hostname",
        "ifconfig",
        "ln",
        "ls",
        "md5sum",
        "mkdir",
        "mount",
        "nice",
        "od",
        "printf",
        "reboot",
        "rm",
        "sed",
        "sh",
        "sort",
        "stat",
        "tail",
        "tar",
        "tee",
        "test",
        "timeout",
        "tr",
        "udhcpc",
        "umount",
        "uniq",
        "wc",
        "xargs",
    }
    assert expected <= set(cmds)
    assert "nginx" in cmds and "log" not in cmds and "listen_port" not in cmds and "ll" not in cmds
    assert cmds["awk"][0].endswith("docker-entrypoint.sh:12")
