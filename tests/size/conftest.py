"""Fixtures of the size tests: one reduced real calibration shared by the slow calibration tests."""

from __future__ import annotations

import pytest

from busyconf.size.calibration import CalibrationProgress, calibrate
from tests.size.reduced import Reduced, reduce


@pytest.fixture(scope="session")
def reduced_x86_64(tmp_path_factory: pytest.TempPathFactory) -> Reduced:
    """The reduced calibration of x86_64 at 1.38.0 (:func:`tests.size.reduced.reduce`), made once.

    It is the unsharded table the shard test compares with, the donor of the
    transfer test, and the state the resume test resumes: each of those builds
    it otherwise, about a minute apiece on 2 cores. Tests that use it call
    ``reduce(tmp_path, monkeypatch, root=reduced_x86_64.root)`` to work in its cache.
    """
    phases: list[str] = []

    def progress(event: CalibrationProgress) -> None:
        phases.append(event.phase)

    # The cache and the patches are undone on leaving: the session's other tests see neither.
    with pytest.MonkeyPatch.context() as mp:
        root = reduce(tmp_path_factory.mktemp("reduced"), mp)
        table, _ = calibrate("1.38.0", "x86_64", progress=progress)
    return Reduced(root, table, tuple(phases))
