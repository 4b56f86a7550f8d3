"""A readable snapshot of the resource graph per config: infrastructure changes show as a diff.

After an intended change: `.venv/bin/pytest tests/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.program import CONFIGS, synth


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_resource_graph(config: str, snapshot_json):
    assert synth(*CONFIGS[config])["public"] == snapshot_json
