#!/usr/bin/env python3
# FAKE InfiniBand tools (gpuforge lab/molecule): THIS IS NOT flint, mstflint, ibstat, ibswitches, iblinkinfo,
# ibportstate or sminfo. The lab nodes have no InfiniBand hardware; this one script, installed by
# lab/fake_ib.yml as /usr/local/sbin/{flint,mstflint,ibstat,ibswitches,iblinkinfo,ibportstate,sminfo}
# (symlinks, dispatched on the basename of argv[0]), prints REAL recorded outputs of those tools so that the
# role infiniband_fw can be run end to end:
#   - ibstat, ibswitches, iblinkinfo, ibportstate, sminfo: the scenario's recorded text (DATA/<tool>.txt,
#     sminfo also DATA/sminfo.rc, the exit code the real tool had); `ibstat -p` prints the "Port GUID:" values
#     of DATA/ibstat.txt as the real `ibstat -p` does.
#   - flint/mstflint: `-d DEV q|query [full]`, `-i IMAGE q|query [full]`, `-d DEV ri FILE`,
#     `-d DEV -i IMAGE [-allow_psid_change] [-y|--yes] b|burn`. A device query prints a recorded query
#     (DATA/recorded/flint/<layout>.txt) with the flash state's values; the flash state (PSID, version, the
#     image last burned) is kept per device in STATE/<id>.json, as a real flash keeps it; the running
#     version stays the old one until `flint -d DEV GPUFORGE-FAKE-RESET` (FAKE ONLY, no real flint has
#     it: it stands for the reboot or power cycle that loads the new firmware).
#   - A FAKE firmware image is a text file: first line "GPUFORGE FAKE FIRMWARE IMAGE", then JSON
#     {psid, fw_version, image_layout, device_layout, values, device_values}.
# Where an output is not a recorded one byte for byte (values substituted, lines dropped or added, an
# error no capture shows), a line starting "FAKE <tool>:" on stderr says so; stdout only carries what the
# real tool prints. Every call is logged: LOG gets "<time.time_ns()> <hostname> <tool> <argv as JSON>".
# Paths (env overrides for unit tests): GPUFORGE_FAKE_IB_DATA (default /usr/share/gpuforge-fake-ib),
# GPUFORGE_FAKE_IB_STATE (/var/lib/gpuforge-fake-ib), GPUFORGE_FAKE_IB_LOG (/var/log/gpuforge-fake-ib.log).
# Sources of every recorded text: lab/fake_ib/recorded/*.source and lab/fake_ib/<scenario>/SOURCES.md.
from __future__ import annotations

import json
import os
import re
import socket
import sys
import time

DATA = os.environ.get("GPUFORGE_FAKE_IB_DATA", "/usr/share/gpuforge-fake-ib")
STATE = os.environ.get("GPUFORGE_FAKE_IB_STATE", "/var/lib/gpuforge-fake-ib")
LOG = os.environ.get("GPUFORGE_FAKE_IB_LOG", "/var/log/gpuforge-fake-ib.log")
IMAGE_MAGIC = "GPUFORGE FAKE FIRMWARE IMAGE"
TOOLS = ("flint", "mstflint", "ibstat", "ibswitches", "iblinkinfo", "ibportstate", "sminfo")
RESET = "GPUFORGE-FAKE-RESET"
# fixtures/flint/error-failed-to-open.txt (mstflint 4.33, mstflint issue #1371): a device that cannot be
# opened.
OPEN_ERROR = "-E- Failed to open the device\n"
# flint/err_msgs.h FLINT_PSID_ERROR before mstflint commit 4261f35c (2026-03-31), as printed in the
# recorded lab/fake_ib/recorded/burn-psid-mismatch-cx4.txt; reportErr() writes "-E- " + it to stdout, rc 1.
PSID_ERROR = ("-E- PSID mismatch. The PSID on flash ({dev}) differs from the PSID in the given image "
              "({img}).\n")
# flint/subcommands.cpp checkPSID() with -allow_psid_change (recorded in burn-allow-psid-change-cx4.txt).
PSID_CHANGE = ('\n    You are about to replace current PSID on flash - "{dev}" with a different PSID - '
               '"{img}".\n'
               "    Note: It is highly recommended not to change the PSID.\n")
# flint/subcommands.cpp askUser(); with -y the answer "y" is printed after the prompt.
ASK = "\n Do you want to continue ? (y/n) [n] : "
# flint/subcommands.cpp checkFwVersion() (recorded in burn-fs2-cx3.txt and burn-fs2-same-version-cx3.txt).
VERSIONS = "\n    Current FW version on flash:  {cur}\n    New FW version:               {new}\n"
SAME = "\n    Note: The new FW version is {how} the current FW version on flash.\n"
# flint/subcommands.cpp burnFs2() for a non-failsafe flash (recorded in burn-fs2-cx3.txt).
NON_FAILSAFE = ("Burn process will not be failsafe. No checks will be performed.\n"
                "ALL flash, including the Invariant Sector will be overwritten.\n"
                "If this process fails, computer may remain in an inoperable state.\n")
# burnCbFs2Func() end of an FS2 burn (burn-fs2-cx3.txt); an FS3/FS4 (MCC flow) burn as recorded by mstflint on
# a ConnectX-4 (burn-fs3-cx4.txt).
BURN_DONE = {
    "fs2": "Burning FS2 FW image without signatures - OK\nRestoring signature                     - OK\n",
    "fs3": ("FSMST_INITIALIZE -   OK\nWriting Boot image component -   OK\n"
            "-I- To load new FW run mstfwreset or reboot machine.\n"),
}


def note(tool: str, text: str) -> None:
    sys.stderr.write(f"FAKE {tool}: {text}\n")


def log_call(tool: str, argv: list[str]) -> None:
    line = f"{time.time_ns()} {socket.gethostname()} {tool} {json.dumps(argv)}\n"
    os.makedirs(os.path.dirname(LOG) or ".", exist_ok=True)
    with open(LOG, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def read_text(*parts: str) -> str:
    with open(os.path.join(DATA, *parts), encoding="utf-8") as handle:
        return handle.read()


def not_recorded(tool: str, argv: list[str]) -> int:
    asked = " ".join(argv) or "(no arguments)"
    note(tool, f"{asked}: not recorded (this is a FAKE with recorded outputs only)")
    return 2


# --- infiniband-diags ---

def _strip_via(argv: list[str]) -> list[str] | None:
    """Drop -C CA / -P PORT (the role passes them); None when anything else is left over."""
    rest, i = [], 0
    while i < len(argv):
        if argv[i] in ("-C", "-P", "--Ca", "--Port") and i + 1 < len(argv):
            i += 2
            continue
        rest.append(argv[i])
        i += 1
    return rest


def diag(tool: str, argv: list[str]) -> int:
    try:
        return _diag(tool, argv)
    except FileNotFoundError as exc:
        note(tool, f"this FAKE scenario has no recorded output for {tool} ({exc.filename})")
        return 2


def _diag(tool: str, argv: list[str]) -> int:
    if tool == "ibportstate":  # any query: the one recorded port
        sys.stdout.write(read_text("ibportstate.txt"))
        return 0
    rest = _strip_via(argv)
    if tool == "ibstat":
        text = read_text("ibstat.txt")
        cas = re.findall(r"^CA '([^']+)'", text, re.MULTILINE)
        if rest == ["-p"]:
            sys.stdout.write("".join(f"{g}\n" for g in re.findall(r"Port GUID: (0x[0-9a-fA-F]+)", text)))
            return 0
        if rest and not (len(rest) == 1 and rest[0] in cas):
            return not_recorded(tool, argv)
        sys.stdout.write(text)
        return 0
    if rest:
        return not_recorded(tool, argv)
    sys.stdout.write(read_text(f"{tool}.txt"))
    if tool == "sminfo":
        return int(read_text("sminfo.rc").strip() or "0")
    return 0


# --- flint ---

def _devices() -> list[dict]:
    return json.loads(read_text("devices.json"))["devices"]


def find_device(name: str) -> dict | None:
    for dev in _devices():
        if name == dev["id"] or name in dev["aliases"]:
            return dev
    return None


def _state_path(dev: dict) -> str:
    return os.path.join(STATE, f"{dev['id']}.json")


def load_state(dev: dict) -> dict:
    path = _state_path(dev)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    state = dict(dev["seed"], id=dev["id"])
    state["image"] = read_text(state.pop("image_file"))
    save_state(dev, state)
    return state


def save_state(dev: dict, state: dict) -> None:
    os.makedirs(STATE, exist_ok=True)
    path = _state_path(dev)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(path + ".tmp", path)


def read_image(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    head, _, body = text.partition("\n")
    if head.strip() != IMAGE_MAGIC:
        return None
    image = json.loads(body)
    image["text"] = text
    return image


_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 ()/._-]*?):")


def _set_line(key: str, value: str) -> str:
    return f"{key}:" if value == "" else f"{key + ':':<23}{value}"


def render(layout: str, fw: str, psid: str, running: str | None, values: dict,
           omit: list) -> tuple[str, list]:
    """The recorded query ``layout`` with this flash's values; returns (text, what was changed)."""
    recorded = read_text("recorded", f"{layout}.txt")
    wanted = dict(values, **{"FW Version": fw, "PSID": psid})
    out, changes, skip = [], [], False
    for line in recorded.splitlines():
        match = _KEY.match(line)
        if not match:
            if not skip:
                out.append(line)
            continue
        key = match.group(1)
        skip = key in omit
        if skip:
            changes.append(f"dropped '{key}'")
            continue
        if key == "FW Version(Running)":
            continue  # re-added below from the state
        if key in wanted and line[len(key) + 1:].strip() != wanted[key]:
            line = _set_line(key, wanted[key])
            changes.append(f"{key} -> {wanted[key]}")
        out.append(line)
        if key == "FW Version" and running and running != fw:
            out.append(_set_line("FW Version(Running)", running))
    text = "\n".join(out) + "\n"
    old_running = re.search(r"^FW Version\(Running\):\s*(.*)$", recorded, re.MULTILINE)
    if (old_running.group(1) if old_running else None) != (running if running and running != fw else None):
        how = f"set to {running}" if running and running != fw else "removed"
        changes.append(f"FW Version(Running) line {how}")
    return text, changes


def _query(tool: str, layout: str, fw: str, psid: str, running: str | None, values: dict, omit: list) -> int:
    text, changes = render(layout, fw, psid, running, values, omit)
    sys.stdout.write(text)
    if changes:
        note(tool, f"query output derived from the recorded {layout} ({'; '.join(changes)})")
    return 0


def _parse_flint(argv: list[str]) -> dict | None:
    opts = {"device": None, "image": None, "allow_psid_change": False, "yes": False, "cmd": []}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-d", "--device", "-device") and i + 1 < len(argv):
            opts["device"] = argv[i + 1]
            i += 2
            continue
        if arg in ("-i", "--image", "-image") and i + 1 < len(argv):
            opts["image"] = argv[i + 1]
            i += 2
            continue
        if arg in ("-allow_psid_change", "--allow_psid_change"):
            opts["allow_psid_change"] = True
        elif arg in ("-y", "--yes", "-yes"):
            opts["yes"] = True
        elif arg.startswith("-"):
            return None
        else:
            opts["cmd"].append(arg)
        i += 1
    return opts


def _ask(yes: bool) -> bool:
    sys.stdout.write(ASK)
    if yes:
        sys.stdout.write("y\n")
        return True
    sys.stdout.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer in ("y", "yes"):
        return True
    sys.stdout.write("-E- Aborted by user\n")  # flint/err_msgs.h USER_ABORT via reportErr()
    return False


def burn(tool: str, dev: dict, state: dict, image: dict, opts: dict) -> int:
    """The checks and prints of flint's BurnSubCommand (burnFs2 order: versions, PSID, failsafe, burn)."""
    cur, new = state["fw_version"], image["fw_version"]
    sys.stdout.write(VERSIONS.format(cur=cur, new=new))
    key = [tuple(int(x) for x in v.split(".")) for v in (cur, new)]
    if key[0] >= key[1]:
        sys.stdout.write(SAME.format(how="the same as" if key[0] == key[1] else "older than"))
        if not _ask(opts["yes"]):
            return 7  # FLINT_BURN_ABORTED
    sys.stdout.write("\n")
    if image["psid"] != state["psid"]:
        if not opts["allow_psid_change"]:
            sys.stdout.write("\n" + PSID_ERROR.format(dev=state["psid"], img=image["psid"]))
            return 1
        if state.get("secure_fw"):
            note(tool, (f"secure firmware (Security Attributes: secure-fw) on {opts['device']} refuses "
                        f"an image of another PSID ({state['psid']} -> {image['psid']}); nothing was "
                        "burned. The real error text for this case was not found in a recorded output: "
                        "this message is the fake's own"))
            return 1
        sys.stdout.write(PSID_CHANGE.format(dev=state["psid"], img=image["psid"]))
        if not _ask(opts["yes"]):
            return 1
    if not state.get("failsafe", True):
        sys.stdout.write(NON_FAILSAFE)
        if not _ask(opts["yes"]):
            return 1
    sys.stdout.write(BURN_DONE[state.get("burn_output", "fs2")])
    state.update(psid=image["psid"], fw_version=new, image=image["text"],
                 layout=image.get("device_layout") or state["layout"],
                 values=image.get("device_values", state.get("values", {})),
                 omit=image.get("device_omit", state.get("omit", [])))
    state.setdefault("running_fw_version", cur)
    save_state(dev, state)
    note(tool, f"burn output: the recorded texts with this burn's versions/PSIDs; the FAKE flash of "
               f"{dev['id']} now holds {image['psid']} {new}, running {state['running_fw_version']} until "
               f"'{tool} -d {opts['device']} {RESET}' (fake only)")
    return 0


def flint(tool: str, argv: list[str]) -> int:
    opts = _parse_flint(argv)
    if opts is None or not opts["cmd"]:
        return not_recorded(tool, argv)
    cmd, args = opts["cmd"][0], opts["cmd"][1:]
    dev = state = None
    if opts["device"] is not None:
        dev = find_device(opts["device"])
        if dev is None:
            sys.stdout.write(OPEN_ERROR)
            note(tool, f"no device '{opts['device']}' in this FAKE scenario")
            return 1
        state = load_state(dev)
    image = None
    if opts["image"] is not None:
        image = read_image(opts["image"])
        if image is None:
            if not os.path.exists(opts["image"]):
                sys.stdout.write(f"-E- Cannot open {opts['image']}: No such file or directory\n")
            note(tool, f"{opts['image']} is not a GPUFORGE FAKE FIRMWARE IMAGE (this FAKE reads only those)")
            return 1
    if cmd in ("q", "query") and args in ([], ["full"]):
        if dev is not None and image is None:
            return _query(tool, state["layout"], state["fw_version"], state["psid"],
                          state.get("running_fw_version"), state.get("values", {}), state.get("omit", []))
        if image is not None and dev is None:
            return _query(tool, image["image_layout"], image["fw_version"], image["psid"], None,
                          image.get("values", {}), image.get("omit", []))
    elif cmd == "ri" and dev is not None and image is None and len(args) == 1:
        with open(args[0], "w", encoding="utf-8") as handle:
            handle.write(state["image"])
        note(tool, f"wrote the FAKE image of {dev['id']} ({state['psid']} {state['fw_version']}) "
                   f"to {args[0]}")
        return 0
    elif cmd in ("b", "burn") and dev is not None and image is not None and not args:
        return burn(tool, dev, state, image, opts)
    elif cmd == RESET and dev is not None and image is None and not args:
        state["running_fw_version"] = state["fw_version"]
        save_state(dev, state)
        note(tool, f"{RESET} (fake only): {dev['id']} now runs {state['fw_version']}, as after a reboot")
        return 0
    return not_recorded(tool, argv)


def main(argv: list[str]) -> int:
    tool = os.path.basename(argv[0])
    if tool.endswith(".py"):
        tool = tool[:-3]
    if tool not in TOOLS:
        sys.stderr.write(f"FAKE InfiniBand tools: called as '{tool}', expected one of {', '.join(TOOLS)}\n")
        return 2
    log_call(tool, argv[1:])
    if tool in ("flint", "mstflint"):
        return flint(tool, argv[1:])
    return diag(tool, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
