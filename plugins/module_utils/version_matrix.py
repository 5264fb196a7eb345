# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NVIDIA driver / CUDA / NCCL version matrix (data) and the checks over it (pure functions).

Used by the ``version_matrix`` filters (role preflight and verify) and the unit tests. Every check
returns a list of problems, each one sentence naming both versions and what would fit; an empty
list means the combination is fine.

Sources (checked 2026-11):
- CUDA_DRIVER_MINIMUM: NVIDIA CUDA Toolkit Release Notes, "CUDA Toolkit and Corresponding Driver
  Versions" (Table 3, Linux x86_64 "Toolkit Driver Version" column, GA releases),
  https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html and the per-release archive
  pages https://docs.nvidia.com/cuda/archive/<X.Y.Z>/cuda-toolkit-release-notes/. These are the
  drivers a toolkit needs for its full feature set; with an older driver of the same CUDA major
  (down to CUDA_MINOR_COMPAT_MINIMUM) only minor-version compatibility applies and newer PTX and
  features fail with "the provided PTX was compiled with an unsupported toolchain".
- CUDA_MINOR_COMPAT_MINIMUM: same release notes, "CUDA Toolkit and Minimum Required Driver Version
  for CUDA Minor Version Compatibility" (12.x: >= 525.60.13; 13.x: >= 580), and NVIDIA's data
  center support matrix
  https://docs.nvidia.com/datacenter/tesla/drivers/supported-drivers-and-cuda-toolkit-versions.html
  (R535 and R570 support CUDA 12.x, R580 supports CUDA 13.x, through minor version compatibility).
- NCCL_BUILDS: package versions ``libnccl2``/``libnccl-dev`` published in NVIDIA's CUDA apt
  repositories (``<nccl>-1+cuda<A.B>``); 2.28.3-1+cuda13.0 is installed on the GPU test machine.
  The list is the set known to this collection, not every build NVIDIA published: a version that is
  not listed still passes when its CUDA major matches (the rule that prevents "named symbol not found").
- CUDA_REPOS: https://developer.download.nvidia.com/compute/cuda/repos/<id>/x86_64/ with
  cuda-keyring_1.1-1_all.deb; the first CUDA release each repository carries.
"""

from __future__ import annotations

import re
from typing import Any

# CUDA major.minor -> the GA toolkit's minimum Linux x86_64 driver (full feature set).
CUDA_DRIVER_MINIMUM: dict[str, str] = {
    "12.0": "525.60.13",
    "12.1": "530.30.02",
    "12.2": "535.54.03",
    "12.3": "545.23.06",
    "12.4": "550.54.14",
    "12.5": "555.42.02",
    "12.6": "560.28.03",
    "12.8": "570.26",
    "12.9": "575.51.03",
    "13.0": "580.65.06",
}

# CUDA major -> minimum driver for minor version compatibility (PTX JIT and newest features excluded).
CUDA_MINOR_COMPAT_MINIMUM: dict[str, str] = {"12": "525.60.13", "13": "580.65.06"}

# CUDA major.minor of the build -> libnccl2 package versions known in NVIDIA's repositories.
NCCL_BUILDS: dict[str, list[str]] = {
    "12.2": ["2.18.3-1+cuda12.2", "2.19.3-1+cuda12.2"],
    "12.4": ["2.20.5-1+cuda12.4", "2.21.5-1+cuda12.4"],
    "12.6": ["2.22.3-1+cuda12.6", "2.23.4-1+cuda12.6"],
    "12.8": ["2.25.1-1+cuda12.8", "2.26.2-1+cuda12.8"],
    "12.9": ["2.27.3-1+cuda12.9", "2.28.3-1+cuda12.9"],
    "13.0": ["2.27.7-1+cuda13.0", "2.28.3-1+cuda13.0"],
}

# NVIDIA CUDA apt repository id -> distribution, version and the first CUDA release it carries.
CUDA_REPOS: dict[str, dict[str, str]] = {
    "ubuntu2204": {"distribution": "Ubuntu", "version": "22.04", "min_cuda": "11.7"},
    "ubuntu2404": {"distribution": "Ubuntu", "version": "24.04", "min_cuda": "12.5"},
    "debian12": {"distribution": "Debian", "version": "12", "min_cuda": "12.2"},
}

_MM = re.compile(r"^(\d+)\.(\d+)")
_NCCL_PKG = re.compile(r"^(?P<nccl>\d+\.\d+\.\d+)-(?P<rev>[^+]+)\+cuda(?P<cuda>\d+\.\d+)$")
_PROC = re.compile(r"Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)\s")


def version_key(version: Any) -> tuple[int, ...]:
    """'580.159.04' -> (580, 159, 4): versions compared as numbers (gpu_generations uses it too)."""
    return tuple(int(p) for p in re.findall(r"\d+", str(version)))


_key = version_key


def cuda_mm(version: Any) -> str:
    """'12.6.3' / 12.6 / '12.6' -> '12.6'; ValueError when it is no CUDA version."""
    text = str(version).strip()
    match = _MM.match(text)
    if not match:
        raise ValueError(f"'{version}' is not a CUDA version such as 12.6")
    return f"{int(match.group(1))}.{int(match.group(2))}"


def upstream_version(debian_version: str) -> str:
    """'580.159.04-0ubuntu1' -> '580.159.04'; '1:2.3-1' -> '2.3'."""
    text = str(debian_version).split(":", 1)[-1]
    return text.rsplit("-", 1)[0] if "-" in text else text


def driver_branch(version: Any) -> int:
    """'580.159.04' or 580 -> 580."""
    return _key(version)[0]


def nccl_package(version: str) -> dict[str, str]:
    """'2.28.3-1+cuda13.0' -> {'nccl': '2.28.3', 'revision': '1', 'cuda': '13.0'}."""
    match = _NCCL_PKG.match(str(version).strip())
    if not match:
        raise ValueError(f"'{version}' is not a libnccl2 package version such as 2.28.3-1+cuda13.0")
    return {"nccl": match.group("nccl"), "revision": match.group("rev"), "cuda": match.group("cuda")}


def parse_proc_driver_version(text: str) -> str | None:
    """Version of the LOADED kernel module from /proc/driver/nvidia/version, None when absent."""
    match = _PROC.search(text or "")
    return match.group(1) if match else None


def min_branch(cuda: Any) -> int:
    """Lowest driver branch that runs the toolkit with its full feature set."""
    return driver_branch(CUDA_DRIVER_MINIMUM[cuda_mm(cuda)])


def check_cuda_driver(cuda: Any, driver: Any) -> list[str]:
    """Requested CUDA toolkit against a driver branch (580) or full driver version (580.159.04)."""
    try:
        mm = cuda_mm(cuda)
    except ValueError as exc:
        return [str(exc)]
    if mm not in CUDA_DRIVER_MINIMUM:
        known = ", ".join(CUDA_DRIVER_MINIMUM)
        return [f"CUDA {mm} is not in the version matrix (known: {known}); add it with its driver minimum"]
    need = CUDA_DRIVER_MINIMUM[mm]
    is_branch = "." not in str(driver).strip()
    have = _key(driver)
    if not have:
        return [f"driver '{driver}' is not a driver version or branch such as 580"]
    ok = have[0] >= driver_branch(need) if is_branch else have >= _key(need)
    if ok:
        return []
    fits = sorted({driver_branch(v) for v in CUDA_DRIVER_MINIMUM.values() if _key(v) >= _key(need)})
    what = f"driver branch {have[0]}" if is_branch else f"driver {driver}"
    older = [k for k, v in CUDA_DRIVER_MINIMUM.items() if _key(v)[0] <= have[0]]
    return [
        f"CUDA {mm} needs driver branch >= {driver_branch(need)} (>= {need}), but {what} was requested/found; "
        f"fits: driver branch {', '.join(map(str, fits))}"
        + (f", or CUDA {older[-1]} with this driver" if older else "")
    ]


def check_nccl_cuda(nccl_version: str, cuda: Any, driver_cuda: Any = None) -> list[str]:
    """libnccl2 package version against the toolkit's CUDA (same major) and the driver's CUDA (not older)."""
    try:
        pkg = nccl_package(nccl_version)
        mm = cuda_mm(cuda)
    except ValueError as exc:
        return [str(exc)]
    problems = []
    if _key(pkg["cuda"])[0] != _key(mm)[0]:
        same_major = [
            b for k, v in NCCL_BUILDS.items() if _key(k)[0] == _key(mm)[0] and _key(k) <= _key(mm) for b in v
        ]
        fits = ", ".join(same_major[-3:]) or f"a build with +cuda{_key(mm)[0]}.x"
        problems.append(
            f"libnccl2 {nccl_version} is built for CUDA {pkg['cuda']} but the CUDA toolkit is {mm} "
            f"(CUDA majors must match); fits: {fits}"
        )
    elif _key(pkg["cuda"]) > _key(mm):
        problems.append(
            f"libnccl2 {nccl_version} is built for CUDA {pkg['cuda']}, newer than the CUDA toolkit {mm}; "
            f"use a +cuda{mm} (or older {_key(mm)[0]}.x) build"
        )
    if driver_cuda not in (None, ""):
        try:
            dmm = cuda_mm(driver_cuda)
        except ValueError as exc:
            return [*problems, str(exc)]
        if _key(pkg["cuda"]) > _key(dmm) and _key(pkg["cuda"])[0] != _key(dmm)[0]:
            problems.append(
                f"libnccl2 {nccl_version} needs CUDA {pkg['cuda']} but the loaded driver supports CUDA {dmm} "
                f"at most; upgrade the driver (CUDA {pkg['cuda']} needs branch >= "
                f"{min_branch(pkg['cuda']) if cuda_mm(pkg['cuda']) in CUDA_DRIVER_MINIMUM else '?'})"
            )
    return problems


def check_repo(repo: str, cuda: Any) -> list[str]:
    """NVIDIA repository id (ubuntu2404, ...) against the requested CUDA release."""
    if repo not in CUDA_REPOS:
        return [f"no NVIDIA CUDA repository '{repo}' in the version matrix (known: {', '.join(CUDA_REPOS)})"]
    try:
        mm = cuda_mm(cuda)
    except ValueError as exc:
        return [str(exc)]
    first = CUDA_REPOS[repo]["min_cuda"]
    if _key(mm) < _key(first):
        return [f"CUDA {mm} is not published for {repo} (it starts at CUDA {first}); request CUDA >= {first}"]
    return []


def check_all(
    cuda: Any = None, driver: Any = None, nccl: Any = None, repo: Any = None, driver_cuda: Any = None
) -> list[str]:
    """Every check that the given values allow; None skips a value."""
    problems: list[str] = []
    if cuda not in (None, "") and driver not in (None, ""):
        problems += check_cuda_driver(cuda, driver)
    if cuda not in (None, "") and repo not in (None, ""):
        problems += check_repo(str(repo), cuda)
    if nccl not in (None, "") and cuda not in (None, ""):
        problems += check_nccl_cuda(str(nccl), cuda, driver_cuda)
    return problems


_DRIVER_PKG = re.compile(r"^(?P<name>libnvidia-compute|nvidia-driver)-(?P<branch>\d{3})(?P<variant>-server)?(?P<open>-open)?$")


def installed_driver(packages: dict[str, str], proc_text: str | None = None) -> dict[str, Any]:
    """The NVIDIA driver a host has, from installed package versions and /proc/driver/nvidia/version.

    {'branch': 580, 'flavor': 'open'|'proprietary'|None, 'version': '580.159.04'|None, 'loaded': '580.159.04'|None}:
    branch and version from libnvidia-compute-NNN / nvidia-driver-NNN[-open] (Ubuntu) or libcuda1 (Debian),
    else the loaded module; flavor from which driver package is installed (nvidia-driver-NNN-open or
    nvidia-open: open; nvidia-driver-NNN or cuda-drivers: proprietary), else the loaded module's banner."""
    branch = version = flavor = None
    for name in sorted(packages or {}):
        match = _DRIVER_PKG.match(str(name))
        if not match:
            continue
        branch = int(match.group("branch"))
        version = version or upstream_version(packages[name])
        if match.group("name") == "nvidia-driver":
            flavor = "open" if match.group("open") else (flavor or "proprietary")
    # NVIDIA's Debian repositories: names without the branch (libcuda1 carries the driver version).
    if branch is None and (packages or {}).get("libcuda1"):
        version = upstream_version(packages["libcuda1"])
        branch = driver_branch(version)
    if flavor is None and (packages or {}).get("nvidia-open"):
        flavor = "open"
    elif flavor is None and (packages or {}).get("cuda-drivers"):
        flavor = "proprietary"
    loaded = parse_proc_driver_version(proc_text or "")
    if loaded and branch is None:
        branch, version = driver_branch(loaded), loaded
    if flavor is None and proc_text:
        flavor = "open" if "Open Kernel Module" in proc_text else ("proprietary" if loaded else None)
    return {"branch": branch, "flavor": flavor, "version": version, "loaded": loaded}


# NVIDIA driver packages as Ubuntu (branch in the name) and Debian (no branch) name them.
_DRIVER_FAMILY = re.compile(
    r"^(?:nvidia-(?:driver|dkms|kernel-common|kernel-source|utils|compute-utils|firmware|headless|headless-no-dkms)"
    r"-\d{3}(?:-server)?(?:-open)?|libnvidia-(?:compute|gl|decode|encode|extra|fbc1|cfg1|common)-\d{3}(?:-server)?"
    r"|nvidia-open|cuda-drivers(?:-\d{3})?|nvidia-driver|nvidia-kernel-(?:open-)?dkms|libcuda1)$"
)


def driver_origin(version: str) -> str:
    """Where an installed NVIDIA driver package came from, read from its Debian version.

    '550.78-0ubuntu0~gpu24.04.1' -> 'the graphics-drivers PPA'; '535.183.01-0ubuntu0.24.04.1' -> "Ubuntu's
    archive"; '535.216.01-1~deb12u1' -> "Debian's archive"; '580.65.06-0ubuntu1', '580.95.05-1' -> "NVIDIA's
    repository" (a Debian testing/unstable build without a ~debNuM suffix is not told apart from NVIDIA's)."""
    text = str(version)
    if "~gpu" in text:
        return "the graphics-drivers PPA"
    if re.search(r"-0ubuntu0\.\d", text):
        return "Ubuntu's archive"
    if re.search(r"[~+]deb\d+u\d+", text):
        return "Debian's archive"
    return "NVIDIA's repository"


def foreign_driver_packages(packages: dict[str, str]) -> dict[str, str]:
    """Installed NVIDIA driver packages that do not come from NVIDIA's repository: {name: 'version (origin)'}."""
    found = {}
    for name in sorted(packages or {}):
        if _DRIVER_FAMILY.match(str(name)):
            origin = driver_origin(packages[name])
            if origin != "NVIDIA's repository":
                found[name] = f"{packages[name]} ({origin})"
    return found


_KERNEL_IMAGE = re.compile(r"^linux-image-(?:unsigned-)?(\d+\.\d+\S*)$")


def kernel_headers(packages: dict[str, str], running: str) -> dict[str, Any]:
    """Headers a DKMS driver build needs: the running kernel's and, when a newer kernel image is installed, the
    one that will boot. {'packages': [...], 'problems': [...]}: a running kernel without a linux-image package
    (a custom or provider kernel) has no headers package to install."""
    images = sorted({m.group(1) for m in (_KERNEL_IMAGE.match(str(n)) for n in packages or {}) if m}, key=_key)
    names = [f"linux-headers-{running}"]
    if images and _key(images[-1]) > _key(running):
        names.append(f"linux-headers-{images[-1]}")
    problems = []
    if running not in images:
        problems.append(
            f"the running kernel {running} was not installed from a package (no linux-image-{running}), so "
            f"linux-headers-{running} cannot be installed and DKMS cannot build the NVIDIA module for it; boot a "
            "distribution kernel, or install its headers and dkms yourself and set nvidia_stack_kernel_headers: false"
        )
    return {"packages": names, "problems": problems}


_TOOLKIT_PKG = re.compile(r"^cuda-(?:toolkit|nvcc|cudart|libraries)-(\d+)-(\d+)$")


def toolkits_from_packages(packages: dict[str, str]) -> list[str]:
    """{'cuda-toolkit-13-0': '13.0.2-1', 'cuda-nvcc-12-8': ...} -> ['12.8', '13.0'] (sorted, distinct)."""
    found = set()
    for name in packages or {}:
        match = _TOOLKIT_PKG.match(str(name))
        if match:
            found.add(f"{int(match.group(1))}.{int(match.group(2))}")
    return sorted(found, key=_key)
