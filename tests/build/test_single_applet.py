"""``busyconf build --applet nslookup``: a static single-applet binary for COPY --from.

The done-when of issue 15: under 60 KB on x86_64 and it answers a query from a
DNS responder this test starts on loopback. nslookup is built with
FEATURE_NSLOOKUP_BIG, whose server argument takes ``HOST:PORT`` (``add_ns`` ->
``xhost2sockaddr``), so the responder needs no port 53.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from busyconf.model.kconfig import load_tree
from busyconf.trim.single import plan_single

RELEASE = "1.38.0"
ANSWER = "192.0.2.7"  # TEST-NET-1: documentation only, never routed
NAME = "busyconf.test"
LIMIT = 60 * 1024


def _qname(packet: bytes) -> tuple[str, int]:
    """The question's name and the offset just past it."""
    labels, i = [], 12
    while packet[i]:
        n = packet[i]
        labels.append(packet[i + 1 : i + 1 + n].decode(errors="replace"))
        i += 1 + n
    return ".".join(labels), i + 1


def _reply(query: bytes) -> bytes:
    """An A record for NAME; for anything else an empty NOERROR (other types) or NXDOMAIN."""
    qid = query[:2]
    name, end = _qname(query)
    qtype = struct.unpack("!H", query[end : end + 2])[0]
    question = query[12 : end + 4]
    if name.lower() != NAME:
        return qid + struct.pack("!HHHHH", 0x8183, 1, 0, 0, 0) + question
    answers = b""
    if qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ANSWER)
    return qid + struct.pack("!HHHHH", 0x8180, 1, 1 if answers else 0, 0, 0) + question + answers


class Responder:
    """A tiny DNS responder on 127.0.0.1 (a free UDP port) that stops by itself after ``seconds``."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries: list[str] = []
        self.deadline = time.monotonic() + seconds
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            try:
                data, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            if len(data) < 17:
                continue
            self.queries.append(_qname(data)[0])
            self.sock.sendto(_reply(data), peer)
        self.sock.close()

    def __enter__(self) -> Responder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def nslookup_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("single") / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "busyconf", "build", "--applet", "nslookup", "-j2", "-o", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    manifest: dict[str, object] = json.loads(proc.stdout)
    manifest["out"] = str(out)
    return manifest


@pytest.mark.slow
def test_plan_is_allnoconfig_plus_nslookup() -> None:
    plan = plan_single(load_tree(RELEASE), ["nslookup"])
    assert plan.config.applets == ("nslookup",)
    on = {k for k, v in plan.config.values.items() if v == "y"}
    # allnoconfig's ash-as-sh is switched off; what is on beyond allnoconfig is said why.
    assert "SHELL_ASH" not in on and "SH_IS_NONE" in on
    assert "FEATURE_NSLOOKUP_BIG" in plan.reasons
    assert "LONG_OPTS" not in on and "FEATURE_IPV6" not in on


@pytest.mark.slow
def test_nslookup_binary_is_small_and_answers(nslookup_build: dict[str, object]) -> None:
    out = Path(str(nslookup_build["out"]))
    binary = out / "busybox"
    size = binary.stat().st_size
    assert size == nslookup_build["binary_size"]
    assert size < LIMIT, f"{size} bytes"
    assert nslookup_build["applets"] == ["nslookup"]
    for name in ("manifest.json", "busybox.config", "sbom.spdx.json", "sbom.cdx.json"):
        assert (out / name).is_file(), name
    assert b"\n# CONFIG_BUSYBOX is not set\n" in (out / "busybox.config").read_bytes()
    with Responder() as dns:
        # One applet, no busybox applet: it runs whatever the file is called (COPY --from ... /nslookup).
        proc = subprocess.run(
            [str(binary), NAME, f"127.0.0.1:{dns.port}"], capture_output=True, text=True, timeout=30
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ANSWER in proc.stdout, proc.stdout
    assert NAME in dns.queries
    with Responder() as dns:
        gone = subprocess.run(
            [str(binary), "nowhere.invalid", f"127.0.0.1:{dns.port}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert gone.returncode != 0 and ANSWER not in gone.stdout
