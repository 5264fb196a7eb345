"""Fixtures for the module tests."""

from __future__ import annotations

import pytest

from .harness import run_module


@pytest.fixture
def module_runner():
    """harness.run_module: ``module_runner(module.main, args, run_command=None, bin_path=None,
    check_mode=None, diff=None)`` returns the exit_json/fail_json dict with ``failed`` set."""
    return run_module
