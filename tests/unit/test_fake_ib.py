"""Tests of lab/fake_ib.py, the lab's FAKE InfiniBand tools (recorded outputs, FAKE flash state, call log).

Each test lays out the data folder as lab/fake_ib.yml installs it (scenario files, sminfo choice, the recorded
flint queries under recorded/flint) in tmp_path and runs the script through a symlink named like the tool.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "lab" / "fake_ib.py"
LAB = REPO / "lab" / "fake_ib"
FLINT_FIXTURES = REPO / "tests" / "unit" / "plugins" / "module_utils" / "parsers" / "fixtures" / "flint"
IMAGES = LAB / "images"


class Fake:
    def __init__(self, root: Path, scenario: str, sminfo: str = "present") -> None:
        self.root = root
        self.data = root / "data"
        shutil.copytree(LAB / scenario, self.data)
        (self.data / "recorded" / "flint").mkdir(parents=True)
        for fixture in FLINT_FIXTURES.glob("*.txt"):
            shutil.copy(fixture, self.data / "recorded" / "flint" / fixture.name)
        for ext in ("txt", "rc"):
            source = self.data / f"sminfo-{sminfo}.{ext}"
            if source.exists():
                shutil.copy(source, self.data / f"sminfo.{ext}")
        self.state = root / "state"
        self.log = root / "log" / "gpuforge-fake-ib.log"
        self.bin = root / "bin"
        self.bin.mkdir()

    def run(self, tool: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        link = self.bin / tool
        if not link.exists():
            link.symlink_to(SCRIPT)
        env = dict(os.environ, GPUFORGE_FAKE_IB_DATA=str(self.data), GPUFORGE_FAKE_IB_STATE=str(self.state),
                   GPUFORGE_FAKE_IB_LOG=str(self.log))
        # sys.argv[0] is the symlink's path, as when the tool is run from PATH.
        return subprocess.run([sys.executable, str(link), *args], input=stdin, capture_output=True, text=True,
                              env=env, check=False)

    def device_state(self, device: str) -> dict:
        return json.loads((self.state / f"{device}.json").read_text())


@pytest.fixture
def r3(tmp_path: Path) -> Fake:
    return Fake(tmp_path, "r3-fdr10")


def fixture(name: str) -> str:
    return (FLINT_FIXTURES / f"{name}.txt").read_text()


@pytest.mark.parametrize("tool", ["flint", "mstflint"])
@pytest.mark.parametrize("device", ["mlx4_0", "01:00.0", "0000:01:00.0", "/dev/mst/mt4099_pci_cr0"])
def test_device_query_prints_the_recorded_query(r3: Fake, tool: str, device: str) -> None:
    for args in (["q"], ["query"], ["query", "full"]):
        result = r3.run(tool, "-d", device, *args)
        assert result.returncode == 0
        assert result.stdout == fixture("cx3-fs2-query-full")
        assert result.stderr == ""


def test_image_query_prints_the_recorded_image_query(r3: Fake) -> None:
    result = r3.run("flint", "-i", str(IMAGES / "cx3-2.42.5000.img"), "query", "full")
    assert (result.returncode, result.stdout, result.stderr) == (0, fixture("cx3-fs2-image-query-full"), "")


def test_ri_writes_the_flash_image_then_the_burned_one(r3: Fake, tmp_path: Path) -> None:
    backup = tmp_path / "backup.bin"
    assert r3.run("flint", "-d", "01:00.0", "ri", str(backup)).returncode == 0
    assert backup.read_text() == (LAB / "r3-fdr10" / "hca-seed.img").read_text()
    image = IMAGES / "cx3-2.42.5000.img"
    assert r3.run("flint", "-d", "01:00.0", "-i", str(image), "-y", "burn").returncode == 0
    assert r3.run("flint", "-d", "mlx4_0", "ri", str(backup)).returncode == 0
    assert backup.read_bytes() == image.read_bytes()


def test_burn_same_psid_gives_the_recorded_burn_and_pending_chain(r3: Fake) -> None:
    image = str(IMAGES / "cx3-2.42.5000.img")
    result = r3.run("flint", "-y", "-i", image, "-d", "/dev/mst/mt4099_pci_cr0", "b")
    assert result.returncode == 0
    assert result.stdout == (LAB / "recorded" / "burn-fs2-cx3.txt").read_text()
    assert result.stderr.startswith("FAKE flint: ")
    for args in (["q"], ["query", "full"]):
        assert r3.run("flint", "-d", "mlx4_0", *args).stdout == fixture("cx3-fs2-query-full-pending")
    # The fake-only reset: the running line goes, nothing else changes.
    assert r3.run("flint", "-d", "mlx4_0", "GPUFORGE-FAKE-RESET").returncode == 0
    after = r3.run("flint", "-d", "mlx4_0", "q")
    expected = "".join(line for line in fixture("cx3-fs2-query-full-pending").splitlines(keepends=True)
                       if not line.startswith("FW Version(Running):"))
    assert after.stdout == expected
    assert "FAKE flint:" in after.stderr


def test_burn_same_version_is_what_flint_prints_and_changes_nothing(r3: Fake) -> None:
    image = str(IMAGES / "cx3-2.42.5000.img")
    r3.run("flint", "-d", "mlx4_0", "-i", image, "-y", "b")
    before = r3.device_state("hca")
    result = r3.run("flint", "-d", "mlx4_0", "-i", image, "-y", "b")
    assert result.returncode == 0
    assert "    Note: The new FW version is the same as the current FW version on flash.\n" in result.stdout
    assert r3.device_state("hca") == before
    # Without -y and no answer, flint aborts (FLINT_BURN_ABORTED).
    aborted = r3.run("flint", "-d", "mlx4_0", "-i", image, "b")
    assert aborted.returncode == 7
    assert aborted.stdout.endswith("-E- Aborted by user\n")


def test_psid_mismatch_refused_without_the_flag_state_unchanged(r3: Fake) -> None:
    r3.run("flint", "-d", "mlx4_0", "q")
    before = r3.device_state("hca")
    result = r3.run("flint", "-d", "mlx4_0", "-i", str(IMAGES / "other-psid.img"), "-y", "burn")
    assert result.returncode == 1
    assert result.stdout.endswith(
        "\n\n-E- PSID mismatch. The PSID on flash (MT_1170110023) differs from the PSID in the given image "
        "(MT_1090120019).\n")
    assert r3.device_state("hca") == before
    assert r3.run("flint", "-d", "mlx4_0", "q").stdout == fixture("cx3-fs2-query-full")


def test_psid_change_accepted_with_the_flag(r3: Fake) -> None:
    image = str(IMAGES / "other-psid.img")
    result = r3.run("flint", "-allow_psid_change", "-d", "mlx4_0", "-i", image, "-y", "burn")
    assert result.returncode == 0
    assert ('    You are about to replace current PSID on flash - "MT_1170110023" with a different PSID - '
            '"MT_1090120019".\n    Note: It is highly recommended not to change the PSID.\n') in result.stdout
    state = r3.device_state("hca")
    expected = ("MT_1090120019", "2.42.5000", "2.35.5100")
    assert (state["psid"], state["fw_version"], state["running_fw_version"]) == expected
    query = r3.run("flint", "-d", "mlx4_0", "q").stdout
    assert "PSID:                  MT_1090120019\n" in query
    assert "FW Version(Running):   2.35.5100\n" in query


def test_switch_in_band_psid_change(r3: Fake) -> None:
    image = str(IMAGES / "sx6005-fdr-MT_1260110021.img")
    query = r3.run("flint", "-d", "lid-2", "q")
    assert "PSID:                  EMC1260110026\n" in query.stdout
    assert "FAKE flint: query output derived from the recorded" in query.stderr
    assert r3.run("flint", "-d", "lid-2", "-i", image, "-y", "b").returncode == 1
    assert r3.run("flint", "-d", "lid-2", "-i", image, "--allow_psid_change", "--yes", "b").returncode == 0
    after = r3.run("flint", "-d", "lid-2", "q").stdout
    assert "PSID:                  MT_1260110021\n" in after
    assert "FW Version(Running):   9.3.6000\n" in after


def test_secure_fw_refuses_a_psid_change(tmp_path: Path) -> None:
    fake = Fake(tmp_path, "secure-fw")
    query = fake.run("flint", "-d", "mlx5_0", "q")
    assert (query.returncode, query.stdout, query.stderr) == (0, fixture("bluefield-fs4-secure-fw"), "")
    before = fake.device_state("hca")
    image = str(IMAGES / "other-psid.img")
    result = fake.run("flint", "-d", "mlx5_0", "-i", image, "-allow_psid_change", "-y", "b")
    assert result.returncode == 1
    assert "FAKE flint: secure firmware" in result.stderr
    assert "secure-fw" not in result.stdout
    assert fake.device_state("hca") == before


def test_unknown_device_is_the_recorded_open_error(r3: Fake) -> None:
    result = r3.run("flint", "-d", "02:00.0", "q")
    assert result.returncode == 1
    assert result.stdout == fixture("error-failed-to-open")
    assert result.stderr.startswith("FAKE flint: ")


def test_unknown_arguments_are_not_recorded(r3: Fake) -> None:
    for tool, args in (("flint", ["-d", "mlx4_0", "dc"]), ("ibswitches", ["-v"]), ("ibstat", ["mlx5_0"])):
        result = r3.run(tool, *args)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.startswith(f"FAKE {tool}: ") and "not recorded" in result.stderr


def test_diag_tools_print_the_scenario_texts(r3: Fake) -> None:
    scenario = LAB / "r3-fdr10"
    assert r3.run("ibstat").stdout == (scenario / "ibstat.txt").read_text()
    assert r3.run("ibstat", "mlx4_0").stdout == (scenario / "ibstat.txt").read_text()
    assert r3.run("ibstat", "-p").stdout == "0x0002c90300ea9941\n"
    assert r3.run("ibswitches", "-C", "mlx4_0", "-P", "1").stdout == (scenario / "ibswitches.txt").read_text()
    assert r3.run("iblinkinfo").stdout == (scenario / "iblinkinfo.txt").read_text()
    assert r3.run("ibportstate", "-C", "mlx4_0", "-P", "1", "-D", "0", "1").stdout == (
        scenario / "ibportstate.txt").read_text()


@pytest.mark.parametrize(("mode", "rc"), [("present", 0), ("absent", 255)])
def test_sminfo_text_and_exit_code(tmp_path: Path, mode: str, rc: int) -> None:
    fake = Fake(tmp_path, "r3-fdr10", sminfo=mode)
    result = fake.run("sminfo")
    assert result.returncode == rc
    assert result.stdout == (LAB / "r3-fdr10" / f"sminfo-{mode}.txt").read_text()


def test_log_lines_in_order(r3: Fake) -> None:
    calls = [("ibstat", ["-p"]), ("flint", ["-d", "mlx4_0", "q"]), ("sminfo", []),
             ("mstflint", ["-d", "x", "q"])]
    for tool, args in calls:
        r3.run(tool, *args)
    lines = r3.log.read_text().splitlines()
    assert len(lines) == len(calls)
    stamps = []
    for line, (tool, args) in zip(lines, calls, strict=True):
        stamp, host, logged_tool, argv = line.split(" ", 3)
        stamps.append(int(stamp))
        assert host
        assert (logged_tool, json.loads(argv)) == (tool, args)
    assert stamps == sorted(stamps)
