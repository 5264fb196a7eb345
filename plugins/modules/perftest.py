# Copyright: (c) 2026, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: perftest
short_description: Run one side of a perftest RDMA benchmark on a chosen HCA port and GID index
version_added: 0.3.0
description:
  - Runs C(ib_write_bw), C(ib_write_lat), C(ib_read_bw), C(ib_read_lat), C(ib_send_bw) or C(ib_send_lat)
    (linux-rdma/perftest) with C(--ib-dev DEVICE --ib-port PORT [--gid-index N]) and C(LC_ALL=C) under
    C(timeout --kill-after=5), as the server (no O(server)) or as the client of O(server), parses the result
    table and returns it with the bandwidth in Gb/s or the latency in microseconds.
  - Take O(device), O(ib_port) and O(gid_index) from the live choice (the C(gpuforge.cluster.rdma_hca_choice)
    filter), never from inventory; on InfiniBand leave O(gid_index) out.
  - On failure names the device, port, GID index and server, and the cause from perftest's own messages
    (C(reason)).
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Never changes the host; in check mode it does not run (parsing O(output) or O(src) still happens).
  - "Start the server first and leave it running while the client runs: an C(async) task with C(poll: 0),
    then the client task, then C(async_status) on the server's job to collect its result. Both sides need
    the same O(test), O(duration), O(size) and O(port) (perftest calls them SYMMETRIC); each side uses its
    own device, port and GID index."
  - "Latency tests run perftest's iteration count (1000): with C(-D) they print only an average, not the
    latency table, so O(duration) is refused for them."
  - "The TCP exchange port (O(port), perftest's default 18515) must be open between the nodes."
extends_documentation_fragment:
  - gpuforge.cluster.tool_output
options:
  test:
    description: The perftest program to run (also its executable's name).
    type: str
    required: true
    choices: [ib_write_bw, ib_write_lat, ib_read_bw, ib_read_lat, ib_send_bw, ib_send_lat]
  device:
    description: RDMA device (C(--ib-dev)), for example C(mlx5_0).
    type: str
    required: true
  ib_port:
    description: Port of the device (C(--ib-port)), counted from 1.
    type: int
    required: true
  gid_index:
    description: GID index (C(--gid-index)); on RoCE the RoCE v2 IPv4 entry of this node's address. Leave out on InfiniBand.
    type: int
  server:
    description: Address of the server side; leave out to be the server.
    type: str
  duration:
    description: Seconds to measure (C(-D)); bandwidth tests only, 5 when unset.
    type: int
  size:
    description: Message size in bytes (C(--size)); perftest's default when unset.
    type: int
  port:
    description: TCP port of the out-of-band exchange (C(--port)); perftest's default 18515 when unset.
    type: int
  timeout:
    description: Seconds before the run is killed; O(duration) + 30 when unset (30 for latency tests).
    type: int
  bindir:
    description: Directory holding the perftest programs; the test's name is looked up on C(PATH) when unset.
    type: path
"""

EXAMPLES = r"""
- name: Serve one ib_write_bw run on node2's chosen port (in the background)
  gpuforge.cluster.perftest:
    test: ib_write_bw
    device: "{{ chosen.device }}"
    ib_port: "{{ chosen.port }}"
    gid_index: "{{ chosen.gid_index }}"
  vars:
    chosen: "{{ hostvars['node2'].rdma_network_hca.ports | selectattr('use') | first }}"
  delegate_to: node2
  async: 60
  poll: 0
  register: rdma_server

- name: Measure RDMA write bandwidth from node1 (R1 - port 2 cabled, RoCE v2 IPv4 GID at index 3)
  gpuforge.cluster.perftest:
    test: ib_write_bw
    device: mlx4_0
    ib_port: 2
    gid_index: 3
    server: 10.0.0.2
  register: rdma_bw

- name: Collect the server's side
  ansible.builtin.async_status:
    jid: "{{ rdma_server.ansible_job_id }}"
  delegate_to: node2
  register: rdma_server_result
  until: rdma_server_result.finished
  retries: 30
  delay: 2
"""

RETURN = r"""
result:
  description:
    - The parsed output - test (the banner), kind (bandwidth or latency) and rows (bytes, iterations and
      bw_peak, bw_avg, bw_unit, msg_rate_mpps or t_min_us, t_max_us, t_typical_us, t_avg_us, t_stdev_us,
      p99_us, p99_9_us).
  returned: when the output parsed
  type: dict
gbps:
  description: Average bandwidth of the largest message in Gb/s (10^9 bits); null for latency tests.
  returned: when the output parsed
  type: float
lat_us:
  description: Typical (median) latency of the smallest message in microseconds; null for bandwidth tests.
  returned: when the output parsed
  type: float
reason:
  description:
    - On failure, C(gid), C(no_device), C(port_down), C(connect), C(qp_rtr), C(timeout), C(unknown) or
      C(parse_error).
  returned: on failure
  type: str
cmd:
  description: The command run.
  returned: when run
  type: list
  elements: str
rc:
  description: Exit status of the run (124 or 137 when the hard timeout ended it).
  returned: when run
  type: int
stdout:
  description: The end of what the program printed (4000 characters at most).
  returned: when the run failed
  type: str
stderr:
  description: The end of what the program printed on stderr (4000 characters at most).
  returned: when the run failed
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.fabric_table import rdma_gbps, rdma_latency_us
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.perftest import parse_perftest
from ansible_collections.gpuforge.cluster.plugins.module_utils.perftest_run import (
    DEFAULT_EXCHANGE_PORT,
    TESTS,
    classify_failure,
    is_bandwidth,
    perftest_argv,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import find_tool, read_source, run_tool


def describe(p):
    """'ib_write_bw client of 10.0.0.2 (mlx4_0 port 2, GID index 3, TCP port 18515)'."""
    gid = p["gid_index"] if p["gid_index"] is not None else "none (InfiniBand)"
    side = "client of %s" % p["server"] if p["server"] else "server"
    return "%s %s (%s port %s, GID index %s, TCP port %s)" % (
        p["test"], side, p["device"], p["ib_port"], gid, p["port"] or DEFAULT_EXCHANGE_PORT)


def figures(parsed):
    if parsed["kind"] == "bandwidth":
        gbps = rdma_gbps(parsed)
        return {"gbps": None if gbps is None else round(gbps, 3), "lat_us": None}
    return {"gbps": None, "lat_us": rdma_latency_us(parsed)}


def main():
    module = AnsibleModule(
        argument_spec={
            "test": {"type": "str", "required": True, "choices": list(TESTS)},
            "device": {"type": "str", "required": True},
            "ib_port": {"type": "int", "required": True},
            "gid_index": {"type": "int"},
            "server": {"type": "str"},
            "duration": {"type": "int"},
            "size": {"type": "int"},
            "port": {"type": "int"},
            "timeout": {"type": "int"},
            "bindir": {"type": "path"},
            "output": {"type": "str"},
            "src": {"type": "path"},
        },
        mutually_exclusive=[("output", "src")],
        supports_check_mode=True,
    )
    p = module.params
    where = describe(p)
    duration = p["duration"] if p["duration"] is not None or not is_bandwidth(p["test"]) else 5
    try:
        args = perftest_argv(p["test"], p["device"], p["ib_port"], p["gid_index"], p["server"], duration,
                             p["size"], p["port"])
    except ValueError as exc:
        module.fail_json(msg="%s: %s" % (where, exc))
    if p["timeout"] is not None and p["timeout"] < 1:
        module.fail_json(msg="timeout must be from 1 up")
    run, stderr = {}, ""
    text = read_source(module, p["output"], p["src"])
    if text is None:
        if module.check_mode:
            module.exit_json(changed=False, skipped=True, msg="check mode: the benchmark was not run")
        program = os.path.join(p["bindir"], p["test"]) if p["bindir"] else p["test"]
        program = find_tool(module, program, "perftest")
        limit = p["timeout"] or (duration or 0) + 30
        rc, out, err, argv = run_tool(module, "timeout", ["--kill-after=5", str(limit), program, *args[1:]],
                                      "coreutils")
        run = {"cmd": argv, "rc": rc}
        if rc != 0:
            reason, why = classify_failure(out + "\n" + err, rc)
            if reason == "timeout":
                why = "did not finish within %d s, %s" % (limit, why)
            module.fail_json(msg="%s: %s" % (where, why), reason=reason, stdout=out[-4000:], stderr=err[-4000:],
                             **run)
        text, stderr = out, err
    try:
        parsed = parse_perftest(text)
        values = figures(parsed)
    except (ParseError, ValueError) as exc:
        reason, why = classify_failure(text + "\n" + stderr, None)
        if reason == "unknown":
            reason, why = "parse_error", "cannot read the perftest result: %s" % exc
        module.fail_json(msg="%s: %s" % (where, why), reason=reason, **run)
    module.exit_json(changed=False, result=parsed, **values, **run)


if __name__ == "__main__":
    main()
