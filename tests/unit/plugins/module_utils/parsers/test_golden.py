"""Every fixture parses to its recorded golden result, and every fixture has provenance."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from .golden import expected_path, fixture_files, result_for

FILES = fixture_files()


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(path):
    assert json.loads(expected_path(path).read_text()) == result_for(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_provenance(path):
    source = path.with_suffix(".source")
    text = source.read_text()
    assert "source:" in text and ("hardware:" in text or "tool:" in text)


def test_fixture_counts():
    counts = Counter(p.parent.name for p in FILES)
    xml = [p for p in FILES if p.suffix == ".xml"]
    errors = [p for p in FILES if p.parent.name == "nvidia_smi" and "error" in p.name]
    assert counts["nvidia_smi"] >= 10 and len(xml) >= 4 and len(errors) >= 3
    assert counts["ibstat"] >= 8
    assert counts["flint"] >= 5
    assert counts["perftest"] >= 5
    assert counts["nccl_tests"] >= 6
    assert counts["slurm"] >= 3
