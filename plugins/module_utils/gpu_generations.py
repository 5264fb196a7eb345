# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU axis of the version matrix: which driver branch, kernel-module flavor and CUDA release can
drive and build for a GPU generation (data), and the checks and choices over it (pure functions).

A GPU is identified before any NVIDIA driver exists, from its PCI device id (sysfs), through
gpu_pci_ids.py (generated from pci.ids); where a driver runs, nvidia-smi's product architecture and
PCI device id say the same. Every check returns problems, each one sentence naming the GPU, its
generation, the requested versions and what fits.

Sources (checked 2026-11):
- Open kernel modules: NVIDIA driver README, chapter "Open Linux Kernel Modules" (Turing and later
  GPUs only) and NVIDIA's "NVIDIA Transitions Fully Towards Open-Source GPU Kernel Modules" (2024-07):
  Blackwell (and Grace Hopper) are supported only by the open modules.
- Last branches: driver 470 is the last for Kepler (NVIDIA legacy driver list); the 580 branch is
  the last that supports Maxwell, Pascal and Volta (CUDA 12.9 / R575 release notes announcing it).
- CUDA: CUDA 12.0 drops Kepler (sm_35/sm_37); CUDA 13.0 removes offline compilation and library
  support for Maxwell, Pascal and Volta (sm_50 to sm_72) - CUDA 12.9 is their last toolkit (CUDA 13.0
  release notes). sm_100 and sm_120 (Blackwell) first build with CUDA 12.8; sm_103 and sm_121 with
  CUDA 12.9 (CUDA 12.8 / 12.9 release notes). Blackwell needs driver branch >= 570 (R570 is the
  first branch listing B200 and the GeForce RTX 50 series).
- Compute capability per chip: CUDA C Programming Guide, "Compute Capabilities" table, and
  https://developer.nvidia.com/cuda-gpus.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.gpuforge.cluster.plugins.module_utils import version_matrix as vm
from ansible_collections.gpuforge.cluster.plugins.module_utils.gpu_pci_ids import NVIDIA_DEVICES

# Generations in age order. open: the open kernel modules can drive it; proprietary: the proprietary
# ones can; first/last_branch: driver branches that support it (None: no bound inside the matrix);
# last_cuda: the newest CUDA release that builds for it (None: no bound).
GENERATIONS: dict[str, dict[str, Any]] = {
    "Kepler": {
        "open": False,
        "proprietary": True,
        "first_branch": None,
        "last_branch": 470,
        "last_cuda": "11.8",
    },
    "Maxwell": {
        "open": False,
        "proprietary": True,
        "first_branch": None,
        "last_branch": 580,
        "last_cuda": "12.9",
    },
    "Pascal": {
        "open": False,
        "proprietary": True,
        "first_branch": None,
        "last_branch": 580,
        "last_cuda": "12.9",
    },
    "Volta": {
        "open": False,
        "proprietary": True,
        "first_branch": None,
        "last_branch": 580,
        "last_cuda": "12.9",
    },
    "Turing": {
        "open": True,
        "proprietary": True,
        "first_branch": None,
        "last_branch": None,
        "last_cuda": None,
    },
    "Ampere": {
        "open": True,
        "proprietary": True,
        "first_branch": None,
        "last_branch": None,
        "last_cuda": None,
    },
    "Ada Lovelace": {
        "open": True,
        "proprietary": True,
        "first_branch": None,
        "last_branch": None,
        "last_cuda": None,
    },
    "Hopper": {
        "open": True,
        "proprietary": True,
        "first_branch": None,
        "last_branch": None,
        "last_cuda": None,
    },
    "Blackwell": {
        "open": True,
        "proprietary": False,
        "first_branch": 570,
        "last_branch": None,
        "last_cuda": None,
    },
}

# Chip family prefix -> generation.
CHIP_GENERATION = {
    "GK": "Kepler",
    "GM": "Maxwell",
    "GP": "Pascal",
    "GV": "Volta",
    "TU": "Turing",
    "GA": "Ampere",
    "AD": "Ada Lovelace",
    "GH": "Hopper",
    "GB": "Blackwell",
}

# (chip regex, compute capability). First match wins; a chip without a row has no known capability.
CHIP_CAPABILITY: list[tuple[str, str]] = [
    (r"GK(110|208)", "3.5"),
    (r"GK210", "3.7"),
    (r"GK1", "3.0"),
    (r"GM10", "5.0"),
    (r"GM20", "5.2"),
    (r"GP100", "6.0"),
    (r"GP10", "6.1"),
    (r"GV100", "7.0"),
    (r"TU1", "7.5"),
    (r"GA100", "8.0"),
    (r"GA10", "8.6"),
    (r"AD10", "8.9"),
    (r"GH100", "9.0"),
    (r"GB10[02]$", "10.0"),
    (r"GB11[02]$", "10.3"),
    (r"GB20\d$", "12.0"),
    (r"GB10$", "12.1"),
]

# Compute capability -> first CUDA release that builds for it, where that is newer than the matrix's oldest.
CAPABILITY_FIRST_CUDA = {"10.0": "12.8", "12.0": "12.8", "10.3": "12.9", "12.1": "12.9"}

_CHIP = re.compile(r"^([A-Z]{2})(\d{2,3})([A-Z]*)")
_NAME = re.compile(r"\[(.+)\]")
_key = vm.version_key


def chip_info(chip: str) -> dict[str, Any]:
    """'GV100GL' -> {'chip': 'GV100', 'generation': 'Volta', 'compute_capability': '7.0'}.

    Suffixes GL/M/BM (workstation, mobile) and GK's B (a revision) keep the chip's capability; GB10B
    and GB20B are other chips whose capability is not in the table (None)."""
    match = _CHIP.match(chip or "")
    if not match or match.group(1) not in CHIP_GENERATION:
        return {"chip": chip, "generation": None, "compute_capability": None}
    base = match.group(1) + match.group(2)
    if match.group(1) == "GB" and match.group(3)[:1] == "B" and match.group(3)[:2] != "BM":
        return {"chip": base + "B", "generation": "Blackwell", "compute_capability": None}
    capability = next((cc for pattern, cc in CHIP_CAPABILITY if re.match(pattern, base)), None)
    return {"chip": base, "generation": CHIP_GENERATION[match.group(1)], "compute_capability": capability}


def identify(device_id: str, name: str | None = None) -> dict[str, Any]:
    """PCI device id ('0x1df6', '1DF6', '1DF610DE' as nvidia-smi prints it) -> what the GPU is.

    Unknown ids give generation None (the caller reports them; nothing is guessed)."""
    text = str(device_id).strip().lower()
    text = text[2:] if text.startswith("0x") else text
    if len(text) == 8 and text.endswith("10de"):
        text = text[:4]
    entry = NVIDIA_DEVICES.get(text)
    if entry is None:
        return {
            "device_id": "0x" + text,
            "name": name,
            "chip": None,
            "generation": None,
            "compute_capability": None,
        }
    info = chip_info(entry.split()[0])
    label = _NAME.search(entry)
    return {"device_id": "0x" + text, "name": name or (label.group(1) if label else entry), **info}


def pci_gpus(devices: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """NVIDIA GPUs among PCI functions read from sysfs: {address: {vendor, device, class}} (file contents).

    Kept: vendor 0x10de and class 0x03xxxx (VGA 0x0300, 3D controller 0x0302); sorted by address. Each:
    {address, device_id, name, chip, generation, compute_capability}."""
    gpus = []
    for address in sorted(devices):
        entry = devices[address] or {}
        vendor = str(entry.get("vendor") or "").strip().lower()
        klass = str(entry.get("class") or "").strip().lower()
        if vendor != "0x10de" or not klass.startswith("0x03"):
            continue
        gpus.append({"address": address, **identify(str(entry.get("device") or ""))})
    return gpus


def gencode(capabilities: list[str | None]) -> str | None:
    """NVCC_GENCODE for the capabilities found ('9.0' -> -gencode=arch=compute_90,code=sm_90).

    None when there is none or one is unknown (nccl-tests then builds its own default list)."""
    if not capabilities or any(not cc for cc in capabilities):
        return None
    return " ".join(
        f"-gencode=arch=compute_{cc.replace('.', '')},code=sm_{cc.replace('.', '')}"
        for cc in sorted(set(capabilities), key=_key)
    )


_CODE = re.compile(r"(?<![a-z])code=(\[[^\]]*\]|[^\s,]+)")
_TARGET = re.compile(r"\b(sm|compute)_(\d+)([a-z]?)\b")


def gencode_problems(gencode_text: str | None, gpus: list[dict[str, Any]]) -> list[str]:
    """GPUs that a pinned NVCC_GENCODE builds no code for: neither sm_XY of their capability nor PTX
    (compute_AB, AB <= XY, no arch-specific suffix) that the driver can compile for them."""
    if not gencode_text:
        return []
    sms, ptx = set(), set()
    for code in _CODE.findall(gencode_text):
        for kind, number, suffix in _TARGET.findall(code):
            if kind == "sm":
                sms.add(int(number))
            elif not suffix:
                ptx.add(int(number))
    problems = []
    for gpu in _kinds(gpus):
        cc = gpu.get("compute_capability")
        if not cc:
            continue
        need = int(cc.replace(".", ""))
        if need not in sms and not any(p <= need for p in ptx):
            problems.append(
                f"NVCC_GENCODE '{gencode_text}' builds no code for {_label(gpu)}: nccl-tests would fail "
                f"with 'no kernel image is available'; fits: -gencode=arch=compute_{need},code=sm_{need}"
            )
    return problems


def _label(gpu: dict[str, Any]) -> str:
    cc = f", sm_{gpu['compute_capability'].replace('.', '')}" if gpu.get("compute_capability") else ""
    return f"{gpu.get('name') or gpu.get('device_id')} ({gpu.get('generation')}{cc})"


def _flavor_problem(gpu: dict[str, Any], gen: dict[str, Any], flavor: str | None) -> str | None:
    if flavor == "open" and not gen["open"]:
        return (
            f"{_label(gpu)} cannot run NVIDIA's open kernel modules (Turing or newer only); "
            "fits: nvidia_stack_driver_flavor: proprietary"
        )
    if flavor == "proprietary" and not gen["proprietary"]:
        return (
            f"{_label(gpu)} is driven only by the open kernel modules; fits: nvidia_stack_driver_flavor: open"
        )
    return None


def _branch_problem(gpu: dict[str, Any], gen: dict[str, Any], branch: Any) -> str | None:
    if branch in (None, ""):
        return None
    have = _key(branch)[0]
    if gen["last_branch"] is not None and have > gen["last_branch"]:
        return (
            f"{_label(gpu)} is not supported by driver branch {have}: {gpu['generation']}'s last branch is "
            f"{gen['last_branch']}; fits: branch {gen['last_branch']}"
        )
    if gen["first_branch"] is not None and have < gen["first_branch"]:
        return (
            f"{_label(gpu)} needs driver branch >= {gen['first_branch']}, but branch {have} was requested; "
            f"fits: branch {gen['first_branch']} or newer"
        )
    return None


def _cuda_problem(gpu: dict[str, Any], gen: dict[str, Any], cuda: Any) -> str | None:
    if cuda in (None, ""):
        return None
    mm = vm.cuda_mm(cuda)
    if gen["last_cuda"] is not None and _key(mm) > _key(gen["last_cuda"]):
        return (
            f"CUDA {mm} cannot build for {_label(gpu)}: CUDA {gen['last_cuda']} is the last release for "
            f"{gpu['generation']}; fits: CUDA {gen['last_cuda']} or older"
        )
    first = CAPABILITY_FIRST_CUDA.get(gpu.get("compute_capability") or "")
    if first and _key(mm) < _key(first):
        return (
            f"CUDA {mm} cannot build for {_label(gpu)}: it needs CUDA >= {first}; fits: CUDA {first} or newer"
        )
    return None


def _kinds(gpus: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One GPU per distinct (name, generation, capability), in order."""
    seen: dict[tuple, dict[str, Any]] = {}
    for gpu in gpus:
        seen.setdefault((gpu.get("name"), gpu.get("generation"), gpu.get("compute_capability")), gpu)
    return list(seen.values())


def check_gpus(
    gpus: list[dict[str, Any]], branch: Any = None, flavor: str | None = None, cuda: Any = None
) -> list[str]:
    """Requested branch / flavor / CUDA against every distinct GPU kind; [] when they all fit."""
    problems: list[str] = []
    for gpu in _kinds(gpus):
        gen = GENERATIONS.get(gpu.get("generation") or "")
        if gen is None:
            problems.append(
                f"the NVIDIA device {(gpu.get('name') + ' ') if gpu.get('name') else ''}with PCI device id {gpu.get('device_id')} is not in "
                "the GPU generation table (plugins/module_utils/gpu_pci_ids.py: regenerate it from a newer pci.ids)"
            )
            continue
        found = (
            _flavor_problem(gpu, gen, flavor),
            _branch_problem(gpu, gen, branch),
            _cuda_problem(gpu, gen, cuda),
        )
        problems += [p for p in found if p]
    return problems


def newest_branch(gpus: list[dict[str, Any]]) -> int | None:
    """Newest driver branch in the matrix that every known GPU allows (None when none does)."""
    branches = sorted({vm.driver_branch(v) for v in vm.CUDA_DRIVER_MINIMUM.values()}, reverse=True)
    known = _known(gpus)
    return next((b for b in branches if not any(_branch_problem(g, gen, b) for g, gen in known)), None)


def _known(gpus: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(GPU, its generation's row) for each distinct GPU kind in the table."""
    return [(g, GENERATIONS[g["generation"]]) for g in _kinds(gpus) if g.get("generation") in GENERATIONS]


def _refused(problem: str, pinned: list[str]) -> dict[str, Any]:
    """fit()'s answer to a pin that is not a value at all: nothing chosen, one problem."""
    return {
        "summary": problem,
        "branch": None,
        "flavor": None,
        "cuda": None,
        "gencode": None,
        "pinned": pinned,
        "as_installed": [],
        "generations": [],
        "problems": [problem],
    }


def fit(
    gpus: list[dict[str, Any]],
    branch: Any = None,
    flavor: str | None = None,
    cuda: Any = None,
    repo: str | None = None,
    installed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stack for these GPUs: the pinned values kept, each value left None chosen as the newest that fits
    (or, given ``installed`` {branch, flavor, cuda} as a read-only validation does, the installed one).

    Returns {branch, flavor, cuda, gencode, pinned: [names], problems: [...], generations: [...]}; problems
    name the GPU and what fits (a pinned value that cannot drive a GPU, or no value fitting all of them)."""
    pinned = [
        name
        for name, value in (("branch", branch), ("flavor", flavor), ("cuda", cuda))
        if value not in (None, "")
    ]
    as_installed = []
    if installed:
        taken = {"branch": branch, "flavor": flavor, "cuda": cuda}
        for name in ("branch", "flavor", "cuda"):
            if taken[name] in (None, "") and installed.get(name) not in (None, ""):
                taken[name] = installed[name]
                as_installed.append(name)
        branch, flavor, cuda = taken["branch"], taken["flavor"], taken["cuda"]
    if flavor not in (None, "", "open", "proprietary"):
        return _refused(f"the driver flavor must be open or proprietary, got '{flavor}'", pinned)
    if branch not in (None, "") and not re.fullmatch(r"\d{3}", str(branch).strip()):
        return _refused(f"the driver branch must be a number such as 580, got '{branch}'", pinned)
    gens = {g.get("generation") for g in gpus}
    chosen_flavor = flavor
    if chosen_flavor in (None, ""):
        opens = all(GENERATIONS.get(g or "", {}).get("open", True) for g in gens)
        props = all(GENERATIONS.get(g or "", {}).get("proprietary", True) for g in gens)
        chosen_flavor = "open" if opens else ("proprietary" if props else None)
    chosen_branch = int(_key(branch)[0]) if branch not in (None, "") else newest_branch(gpus)
    chosen_cuda = vm.cuda_mm(cuda) if cuda not in (None, "") else None
    if chosen_cuda is None and chosen_branch is not None:
        for candidate in sorted(vm.CUDA_DRIVER_MINIMUM, key=_key, reverse=True):
            if vm.check_cuda_driver(candidate, chosen_branch):
                continue
            if repo and vm.check_repo(repo, candidate):
                continue
            if any(_cuda_problem(g, gen, candidate) for g, gen in _known(gpus)):
                continue
            chosen_cuda = candidate
            break
    problems: list[str] = []
    kinds = sorted({_label(g) for g in gpus})
    if chosen_flavor is None:
        problems.append(
            f"no kernel-module flavor drives all of {', '.join(kinds)} on one node "
            "(open: Turing or newer; proprietary: up to Hopper)"
        )
    if chosen_branch is None:
        problems.append(f"no driver branch in the version matrix drives all of {', '.join(kinds)}")
    elif chosen_cuda is None:
        problems.append(
            f"no CUDA release in the version matrix builds for all of {', '.join(kinds)} with driver "
            f"branch {chosen_branch}" + (f" from repository {repo}" if repo else "")
        )
    problems += check_gpus(gpus, branch=chosen_branch, flavor=chosen_flavor, cuda=chosen_cuda)
    counts: dict[str, int] = {}
    for gpu in gpus:
        counts[_label(gpu)] = counts.get(_label(gpu), 0) + 1
    found = ", ".join(f"{n} x {label}" for label, n in counts.items()) or "no NVIDIA GPU on the PCI bus"
    return {
        "summary": (
            f"{found} -> driver branch {chosen_branch} ({chosen_flavor} kernel modules), CUDA {chosen_cuda}; "
            + (f"pinned: {', '.join(pinned)}" if pinned else "nothing pinned")
            + (f"; as installed: {', '.join(as_installed)}" if as_installed else "")
        ),
        "branch": chosen_branch,
        "flavor": chosen_flavor,
        "cuda": chosen_cuda,
        "gencode": gencode([g.get("compute_capability") for g in gpus]) if gpus else None,
        "pinned": pinned,
        "as_installed": as_installed,
        "generations": sorted(g for g in gens if g),
        "problems": list(dict.fromkeys(problems)),
    }
