"""The coarse estimate: BusyBox's size labels scaled to each CPU busyconf builds for."""

from __future__ import annotations

import pytest

from busyconf.build.arch import known_arches
from busyconf.model.kconfig import KconfigTree
from busyconf.size.labels import DEFCONFIG_SIZES, defconfig_label_sum, label_model


def test_every_cpu_in_arches_toml_has_a_scale() -> None:
    assert set(DEFCONFIG_SIZES) == set(known_arches())


@pytest.mark.parametrize("arch", known_arches())
def test_the_scaled_labels_of_defconfig_come_to_the_cpus_defconfig_size(
    tree_oldest: KconfigTree, arch: str
) -> None:
    """On 1.35.0 (where the sizes were measured) the scaled label sum over defconfig is that size.

    A CPU missing from the scale (``ppc64le`` where arches.toml says
    ``powerpc64le``) got the labels as printed: about three times too much.
    """
    model = label_model(tree_oldest, arch)
    scale = model.info["scale"]
    assert 0.2 < scale < 0.6, scale
    label_sum = defconfig_label_sum(tree_oldest)
    assert abs(label_sum * scale - DEFCONFIG_SIZES[arch]) < 1, (label_sum * scale, DEFCONFIG_SIZES[arch])
    assert f"scaled x{scale:.2f} to {arch}" in model.basis


def test_an_unknown_cpu_gets_the_labels_as_printed(tree_oldest: KconfigTree) -> None:
    model = label_model(tree_oldest, None)
    assert model.info["scale"] == 1.0
    assert "scaled" not in model.basis
