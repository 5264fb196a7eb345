# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: iperf3
short_description: Run an iperf3 TCP client against a server and return the parsed result
version_added: 0.3.0
description:
  - Runs C(iperf3 -c SERVER -J -t DURATION -p PORT [-B BIND] [-P STREAMS] --connect-timeout MS) with C(LC_ALL=C)
    under C(timeout --kill-after=5), parses the JSON and returns it with the bandwidth in Gb/s.
  - The TCP baseline that perftest's RDMA figures are compared with.
  - Fails when iperf3 reports an error, naming the server and the cause (C(reason)), or when the hard timeout
    ends the run.
author:
  - gpuforge.cluster maintainers (@gpuforge)
notes:
  - Never changes the host; in check mode it does not run (parsing O(output) or O(src) still happens).
  - "The server side is the caller's: start it on the peer first, for example with C(iperf3 -s -1 -D -p 5201)
    (one test, then exit; C(-D) returns at once) or an C(async) task with C(iperf3 -s -1). An iperf3 server
    runs one test at a time; a second client gets C(server_busy)."
  - C(--connect-timeout) needs iperf3 3.2 or later; O(connect_timeout_ms=0) leaves it out.
extends_documentation_fragment:
  - gpuforge.cluster.tool_output
options:
  server:
    description: Address or name of the iperf3 server (the peer's address on the network under test).
    type: str
    required: true
  port:
    description: Server port (C(-p)).
    type: int
    default: 5201
  duration:
    description: Seconds to send (C(-t)).
    type: int
    default: 5
  streams:
    description: Parallel streams (C(-P)); left out when 1.
    type: int
    default: 1
  bind:
    description: Local address to send from (C(-B)), to pin the test to one interface.
    type: str
  connect_timeout_ms:
    description: Milliseconds to wait for the control connection (C(--connect-timeout)); 0 leaves it out.
    type: int
    default: 3000
  timeout:
    description: Seconds before the run is killed; O(duration) + O(connect_timeout_ms) + 10 when unset.
    type: int
  executable:
    description: Name or path of the iperf3 binary.
    type: str
    default: iperf3
"""

EXAMPLES = r"""
- name: Start a one-test iperf3 server on the peer
  ansible.builtin.command: iperf3 -s -1 -D -p 5201
  delegate_to: node2
  changed_when: false

- name: TCP baseline from node1 to node2 over the RoCE interface
  gpuforge.cluster.iperf3:
    server: 10.10.0.2
    bind: 10.10.0.1
    duration: 10
    streams: 4
  register: tcp
"""

RETURN = r"""
result:
  description:
    - The parsed output (version, protocol, streams, duration_s, bytes_sent, bytes_received, sent_bps,
      received_bps, retransmits, jitter_ms, lost_percent, cpu_host_pct, cpu_remote_pct, remote_host,
      remote_port, error).
  returned: when the output parsed
  type: dict
sent_gbps:
  description: Sender-side bandwidth in Gb/s (10^9 bits), three decimals.
  returned: when the output parsed
  type: float
received_gbps:
  description: Receiver-side bandwidth in Gb/s (10^9 bits), three decimals; null when iperf3 gave none.
  returned: when the output parsed
  type: float
reason:
  description: On failure, C(connection_refused), C(server_busy), C(timeout), C(no_route), C(unknown) or C(parse_error).
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
  description: The end of what iperf3 printed (4000 characters at most).
  returned: when the hard timeout ended the run
  type: str
stderr:
  description: The end of what iperf3 printed on stderr (4000 characters at most).
  returned: when the hard timeout ended the run
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.common import ParseError
from ansible_collections.gpuforge.cluster.plugins.module_utils.parsers.iperf3 import (
    Iperf3Error,
    parse_iperf3_json,
)
from ansible_collections.gpuforge.cluster.plugins.module_utils.runner import (
    find_tool,
    read_source,
    run_tool,
)


def build_args(p):
    args = ["-c", p["server"], "-J", "-t", str(p["duration"]), "-p", str(p["port"])]
    if p["bind"]:
        args += ["-B", p["bind"]]
    if p["streams"] != 1:
        args += ["-P", str(p["streams"])]
    if p["connect_timeout_ms"]:
        args += ["--connect-timeout", str(p["connect_timeout_ms"])]
    return args


def hard_timeout(p):
    return p["timeout"] or p["duration"] + (p["connect_timeout_ms"] + 999) // 1000 + 10


def _gbps(bps):
    return None if bps is None else round(bps / 1e9, 3)


def main():
    module = AnsibleModule(
        argument_spec={
            "server": {"type": "str", "required": True},
            "port": {"type": "int", "default": 5201},
            "duration": {"type": "int", "default": 5},
            "streams": {"type": "int", "default": 1},
            "bind": {"type": "str"},
            "connect_timeout_ms": {"type": "int", "default": 3000},
            "timeout": {"type": "int"},
            "executable": {"type": "str", "default": "iperf3"},
            "output": {"type": "str"},
            "src": {"type": "path"},
        },
        mutually_exclusive=[("output", "src")],
        supports_check_mode=True,
    )
    p = module.params
    for name, low, high in (("port", 1, 65535), ("duration", 1, None), ("streams", 1, 128),
                            ("connect_timeout_ms", 0, None), ("timeout", 1, None)):
        if p[name] is not None and (p[name] < low or (high is not None and p[name] > high)):
            module.fail_json(msg=f"{name} must be from {low}" + (f" to {high}" if high else " up"))
    target = f"{p['server']}:{p['port']}"
    run = {}
    text = read_source(module, p["output"], p["src"])
    if text is None:
        if module.check_mode:
            module.exit_json(changed=False, skipped=True, msg="check mode: the benchmark was not run")
        iperf3 = find_tool(module, p["executable"], "iperf3")
        limit = hard_timeout(p)
        rc, out, err, argv = run_tool(module, "timeout", ["--kill-after=5", str(limit), iperf3, *build_args(p)],
                                      "coreutils")
        run = {"cmd": argv, "rc": rc}
        if rc in (124, 137):
            module.fail_json(msg=f"iperf3 to {target} did not finish within {limit} s (killed; reason timeout)",
                             reason="timeout", stdout=out[-4000:], stderr=err[-4000:], **run)
        text = out if out.strip() else err
    try:
        parsed = parse_iperf3_json(text)
    except Iperf3Error as exc:
        module.fail_json(msg=f"iperf3 to {target} failed ({exc.reason}): {exc.error}", reason=exc.reason, **run)
    except ParseError as exc:
        module.fail_json(msg=f"cannot parse the iperf3 output for {target}: {exc}", reason="parse_error", **run)
    figures = {"sent_gbps": _gbps(parsed["sent_bps"]), "received_gbps": _gbps(parsed["received_bps"])}
    if run and run["rc"] != 0:
        module.fail_json(msg=f"iperf3 to {target} exited with rc={run['rc']}", reason="unknown", result=parsed,
                         **figures, **run)
    module.exit_json(changed=False, result=parsed, **figures, **run)


if __name__ == "__main__":
    main()
