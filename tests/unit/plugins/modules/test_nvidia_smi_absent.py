"""nvidia_smi_facts absent_ok: a node without nvidia-smi gets an empty GPU list (replacing a cached copy),
while an installed nvidia-smi that fails still fails."""

from __future__ import annotations

from ansible_collections.gpuforge.cluster.plugins.modules import nvidia_smi_facts

from .harness import run_module


def test_absent_tool_gives_no_gpus():
    res = run_module(nvidia_smi_facts.main, {"absent_ok": True}, bin_path=lambda self, name, *a, **k: None)
    assert res["failed"] is False
    facts = res["ansible_facts"]["nvidia_smi"]
    assert facts["gpus"] == [] and facts["error"]["reason"] == "tool_not_found"


def test_absent_tool_without_absent_ok_fails():
    res = run_module(nvidia_smi_facts.main, {}, bin_path=lambda self, name, *a, **k: None)
    assert res["failed"] and res["reason"] == "tool_not_found"


def test_installed_but_broken_still_fails_with_absent_ok():
    msg = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    res = run_module(nvidia_smi_facts.main, {"absent_ok": True},
                     run_command=lambda self, argv, **kw: (9, msg + "\n", ""))
    assert res["failed"] and res["reason"] == "no_driver"
