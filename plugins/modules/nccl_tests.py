# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: nccl_tests
short_description: Run an nccl-tests benchmark and judge the parsed result
version_added: 0.2.0
description:
  - Runs one nccl-tests binary (C(all_reduce_perf), ...) on this host's GPUs (C(-g N)), or across nodes
    through C(mpirun) with a generated hostfile and C(-x) for every environment variable, parses the
    output with the collection's nccl-tests parser and checks it.
  - "Checks: C(#wrong) is 0 (O(max_wrong)); the bus bandwidth at the largest size is at least
    O(min_busbw_gbps) (skipped with one rank, where nccl-tests prints 0); the transports NCCL used
    include O(expect_transports) and none of O(forbid_transports) (needs C(NCCL_DEBUG=INFO), set by default)."
  - Never changes the host (beside the optional O(log) and the hostfile); in check mode it does not run.
author:
  - gpuforge.cluster maintainers (@gpuforge)
options:
  binary:
    description: Path (or name on PATH) of the nccl-tests binary, for example C(/opt/nccl-tests/build/all_reduce_perf).
    type: str
    default: all_reduce_perf
  gpus:
    description: GPUs per process (C(-g)).
    type: int
    default: 1
  min_bytes:
    description: Smallest message size (C(-b)).
    type: str
    default: "8"
  max_bytes:
    description: Largest message size (C(-e)).
    type: str
    default: 128M
  step_factor:
    description: Size multiplication factor (C(-f)).
    type: int
    default: 2
  iters:
    description: Iterations per size (C(-n)); the binary's default when unset.
    type: int
  extra_args:
    description: More arguments for the binary.
    type: list
    elements: str
    default: []
  hosts:
    description:
      - Run through C(mpirun) on these hosts (one process per O(slots_per_host) on each); empty runs locally.
    type: list
    elements: str
    default: []
  slots_per_host:
    description: Processes per host in the generated hostfile.
    type: int
    default: 1
  mpirun:
    description: Path or name of mpirun.
    type: str
    default: mpirun
  mpirun_args:
    description: More arguments for mpirun (for example C(--mca btl_tcp_if_include 10.0.0.0/24)).
    type: list
    elements: str
    default: []
  hostfile:
    description: Where to write the generated hostfile; a temporary file when unset.
    type: path
  env:
    description: Environment for the run; with mpirun each is also exported to every rank with C(-x).
    type: dict
    default: {}
  timeout:
    description: Seconds before the run is killed.
    type: int
    default: 600
  max_wrong:
    description: Largest acceptable C(#wrong) total.
    type: int
    default: 0
  min_busbw_gbps:
    description: Smallest acceptable bus bandwidth (GB/s) at the largest size; no check when unset.
    type: float
  expect_transports:
    description: Transport prefixes that must appear (C(NET/IB) when RDMA is expected, C(P2P) within a node).
    type: list
    elements: str
    default: []
  forbid_transports:
    description: Transport prefixes that must not appear (C(NET/Socket) when RDMA is expected).
    type: list
    elements: str
    default: []
  expectation:
    description:
      - "What this hardware should show (the C(gpuforge.cluster.nccl_intra_expectation) or C(nccl_inter_expectation)
        filter). C(transport) must appear, C(forbid) must not, C(gdr) requires GDRDMA, and busbw at the largest size
        must reach C(floor_gbps). Each failing check names what was expected, why, and what the run showed."
    type: dict
  log:
    description: Write the raw output to this path on the host.
    type: path
  output:
    description: Parse and judge this text instead of running anything.
    type: str
  fail_on_check:
    description: Fail the task when a check fails (the result is returned either way).
    type: bool
    default: true
extends_documentation_fragment: []
attributes: {}
notes:
  - Supports C(check_mode) by not running the test.
seealso:
  - module: gpuforge.cluster.nvidia_smi_facts
"""

EXAMPLES = r"""
- name: All-reduce on the 8 GPUs of this node
  gpuforge.cluster.nccl_tests:
    binary: /opt/nccl-tests/build/mpi0/all_reduce_perf
    gpus: 8
    expect_transports: [P2P]

- name: All-reduce across the nodes over InfiniBand
  gpuforge.cluster.nccl_tests:
    binary: /opt/nccl-tests/build/mpi1/all_reduce_perf_mpi
    hosts: [node1, node2]
    env: {NCCL_IB_HCA: mlx5_0}
    min_busbw_gbps: 20
    expect_transports: [NET/IB]
    forbid_transports: [NET/Socket]
"""

RETURN = r"""
result:
  description:
    - The parsed output - C(rows) (per size - size_bytes, count, type, redop, root, oop_time_us, oop_algbw_gbps,
      oop_busbw_gbps, oop_wrong, ip_time_us, ip_algbw_gbps, ip_busbw_gbps, ip_wrong; oop_error and ip_error in
      the old layout), C(avg_busbw_gbps), C(wrong_total), C(out_of_bounds), C(ranks) (rank, host, device, name)
      and C(transports) (what NCCL printed after "via", in order of first appearance); see docs/facts.md.
  returned: when the output parsed
  type: dict
size_max_bytes:
  description: The largest size measured.
  returned: when the output parsed
  type: int
busbw_max_size_gbps:
  description: Out-of-place bus bandwidth at the largest size (in-place when out-of-place is missing, 0.0
    when neither is).
  returned: when the output parsed
  type: float
algbw_max_size_gbps:
  description: Out-of-place algorithm bandwidth at the largest size (in-place when out-of-place is missing, 0.0
    when neither is).
  returned: when the output parsed
  type: float
expectation:
  description: The I(expectation) the run was judged against (null when none was given).
  returned: when the output parsed
  type: dict
min_busbw_gbps:
  description: The I(min_busbw_gbps) the run was judged against (null when none was given).
  returned: when the output parsed
  type: float
checks:
  description:
    - One entry per check with C(name), C(ok) (true, false or null when skipped) and C(msg).
    - Empty in check mode and when the run failed or its output did not parse.
  returned: always
  type: list
  elements: dict
cmd:
  description: The command run - C(timeout --kill-after=10 TIMEOUT), then the binary or mpirun and the binary.
  returned: when run
  type: list
  elements: str
rc:
  description: Exit status of the run (124 or 137 when the timeout ended it).
  returned: when run
  type: int
stdout:
  description: The end of what the run printed (4000 characters at most).
  returned: when the run failed
  type: str
stderr:
  description: The end of what the run printed on stderr (4000 characters at most).
  returned: when the run failed
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils import nccl_expect
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.nccl_tests import parse_nccl_tests
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import find_tool, run_tool


def build_argv(p, binary, mpirun=None, hostfile=None):
    args = [
        binary,
        "-b",
        p["min_bytes"],
        "-e",
        p["max_bytes"],
        "-f",
        str(p["step_factor"]),
        "-g",
        str(p["gpus"]),
    ]
    if p["iters"]:
        args += ["-n", str(p["iters"])]
    args += p["extra_args"]
    if not p["hosts"]:
        return args
    np_ = len(p["hosts"]) * p["slots_per_host"]
    pre = [mpirun, "-np", str(np_), "--hostfile", hostfile]
    for name in sorted(p["env"]):
        pre += ["-x", name]
    return pre + p["mpirun_args"] + args


def judge(parsed, p):
    """Checks over a parsed result -> (checks, figures)."""
    rows = parsed["rows"]
    last = max(rows, key=lambda r: r["size_bytes"])
    # Out-of-place figures (what nccl-tests summaries quote); in-place when out-of-place is missing.
    bus = next((v for v in (last["oop_busbw_gbps"], last["ip_busbw_gbps"]) if v is not None), 0.0)
    alg = next((v for v in (last["oop_algbw_gbps"], last["ip_algbw_gbps"]) if v is not None), 0.0)
    figures = {"size_max_bytes": last["size_bytes"], "busbw_max_size_gbps": bus, "algbw_max_size_gbps": alg}
    checks = [
        {
            "name": "wrong",
            "ok": parsed["wrong_total"] <= p["max_wrong"],
            "msg": f"#wrong total {parsed['wrong_total']} (at most {p['max_wrong']})",
        }
    ]
    nranks = len(parsed["ranks"]) or None
    if p["min_busbw_gbps"] is None:
        checks.append(
            {
                "name": "busbw",
                "ok": None,
                "msg": f"busbw {bus} GB/s at {last['size_bytes']} B; no minimum set",
            }
        )
    elif nranks == 1:
        checks.append(
            {
                "name": "busbw",
                "ok": None,
                "msg": f"one rank: nccl-tests prints busbw {bus}; algbw {alg} GB/s at {last['size_bytes']} B",
            }
        )
    else:
        checks.append(
            {
                "name": "busbw",
                "ok": bus >= p["min_busbw_gbps"],
                "msg": f"busbw {bus} GB/s at {last['size_bytes']} B (at least {p['min_busbw_gbps']})",
            }
        )
    used = parsed["transports"]
    for want in p["expect_transports"]:
        checks.append(
            {
                "name": f"transport {want}",
                "ok": any(t.startswith(want) for t in used),
                "msg": f"expected {want}; NCCL used {used or 'no inter-rank transport'}",
            }
        )
    for bad in p["forbid_transports"]:
        checks.append(
            {
                "name": f"no transport {bad}",
                "ok": not any(t.startswith(bad) for t in used),
                "msg": f"must not use {bad}; NCCL used {used or 'no inter-rank transport'}",
            }
        )
    if p.get("expectation"):
        checks += nccl_expect.judge(p["expectation"], used, bus, nranks or 0)
    return checks, figures


def main():
    module = AnsibleModule(
        argument_spec={
            "binary": {"type": "str", "default": "all_reduce_perf"},
            "gpus": {"type": "int", "default": 1},
            "min_bytes": {"type": "str", "default": "8"},
            "max_bytes": {"type": "str", "default": "128M"},
            "step_factor": {"type": "int", "default": 2},
            "iters": {"type": "int"},
            "extra_args": {"type": "list", "elements": "str", "default": []},
            "hosts": {"type": "list", "elements": "str", "default": []},
            "slots_per_host": {"type": "int", "default": 1},
            "mpirun": {"type": "str", "default": "mpirun"},
            "mpirun_args": {"type": "list", "elements": "str", "default": []},
            "hostfile": {"type": "path"},
            "env": {"type": "dict", "default": {}},
            "timeout": {"type": "int", "default": 600},
            "max_wrong": {"type": "int", "default": 0},
            "min_busbw_gbps": {"type": "float"},
            "expect_transports": {"type": "list", "elements": "str", "default": []},
            "forbid_transports": {"type": "list", "elements": "str", "default": []},
            "expectation": {"type": "dict"},
            "log": {"type": "path"},
            "output": {"type": "str"},
            "fail_on_check": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    p["env"] = {str(k): str(v) for k, v in p["env"].items()}
    p["env"].setdefault("NCCL_DEBUG", "INFO")
    run = {}
    text = p["output"]
    if text is None:
        if module.check_mode:
            module.exit_json(changed=False, skipped=True, msg="check mode: the test was not run", checks=[])
        binary = find_tool(module, p["binary"], "nccl-tests (the nccl role builds it)")
        mpirun = hostfile = None
        if p["hosts"]:
            mpirun = find_tool(module, p["mpirun"], "OpenMPI (the openmpi role)")
            hostfile = p["hostfile"] or tempfile.mkstemp(prefix="nccl-tests-hosts-")[1]
            with open(hostfile, "w") as handle:
                handle.writelines(f"{h} slots={p['slots_per_host']}\n" for h in p["hosts"])
        rc, out, err, argv = run_tool(module, "timeout", ["--kill-after=10", str(p["timeout"]),
                                                          *build_argv(p, binary, mpirun, hostfile)],
                                      "coreutils", env=p["env"])
        text = out + ("\n" + err if err else "")
        run = {"cmd": argv, "rc": rc}
        if p["log"]:
            with open(p["log"], "w") as handle:
                handle.write(text)
        if hostfile and not p["hostfile"]:
            os.unlink(hostfile)
        if rc != 0:
            why = ""
            try:
                parse_nccl_tests(text)
            except ParseError as exc:  # name the line where the run broke (Test NCCL failure, Cuda failure...)
                why = f": {exc}"
            module.fail_json(
                msg=f"{os.path.basename(binary)} failed (rc={rc}{', timed out' if rc in (124, 137) else ''}){why}",
                stdout=out[-4000:],
                stderr=err[-4000:],
                checks=[],
                **run,
            )
    try:
        parsed = parse_nccl_tests(text)
    except ParseError as exc:
        module.fail_json(msg=f"cannot parse the nccl-tests output: {exc}", checks=[], **run)
    checks, figures = judge(parsed, p)
    failed = [c["msg"] for c in checks if c["ok"] is False]
    # What it was judged against, returned with the verdicts (the validation report draws the floor).
    result = dict(changed=False, result=parsed, checks=checks, expectation=p["expectation"],
                  min_busbw_gbps=p["min_busbw_gbps"], **figures, **run)
    if failed and p["fail_on_check"]:
        module.fail_json(msg="; ".join(failed), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
