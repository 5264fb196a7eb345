# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PSIDs of Mellanox/NVIDIA firmware images seen on InfiniBand switches and HCAs, each row with where
it comes from, and the rule that names a 40 Gb/s link QDR or FDR10.

A PSID (Parameter-Set ID, ``flint -d <dev> q``, ``ibv_devinfo``'s ``board_id``) names the firmware
image, and with it the speeds the firmware allows: an OEM image can hold FDR hardware to FDR10 or QDR.
The infiniband_fw role reads the fabric in-band, and when a port runs below the expected rate it prints
:func:`explain_rate` for the PSID flint read on that device. Rows are only PSIDs found in a source
named in the row (a public file, issue or page, or the project's own lab record); ``max_rate_gbps`` is
null where no source states the rate.

QDR or FDR10 (both "40 Gb/s" on a 4X link):
- QDR: 4 lanes x 10 Gb/s signalling with 8b/10b encoding (32 Gb/s of data). InfiniBand standard.
- FDR10: 4 lanes x 10.3125 Gb/s signalling with 64b/66b (40 Gb/s of data), a Mellanox extension that
  runs only between FDR-capable ports (ConnectX-3, SwitchX) whose firmware enables it (MLNX
  ExtendedPortInfo): the rate FDR hardware runs with an FDR10-limited image.
- How the port data tells them apart: ``ibstat`` prints ``Rate: 40 (FDR10)`` for FDR10 and ``Rate: 40``
  for QDR; ``iblinkinfo`` prints ``10.0 Gbps (FDR10)`` vs ``10.0 Gbps`` (and the peer note ``Could be
  FDR10`` when a QDR link could run FDR10); ``ibportstate`` prints ``LinkSpeedActive: 10.0 Gbps`` for
  both, and the ``# MLNX ext Port info`` block's ``LinkSpeedActive`` is ``0x01`` (bit 0: FDR10) for FDR10
  and ``0x00`` for QDR (infiniband-diags iblinkinfo.c/ibportstate.c, libibmad fields.c).
"""

from __future__ import annotations

import math
from typing import Any

_R3 = ("gpuforge lab record R3 (homelab): 'flint -d lid-<switch> q' on an unmanaged Mellanox SX6005T "
       "read this PSID while its ports negotiated FDR10 (ibstat 'Rate: 40 (FDR10)'); 'flint -d lid-<switch> "
       "-i <MSX6005F image> -allow_psid_change burn' (in-band) gave FDR 56")
_MLNX_NODEDESC = ("Mellanox unmanaged-switch node-description script (Copyright Mellanox 2001-2016, "
                  "'SwitchX_PSID' table), public GitHub copy, code-index id 3450935618")
_PSMN = ("https://github.com/ltaulell/HPC_toolset/blob/00563029065f0402c57e9f47a1731b3370c5151f/infiniband/"
         "maj_fw_ib_FDR.sh (ENS Lyon PSMN ConnectX-3 mass-update script: PSID -> image it burns)")
_FWUFF = ("public GitHub notes 'InfiniBand cards' (dwagon/fwuff, ConnectX-3 cross-flash with MFT 4.35), "
          "code-index id 67541063024")

# psid -> row. device: the hardware; part_number: as the source names it; link: InfiniBand (VPI) or
# Ethernet-only firmware; generation/max_rate_gbps: the fastest 4X rate the image runs (null: no source
# states it); full_rate_psid: the image that lifts a firmware rate limit; crossflash_psid: the generic
# Mellanox image a source burned instead of an OEM one (no rate claim).
PSIDS: dict[str, dict[str, Any]] = {
    "EMC1260110026": {
        "description": "SX6005T, EMC-branded FDR10 image", "device": "SX6005T", "part_number": None,
        "kind": "switch", "link": "InfiniBand", "generation": "FDR10", "max_rate_gbps": 40,
        "full_rate_psid": "MT_1260110021", "crossflash_psid": "MT_1260110021",
        "source": (
            _R3 + ". Not found in the public code, issue or page indexes searched; the number matches "
            "Mellanox's MT_1260110026 (MSX6005T-xxxS) with EMC's OEM prefix."
        ),
    },
    "MT_1260110026": {
        "description": "SX6005T Mellanox image (MSX6005T-xxxS)", "device": "SX6005T",
        "part_number": "MSX6005T-xxxS", "kind": "switch", "link": "InfiniBand", "generation": None,
        "max_rate_gbps": None, "full_rate_psid": None, "crossflash_psid": None,
        "source": _MLNX_NODEDESC + ": \"MT_1260110026\" : \"MSX6005T-xxxS\" (no rate given).",
    },
    "MT_1260110021": {
        "description": "SX6005 FDR image (MSX6005F-xxxS)", "device": "SX6005F", "part_number": "MSX6005F-xxxS",
        "kind": "switch", "link": "InfiniBand", "generation": "FDR", "max_rate_gbps": 56,
        "full_rate_psid": None, "crossflash_psid": None,
        "source": (
            _MLNX_NODEDESC + ": \"MT_1260110021\" : \"MSX6005F-xxxS\"; rate: " + _R3 + "; SX6005 listed "
            "as 'Infiniband FDR unmanaged switch, 12 ports (56 Gb/s per port)' in a public cluster "
            "inventory (code-index id 63110593734)."
        ),
    },
    "MT_1880110032": {
        "description": "SB7790 EDR unmanaged switch image (MSB7790-E)", "device": "SB7790",
        "part_number": "MSB7790-E", "kind": "switch", "link": "InfiniBand", "generation": "EDR",
        "max_rate_gbps": 100, "full_rate_psid": None, "crossflash_psid": None,
        "source": (
            _MLNX_NODEDESC + ": \"MT_1880110032\" : \"MSB7790-E\"; EDR: "
            "https://github.com/stanford-rc/ibswinfo/issues/5 ('unmanaged EDR Switch-IB based switches "
            "(SB7790)')."
        ),
    },
    "HP_1880110032": {
        "description": "SB7790 EDR unmanaged switch, HPE image", "device": "SB7790", "part_number": None,
        "kind": "switch", "link": "InfiniBand", "generation": "EDR", "max_rate_gbps": 100,
        "full_rate_psid": None, "crossflash_psid": None,
        "source": (
            "https://github.com/stanford-rc/ibswinfo/issues/5 (flint q of an SB7790: 'PSID: HP_1880110032'; "
            "maintainer: 'not a Mellanox PSID, but rather an HPE one')."
        ),
    },
    "MT_1090120019": {
        "description": "ConnectX-3 VPI dual-port FDR image (MCX354A-FCB)", "device": "ConnectX-3",
        "part_number": "MCX354A-FCB", "kind": "hca", "link": "InfiniBand", "generation": "FDR",
        "max_rate_gbps": 56, "full_rate_psid": None, "crossflash_psid": None,
        "source": (
            _PSMN + ": MT_1090120019 -> fw-ConnectX3-rel-2_42_5000-MCX354A-FCB_A2-A5; public notes "
            "'MCX354-FCBT with a PSID of MT_1090120019' (code-index id 41702020523); " + _FWUFF
            + " (profile cx3-1_MCX354A_fdr_09v.prs)."
        ),
    },
    "MT_1100120019": {
        "description": "ConnectX-3 VPI single-port FDR image (MCX353A-FCB)", "device": "ConnectX-3",
        "part_number": "MCX353A-FCB", "kind": "hca", "link": "InfiniBand", "generation": "FDR",
        "max_rate_gbps": 56, "full_rate_psid": None, "crossflash_psid": None,
        "source": _PSMN + ": MT_1100120019 -> fw-ConnectX3-rel-2_42_5000-MCX353A-FCB_A2-A5.",
    },
    "HP_0280210019": {
        "description": "ConnectX-3 dual-port, HP OEM image", "device": "ConnectX-3", "part_number": None,
        "kind": "hca", "link": "InfiniBand", "generation": None, "max_rate_gbps": None,
        "full_rate_psid": None, "crossflash_psid": "MT_1090120019",
        "source": (
            _PSMN + ": HP_0280210019 is burned with the MCX354A-FCB image; seen as ibv_devinfo "
            "board_id with fw 2.11.310 in a public execo script (code-index id 13989957949)."
        ),
    },
    "ORC1090120019": {
        "description": "ConnectX-3 dual-port, Oracle OEM FDR/QDR image", "device": "ConnectX-3",
        "part_number": None, "kind": "hca", "link": "InfiniBand", "generation": None, "max_rate_gbps": None,
        "full_rate_psid": None, "crossflash_psid": "MT_1090120019",
        "source": (
            _FWUFF + " ('PSID: ORC1090120019', 'Firmware personality: Oracle OEM FDR/QDR', fw "
            "2.35.6312); " + _PSMN + ": burned with the MCX354A-FCB image."
        ),
    },
    "ISL1090110018": {
        "description": "ConnectX-3 dual-port, OEM QDR image", "device": "ConnectX-3", "part_number": None,
        "kind": "hca", "link": "InfiniBand", "generation": "QDR", "max_rate_gbps": 40,
        "full_rate_psid": "MT_1090120019", "crossflash_psid": "MT_1090120019",
        "source": (
            _FWUFF + " ('Original PSID: ISL1090110018', profile cx3-1_MCX354A_qdr.prs, 'OEM QDR-only "
            "firmware personality', cross-flashed to MT_1090120019); " + _PSMN + " (warns 'FDR10 card !' "
            "and burns the MCX354A-QCB image): the two sources disagree on QDR vs FDR10, both 40 Gb/s."
        ),
    },
    "DEL1100001019": {
        "description": "ConnectX-3, Dell OEM image (Dell part 079DJ3)", "device": "ConnectX-3",
        "part_number": "079DJ3", "kind": "hca", "link": "InfiniBand", "generation": None,
        "max_rate_gbps": None, "full_rate_psid": None, "crossflash_psid": None,
        "source": _PSMN + ": DEL1100001019 -> fw-ConnectX3-rel-2_42_5000-079DJ3 (no rate given).",
    },
    "DEL0A30000019": {
        "description": "ConnectX-3, Dell OEM image (Dell part 0T483W)", "device": "ConnectX-3",
        "part_number": "0T483W", "kind": "hca", "link": "InfiniBand", "generation": None,
        "max_rate_gbps": None, "full_rate_psid": None, "crossflash_psid": None,
        "source": _PSMN + ": DEL0A30000019 -> fw-ConnectX3-rel-2_42_5000-0T483W (no rate given).",
    },
    "HP_1370110017": {
        "description": "ConnectX-3 Pro, HP OEM image (burned with the MCX314A-BCC EN image)",
        "device": "ConnectX-3 Pro", "part_number": None, "kind": "hca", "link": "Ethernet", "generation": None,
        "max_rate_gbps": None, "full_rate_psid": None, "crossflash_psid": "MT_1090111023",
        "source": _PSMN + ": HP_1370110017 -> fw-ConnectX3Pro-rel-2_42_5000-MCX314A-BCC_Ax.",
    },
    "MT_1090111023": {
        "description": "ConnectX-3 Pro EN 40GigE dual-port QSFP image (MCX314A-BCC), Ethernet only",
        "device": "ConnectX-3 Pro", "part_number": "MCX314A-BCC_Ax", "kind": "hca", "link": "Ethernet",
        "generation": None, "max_rate_gbps": None, "full_rate_psid": None, "crossflash_psid": None,
        "source": (
            "mlxfwmanager output in public notes ('Part Number: MCX314A-BCC_Ax', 'Description: ConnectX-3 "
            "Pro EN network interface card; 40GigE; dual-port QSFP', 'PSID: MT_1090111023'; code-index id "
            "16988672074); cross-flash notes 'MCX314A's MT_1090111023' (code-index id 25411925818)."
        ),
    },
    "MT_1090111019": {
        "description": "ConnectX-3 Pro VPI dual-port FDR image (MCX354A-FCC)", "device": "ConnectX-3 Pro",
        "part_number": "MCX354A-FCCT", "kind": "hca", "link": "InfiniBand", "generation": "FDR",
        "max_rate_gbps": 56, "full_rate_psid": None, "crossflash_psid": None,
        "source": (
            "public cross-flash notes: '--use_image_ps, we are overriding the PS from MCX314A's "
            "MT_1090111023 to MCX354A-FCCT's MT_1090111019' (code-index id 25411925818)."
        ),
    },
}

# 4X data rates (Gb/s) by name; FDR10 shares QDR's 40 and is told apart by the port data.
_RATE_NAMES = ((10, "SDR"), (20, "DDR"), (40, "QDR"), (56, "FDR"), (100, "EDR"), (200, "HDR"), (400, "NDR"),
               (800, "XDR"))
_TOLERANCE = 0.07  # 56.25 is FDR, 103.125 EDR, 212.5 HDR: the exact lane products of the nominal rates


def _normal(psid: object) -> str | None:
    if not isinstance(psid, str):
        return None
    psid = psid.strip().upper()
    return psid or None


def lookup(psid: object) -> dict[str, Any] | None:
    """The table row for a PSID (case and surrounding blanks ignored) as a new dict, or None."""
    key = _normal(psid)
    row = PSIDS.get(key) if key else None
    return dict(row, psid=key) if row else None


def _rate(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of Gb/s, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative number of Gb/s, got {value!r}")
    return float(value)


def link_rate_name(rate_gbps: float, rate_note: str | None = None) -> str | None:
    """Name a link rate (4X unless FDR10 says otherwise): 'FDR10' when the port data says FDR10 (``rate_note`` is ibstat's ``FDR10``,
    iblinkinfo's ``10.0 Gbps (FDR10)`` or a parser's ``generation``), else SDR/DDR/QDR/FDR/EDR/HDR/NDR/XDR
    by the rate (40 without an FDR10 note is QDR). None when the rate is none of these."""
    rate = _rate(rate_gbps, "rate_gbps")
    if isinstance(rate_note, str) and "FDR10" in rate_note.upper():
        # FDR10 moves 10 Gb/s of data per lane: 10 (1X), 20 (2X), 40 (4X), 80 (8X), 120 (12X).
        fdr10 = any(abs(rate - 10 * lanes) <= 10 * lanes * _TOLERANCE for lanes in (1, 2, 4, 8, 12))
        return "FDR10" if fdr10 else None
    for nominal, name in _RATE_NAMES:
        if abs(rate - nominal) <= nominal * _TOLERANCE:
            return name
    return None


def _gbps(value: float) -> str:
    return f"{value:g}"


def image_limits(psid: object, active_gbps: float) -> bool:
    """True when the image ``psid`` names is one that holds a link to ``active_gbps`` while a full-rate image
    for the same hardware exists (R3's EMC1260110026 at 40 Gb/s): the firmware, not the cable, is the cause."""
    row = lookup(psid)
    if row is None:
        return False
    limit = row["max_rate_gbps"]
    full = PSIDS.get(row["full_rate_psid"] or "")
    return full is not None and limit is not None and _rate(active_gbps, "active_gbps") <= limit * (1 + _TOLERANCE)


def explain_rate(psid: object, active_gbps: float, expected_gbps: float,
                 rate_note: str | None = None) -> str | None:
    """Why a port runs at ``active_gbps`` instead of ``expected_gbps``, as one line for the role to print.

    None when the rate is as expected (within the FDR 56.25/56 rounding). For a PSID whose image holds the
    link to this rate: ``"<device> <generation> image <psid>; <generation> image <full-rate psid>"`` (R3:
    ``SX6005T FDR10 image EMC1260110026; FDR image MT_1260110021``). Otherwise a sentence that the PSID is
    not in the table (or does not explain the rate) with the active and expected rates.
    """
    active = _rate(active_gbps, "active_gbps")
    expected = _rate(expected_gbps, "expected_gbps")
    if active >= expected * (1 - _TOLERANCE / 3):
        return None
    name = link_rate_name(active, rate_note)
    rates = f"active {_gbps(active)} Gb/s{f' ({name})' if name else ''}, expected {_gbps(expected)} Gb/s"
    key = _normal(psid)
    if key is None:
        return f"No PSID was read for this device; {rates}."
    row = lookup(key)
    if row is None:
        return f"PSID {key} is not in the PSID table; {rates}."
    limit = row["max_rate_gbps"]
    if image_limits(key, active):
        full = PSIDS[row["full_rate_psid"]]
        return f"{row['device']} {row['generation']} image {key}; {full['generation']} image {row['full_rate_psid']}"
    allows = f"; the image runs up to {_gbps(limit)} Gb/s" if limit is not None else ""
    return f"PSID {key} ({row['description']}) does not explain the rate: {rates}{allows}."
