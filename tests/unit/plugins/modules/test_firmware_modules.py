"""flint_backup, flint_burn and ib_fabric_facts on the real recorded outputs: the order of flint calls, the
refusals before any burn, the backup check, the verification after; the fabric readers' argv."""

from __future__ import annotations

import hashlib

from ansible_collections.gpuforge.cluster.plugins.modules import (
    flint_backup,
    flint_burn,
    flint_info,
    ib_fabric_facts,
)

from ..module_utils.parsers.golden import FIXTURES
from .harness import run_module

FLINT = FIXTURES / "flint"
FLASH = (FLINT / "cx3-fs2-query-full.txt").read_text()
IMAGE = (FLINT / "cx3-fs2-image-query-full.txt").read_text()
PENDING = (FLINT / "cx3-fs2-query-full-pending.txt").read_text()


class Flash:
    """Answers flint like one ConnectX-3 whose flash holds 2.35.5100 until the 2.42.5000 image is burned."""

    def __init__(self, image_text=IMAGE, burn_rc=0, after=PENDING):
        self.calls, self.image_text, self.burn_rc, self.after = [], image_text, burn_rc, after
        self.burned = False

    def run(self, argv, environ_update=None, **kw):
        """run_command as a bound method of this Flash (the module's self is not passed)."""
        args = argv[1:]
        self.calls.append(args)
        if args[:1] == ["-i"]:
            return 0, self.image_text, ""
        if args[-1] == "burn":
            self.burned = self.burn_rc == 0
            err = "" if self.burn_rc == 0 else "-E- Burning failed"
            return self.burn_rc, "Burning FS2 FW image without signatures - OK\n", err
        if "ri" in args:
            with open(args[args.index("ri") + 1], "wb") as handle:
                handle.write(b"FIRMWARE")
            return 0, "", ""
        return 0, (self.after if self.burned else FLASH), ""


def test_backup_queries_full_then_reads_the_image(tmp_path):
    flash = Flash()
    dest = tmp_path / "01:00.0.bin"
    result = run_module(flint_backup.main, {"device": "01:00.0", "dest": str(dest)}, flash.run)
    assert flash.calls == [["-d", "01:00.0", "query", "full"], ["-d", "01:00.0", "ri", f"{dest}.partial"]]
    assert result["changed"] and result["sha256"] == hashlib.sha256(b"FIRMWARE").hexdigest()
    assert dest.read_bytes() == b"FIRMWARE" and (tmp_path / "01:00.0.bin.query.txt").read_text() == FLASH
    assert oct(dest.stat().st_mode & 0o777) == "0o600" and result["firmware"]["fw_version"] == "2.35.5100"


def test_backup_of_a_device_that_cannot_be_opened_writes_nothing(tmp_path):
    error = (FLINT / "error-failed-to-open.txt").read_text()
    result = run_module(flint_backup.main, {"device": "lid-9", "dest": str(tmp_path / "x.bin")},
                        lambda self, argv, **kw: (1, "", error))
    assert result["failed"] and "nothing was saved" in result["msg"] and list(tmp_path.iterdir()) == []


def _burn_args(tmp_path, **extra):
    backup = tmp_path / "backup.bin"
    backup.write_bytes(b"FIRMWARE")
    return {"device": "01:00.0", "image": str(tmp_path / "fw.bin"), "backup": str(backup),
            "backup_sha256": hashlib.sha256(b"FIRMWARE").hexdigest(), **extra}


def test_burn_runs_once_after_the_queries_and_verifies(tmp_path):
    flash = Flash()
    result = run_module(flint_burn.main, _burn_args(tmp_path), flash.run)
    image = str(tmp_path / "fw.bin")
    assert flash.calls == [["-d", "01:00.0", "query"], ["-i", image, "query"],
                           ["-d", "01:00.0", "-i", image, "-y", "burn"], ["-d", "01:00.0", "query"]]
    assert result["changed"] and result["pending_reset"] is True
    after = result["after"]
    assert after["fw_version"] == "2.42.5000" and after["running_fw_version"] == "2.35.5100"
    assert result["diff"] == {"before": "PSID MT_1170110023 FW 2.35.5100\n",
                              "after": "PSID MT_1170110023 FW 2.42.5000\n"}


def test_burn_without_a_matching_backup_burns_nothing(tmp_path):
    flash = Flash()
    result = run_module(flint_burn.main, _burn_args(tmp_path, backup_sha256="00" * 32), flash.run)
    assert result["failed"] and "no verified backup" in result["msg"]
    assert all(call[-1] != "burn" for call in flash.calls)


def test_psid_change_refused_before_burn_and_passed_on_with_the_flag(tmp_path):
    other = IMAGE.replace("MT_1170110023", "MT_1170110021")
    flash = Flash(image_text=other)
    result = run_module(flint_burn.main, _burn_args(tmp_path), flash.run)
    assert result["failed"] and "PSID mismatch" in result["msg"] and len(flash.calls) == 2
    flash = Flash(image_text=other, after=PENDING.replace("MT_1170110023", "MT_1170110021"))
    result = run_module(flint_burn.main, _burn_args(tmp_path, allow_psid_change=True), flash.run)
    assert not result["failed"] and "-allow_psid_change" in flash.calls[2]


def test_burn_check_mode_and_current_image_change_nothing(tmp_path):
    flash = Flash()
    result = run_module(flint_burn.main, _burn_args(tmp_path, _ansible_check_mode=True), flash.run)
    assert result["changed"] and len(flash.calls) == 2
    flash = Flash()
    flash.burned = True
    result = run_module(flint_burn.main, _burn_args(tmp_path), flash.run)
    assert result["changed"] is False and result["decision"]["action"] == "current" and len(flash.calls) == 2


def test_burn_that_does_not_take_fails_naming_the_backup(tmp_path):
    result = run_module(flint_burn.main, _burn_args(tmp_path), Flash(after=FLASH).run)
    assert result["failed"] and "not the image's MT_1170110023 2.42.5000" in result["msg"]
    assert "backup.bin" in result["msg"]
    result = run_module(flint_burn.main, _burn_args(tmp_path), Flash(burn_rc=1).run)
    assert result["failed"] and "burn failed (rc=1)" in result["msg"]


def test_flint_info_reads_an_image():
    calls = []

    def run(self, argv, **kw):
        calls.append(argv[1:])
        return 0, IMAGE, ""
    result = run_module(flint_info.main, {"image": "/x/fw.bin"}, run)
    assert calls == [["-i", "/x/fw.bin", "query"]] and result["firmware"]["fw_version"] == "2.42.5000"


def test_fabric_facts_argv_and_no_sm_is_a_result():
    outputs = {
        "ibportstate": (FIXTURES / "ibportstate" / "cx3-fdr-4x-query-lid12-port2.txt").read_text(),
        "ibswitches": (FIXTURES / "ibswitches" / "sx6036-and-obsidian-longbow-base-port0.txt").read_text(),
        "iblinkinfo": (FIXTURES / "iblinkinfo" / "qdr-infiniscale-iv-four-cas.txt").read_text(),
        "sminfo": (FIXTURES / "sminfo" / "error-no-sm-ofed-readme.txt").read_text(),
    }
    calls = []

    def run(self, argv, **kw):
        calls.append(argv)
        # sminfo prints its iberror on stderr and exits 1 when no SM answers.
        return (1, "", outputs[argv[0]]) if argv[0] == "sminfo" else (0, outputs[argv[0]], "")
    args = {"ca": "mlx4_0", "port": 1, "ports": [{"ca": "mlx4_0", "port": 1}], "fabric": True, "sminfo": True}
    result = run_module(ib_fabric_facts.main, args, run)
    assert calls == [["ibportstate", "-C", "mlx4_0", "-P", "1", "-D", "0", "1"],
                     ["ibswitches", "-C", "mlx4_0", "-P", "1"], ["iblinkinfo", "-C", "mlx4_0", "-P", "1"],
                     ["sminfo", "-C", "mlx4_0", "-P", "1"]]
    fabric = result["ansible_facts"]["ib_fabric"]
    assert fabric["portstates"]["mlx4_0/1"]["supported_max_rate_gbps"] == 56.25
    assert [s["lid"] for s in fabric["switches"]] == [12, 11, 13, 16]
    assert len(fabric["links"]) == 36 + 4 and fabric["sminfo"]["reason"] == "no_response"
