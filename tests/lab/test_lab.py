"""The lab end to end: bad input stops before any change, site.yml converges, a re-run
and a check-mode run change nothing, validate.yml passes, and the outcome holds on the
nodes (names, BatchMode SSH, password logins off)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import labctl
import pytest
from conftest import GPU_NODES, LOGIN_USERS, NODES, PASSWORD_NODE, PREFIX, REPO, SUBNET, SUBNET2, node_exec

NODE_NAMES = [f"node{i}" for i in range(NODES)]
# nvidia_stack needs a pinned sha256 for cuda-keyring before it would download it. The lab never downloads it
# (no NVIDIA repository here; the gpu_stack stage is off): runs that check the GPU stack's preflight pass this
# pin, which no download ever meets. Its absence is a bad-input case below.
LAB_KEYRING_PIN = {"nvidia_stack_keyring_sha256": {"debian12/x86_64": "0" * 64}}
FIRST_STATE: dict = {}


# What "no change" compares, read by one program per node (one podman exec: 27 of them cost ~8 s a case).
NODE_STATE_PROGRAM = r"""
import json, os, subprocess, sys
def found(*argv):
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(json.dumps({
    "hosts": open("/etc/hosts").read(),
    "cluster_user": found("getent", "passwd", "cluster"),
    "slurm_user": found("getent", "passwd", "slurm"),
    "files": {path: os.path.exists(path) for path in sys.argv[1:]},
    "data0": json.loads(subprocess.run(["ip", "-j", "address", "show", "dev", "data0"], capture_output=True,
                                       text=True, check=True).stdout),
}))
"""
RDMA_FILES = ("/etc/systemd/network/60-gpuforge-data.network", "/etc/netplan/60-gpuforge-rdma.yaml")
STATE_FILES = ("/etc/chrony/chrony.conf", "/etc/slurm/slurm.conf",
               "/etc/apt/preferences.d/gpuforge-nvidia-driver.pref", *RDMA_FILES)


def node_state(node: str) -> dict:
    """/etc/hosts, the cluster and slurm users (getent's exit code: 2 is no such user), which of the files the
    roles write exist, and the data link's MTU and addresses."""
    state = json.loads(node_exec(node, "python3", "-c", NODE_STATE_PROGRAM, *STATE_FILES).stdout)
    state["data_port"] = link_mtu_and_addresses(state.pop("data0"))
    return state


def link_mtu_and_addresses(ip_json: list) -> tuple:
    [link] = ip_json
    return link["mtu"], sorted(f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])
                               if a["family"] == "inet")


def data_port(node: str) -> tuple:
    """(MTU, IPv4 addresses) of the node's data link (data0, the lab's MTU-9000 network)."""
    link = node_exec(node, "ip", "-j", "address", "show", "dev", "data0").stdout
    return link_mtu_and_addresses(json.loads(link))


def in_netns(node: str, *argv: str) -> None:
    """Run a command in the node's network namespace from the host (as a cable or a switch would act)."""
    pid = subprocess.run(["podman", "inspect", "-f", "{{.State.Pid}}", f"{PREFIX}-{node}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["nsenter", "-t", pid, "-n", *argv], check=True)


def switch_port(node: str) -> str:
    """The host end of the node's data link: the 'switch port' it is plugged into."""
    index = node_exec(node, "cat", "/sys/class/net/data0/iflink").stdout.strip()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    for line in links.splitlines():
        number, name = line.split(": ")[:2]
        if number == index:
            return name.split("@")[0]
    raise AssertionError(f"no host link with index {index}")


# The tests of one role's behaviour on the built lab run its stage playbook (each runs alone, with that role's
# own preflight): site.yml --tags would run every role's preflight too, 5 s more per run.
SLURM_STAGE = "slurm.yml"
HOSTS_STAGE = "hosts.yml"  # with --tags ssh_trust


def changed_tasks(run: labctl.PlaybookRun) -> set:
    return {(task[1], task[2]) for task in run.tasks if task[3] == "changed"}


def slurm_nodes() -> dict:
    out = node_exec("node0", "sinfo", "-h", "-N", "-o", "%N %t %c").stdout.split("\n")
    return {f[0]: (f[1], int(f[2])) for f in (line.split() for line in out) if f}


def failure_text(run: labctl.PlaybookRun) -> str:
    return "\n".join(str(failure[2]) for failure in run.failures)


def test_fresh_nodes_resolve_their_name_to_loopback(inventory):
    # The problem the collection fixes, present before it runs.
    for node in NODE_NAMES:
        FIRST_STATE[node] = node_state(node)
        assert node_exec(node, "getent", "hosts", node).stdout.split()[0] == "127.0.1.1"
        assert FIRST_STATE[node]["cluster_user"] == 2  # no such user yet


def ssh_as_login_user(inventory: Path, node: str, *command: str, methods: str = "publickey"):
    """ssh from the controller as the node's login user; BatchMode (a prompt fails), host key checked."""
    key_dir = inventory.parent / "ssh"
    return subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={key_dir}/known_hosts",
         "-o", "StrictHostKeyChecking=yes", "-i", str(key_dir / "id_ed25519"),
         "-o", f"PreferredAuthentications={methods}", "-o", "ControlMaster=no", "-o", "ControlPath=none",
         f"{LOGIN_USERS.get(node, 'labadmin')}@{SUBNET}.{10 + int(node[4:])}", *command],
        capture_output=True, text=True, check=False)


def test_the_password_node_takes_no_key_before_site(inventory):
    res = ssh_as_login_user(inventory, PASSWORD_NODE, "true")
    assert res.returncode == 255
    # sshd offers passwords and does not know the controller's key yet.
    assert "Permission denied (publickey,password)." in res.stderr, res.stderr


def test_jumbo_frames_pass_unfragmented_on_the_second_network(inventory):
    """R1's data network: MTU 9000 end to end. 8972 bytes of ICMP payload + 28 of headers fill one frame
    with DF set; one byte more must be refused by the sender (the MTU is what the test says it is)."""
    if NODES < 2:
        pytest.skip("needs 2 nodes")
    route = node_exec("node0", "ip", "-o", "-4", "route", "get", f"{SUBNET2}.11").stdout
    iface = route.split(" dev ")[1].split()[0]
    assert node_exec("node0", "cat", f"/sys/class/net/{iface}/mtu").stdout.strip() == "9000"
    ok = node_exec("node0", "ping", "-M", "do", "-s", "8972", "-c", "2", "-W", "2", f"{SUBNET2}.11",
                   check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "2 received" in ok.stdout
    too_big = node_exec("node0", "ping", "-M", "do", "-s", "8973", "-c", "1", "-W", "2", f"{SUBNET2}.11",
                        check=False)
    assert too_big.returncode != 0 and "mtu=9000" in (too_big.stdout + too_big.stderr), too_big


@pytest.mark.parametrize(("extravars", "names"), [
    ({"ssh_trust_user": ["cluster", "admin"]}, "ssh_trust_user"),
    ({"cluster_ip": f"{SUBNET}.300"}, "cluster_ip"),
    # The node model (role cluster): an address the node does not have, a node on another network
    # (node2's address on the lab's second network), names equal but for case.
    ({"cluster_ip": f"{{{{ '{SUBNET}.99' if inventory_hostname == 'node1' else ansible_host }}}}"},
     f"node1: cluster_ip {SUBNET}.99 is not an address of this node"),
    ({"cluster_ip": f"{{{{ '{SUBNET2}.12' if inventory_hostname == 'node2' else ansible_host }}}}"},
     f"{SUBNET2}.0/24: node2 {SUBNET2}.12/24"),
    ({"cluster_hostname": "{{ 'Node1' if inventory_hostname == 'node2' else inventory_hostname }}"},
     "node1 and node2 have names that differ only in case (Node1, node1)"),
    ({"munge_slurm_partitions": [{"name": "gpu", "nodes": ["node0", "node9"]}]}, "node9"),
    # 16 bytes: munge needs 32 to 1024.
    ({"munge_slurm_munge_key": "MDEyMzQ1Njc4OWFiY2RlZg=="}, "munge_slurm_munge_key"),
    # A path where a public key line belongs. The message names the entry, never its content (a
    # private key pasted by mistake must not reach the log).
    ({"ssh_trust_login_keys": ["~/.ssh/id_ed25519.pub"]}, "entries (counted from 0) are not: 0."),
    # rdma_network: the port list names the default-route interface (found by its MAC), and a jumbo MTU on an
    # IPoIB port in datagram mode (the lab's link is Ethernet, so that is named too).
    ({"rdma_network_ports": [{"network": "data", "mac": (
        "{{ (ansible_facts.gpuforge_host.interfaces | selectattr('name', 'eq', "
        "ansible_facts.gpuforge_host.default_interface) | first).mac }}")}]},
     "is the default-route interface; rdma_network never reconfigures it"),
    ({"rdma_network_ports": [{"network": "data", "mac": "{{ lab_data_mac }}", "kind": "ipoib"}]},
     "MTU 9000 on IPoIB datagram mode"),
    # nvidia_stack: cuda-keyring (apt's trust anchor) only over https and only with a pinned sha256.
    ({"gpuforge_gpu_stack": True, **LAB_KEYRING_PIN, "nvidia_stack_keyring_url":
      "http://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/cuda-keyring_1.1-1_all.deb"},
     "nvidia_stack_keyring_url must be an https:// URL"),
    ({"gpuforge_gpu_stack": True},
     "cuda-keyring is not installed and nvidia_stack_keyring_sha256 has no SHA-256"),
    ({"ssh_trust_sshd_settings": {"PasswordAuthentication": "yes"}},
     "ssh_trust_sshd_settings must map sshd keywords to one-line values, without the role's own keywords"),
    ({"ssh_trust_password_revert_seconds": 5},
     "ssh_trust_password_revert_seconds must be a whole number of seconds, at least 15"),
    # slurm_powersave: an SSH power-off command that a sudoers rule cannot name exactly (no absolute path).
    # cluster_firewall: a rule set that would drop the controller's SSH session (sshd listens on 22).
    ({"cluster_firewall_ssh_ports": [2222]}, "the rule set would drop this controller's SSH session"),
    ({"gpuforge_powersave": True, "slurm_powersave_bmc_user": "ADMIN",
      "slurm_powersave_bmc_password": "not-used", "slurm_powersave_ssh_poweroff": True,
      "slurm_powersave_ssh_poweroff_command": ["poweroff"]},
     "the SSH power-off command must be a list: an absolute path, then plain words"),
], ids=["user-list", "bad-cluster-ip", "cluster-ip-not-on-node", "nodes-on-two-networks",
        "names-differ-in-case", "partition-unknown-node", "short-munge-key", "login-key-not-public",
        "rdma-port-default-route", "rdma-ipoib-jumbo-datagram", "keyring-over-http", "keyring-not-pinned",
        "sshd-setting-reserved", "revert-deadline-too-short", "firewall-drops-ssh",
        "powersave-ssh-command-relative"])
def test_bad_input_fails_before_any_change(inventory, fact_cache, password, extravars, names):
    run = labctl.run_playbook("site.yml", inventory, extravars=extravars, fact_cache=fact_cache,
                              password=password)
    assert run.rc != 0
    assert names in failure_text(run), failure_text(run)
    assert "id_ed25519.pub" not in failure_text(run)
    assert run.changed == 0
    for node in NODE_NAMES:
        assert node_state(node) == FIRST_STATE[node], f"{node} changed after bad input"


def test_bad_serving_input_fails_before_any_change(inventory, fact_cache, password):
    # inference.yml's preflight on the lab: a serving layout the GPUs cannot hold (the FAKE GPUs: node1 1x
    # H100, node2 2x H200) is refused with the figures, before anything changes.
    serving = {"vllm_serve_group": "gpu", "vllm_serve_host": "node2", "vllm_serve_model": "m",
               "vllm_serve_tensor_parallel_size": 2}
    run = labctl.run_playbook("inference.yml", inventory, fact_cache=fact_cache, password=password,
                              extravars=serving)
    assert run.rc != 0
    text = " ".join(failure_text(run).split())
    assert "2 pipeline stage(s) x 2 GPU(s) = 4 GPUs, but vllm_serve_group has 3 (node1 1, node2 2)" in text, \
        text
    assert "Nothing was installed or changed" in text
    assert run.changed == 0
    for node in NODE_NAMES:
        assert node_state(node) == FIRST_STATE[node], f"{node} changed after bad serving input"


# R4's pasted pair list, malformed: rental.yml stops at the inventory (gpuforge.cluster.rental_nodes names the
# line and what is wrong with it) before any SSH, and no node changes.
BAD_NODES_TXT = [
    ("bad-ip", f"Public IP\tPrivate IP\n{SUBNET}.10\t{SUBNET2}.10\n{SUBNET}.300\t{SUBNET2}.11\n",
     f"nodes.txt line 3: '{SUBNET}.300\\t{SUBNET2}.11': '{SUBNET}.300' is not an IP address"),
    ("missing-private", f"{SUBNET}.10:{SUBNET2}.10\n{SUBNET}.11\n",
     f"nodes.txt line 2: '{SUBNET}.11': no private"),
    ("duplicate", f"{SUBNET}.10 {SUBNET2}.10\n{SUBNET}.11 {SUBNET2}.11\n{SUBNET}.10 {SUBNET2}.12\n",
     f"nodes.txt line 3: '{SUBNET}.10 {SUBNET2}.12': public address {SUBNET}.10 is already on line 1"),
]


@pytest.mark.parametrize("text, message", [case[1:] for case in BAD_NODES_TXT],
                         ids=[case[0] for case in BAD_NODES_TXT])
def test_malformed_nodes_txt_fails_before_any_change(tmp_path, text, message):
    (tmp_path / "nodes.txt").write_text(text)
    (tmp_path / "playbooks").symlink_to(REPO / "playbooks")
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    run = subprocess.run(["ansible-playbook", "-i", "nodes.txt", "playbooks/rental.yml"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=False)
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert message in out, out[-3000:]
    for node in NODE_NAMES:
        assert node_state(node) == FIRST_STATE[node], f"{node} changed after a malformed nodes.txt"


def test_a_play_without_a_compute_node_is_refused_before_any_change(inventory, fact_cache, password):
    # node2 left out (--limit, or unreachable): the names, time servers and slurm.conf need its node model and
    # measured hardware. Preflight names it and the way on (the node model's check comes first; munge_slurm's
    # own check stands behind it for a node lost between stages); no node changes.
    run = labctl.run_playbook("site.yml", inventory, fact_cache=fact_cache, password=password,
                              limit=",".join(NODE_NAMES[:-1]))
    assert run.rc != 0
    text = failure_text(run)
    # Which check speaks first (node model, host keys, Slurm) depends on the stage; each names the node.
    assert NODE_NAMES[-1] in text and "not in this play" in text, text
    assert run.changed == 0
    for node in NODE_NAMES:
        assert node_state(node) == FIRST_STATE[node], f"{node} changed after a play without {NODE_NAMES[-1]}"


def _standin_device(node: str, device_id: str | None = None) -> str:
    """The device id of the first GPU in a node's STAND-IN PCI list (lab/fake_gpu.yml); set it when given."""
    [address] = node_exec(node, "ls", "/usr/share/gpuforge-fake/pci").stdout.split()[:1]
    path = f"/usr/share/gpuforge-fake/pci/{address}/device"
    if device_id:
        node_exec(node, "sh", "-c", f"echo {device_id} > {path}")
    return node_exec(node, "cat", f"/sys/bus/pci/devices/{address}/device").stdout.strip()


def test_gpu_generation_decides_the_stack_and_a_pin_that_cannot_drive_it_is_refused(inventory, fact_cache,
                                                                                    password):
    # node1's STAND-IN PCI list says Tesla V100S (0x1df6) instead of its recorded H100: nothing pinned,
    # preflight picks what Volta allows (580, proprietary, CUDA 12.9) there and the newest for node2's H200s;
    # the open modules pinned (R2's inventory does) are refused on node1 before any change, naming the GPU
    # and the fix.
    first = GPU_NODES and sorted(GPU_NODES)[0]
    if not first:
        pytest.skip("no GPU node in this lab")
    recorded = _standin_device(first)
    try:
        assert _standin_device(first, "0x1df6") == "0x1df6"
        run = labctl.run_playbook("preflight.yml", inventory, fact_cache=fact_cache,
                                  extravars={"gpuforge_gpu_stack": True, **LAB_KEYRING_PIN},
                                  password=password)
        assert run.rc == 0, failure_text(run)
        chosen = dict(msg for msg in run.shown if "-> driver branch" in str(msg[1]))
        assert chosen[first].startswith(
            f"{first}: 1 x Tesla V100S PCIe 32GB (Volta, sm_70) -> driver branch 580 "
            "(proprietary kernel modules), CUDA 12.9; nothing pinned"), chosen
        for node in set(GPU_NODES) - {first}:
            assert "(Hopper, sm_90) -> driver branch 580 (open kernel modules), CUDA 13.0" in chosen[node]
        pinned = labctl.run_playbook(
            "site.yml", inventory, fact_cache=fact_cache, password=password,
            extravars={"gpuforge_gpu_stack": True, "nvidia_stack_driver_flavor": "open", **LAB_KEYRING_PIN})
        assert pinned.rc != 0
        text = failure_text(pinned)
        assert "Tesla V100S PCIe 32GB (Volta, sm_70) cannot run NVIDIA's open kernel modules" in text, text
        assert "fits: nvidia_stack_driver_flavor: proprietary" in text
        assert "Nothing was installed or changed" in text
        assert pinned.changed == 0
        for node in NODE_NAMES:
            assert node_state(node) == FIRST_STATE[node], f"{node} changed after a refused pin"
    finally:
        _standin_device(first, recorded)


def test_gpu_preflight_on_a_gpu_subset_raises_nothing(inventory, fact_cache, password):
    # gpu = node1, node2; the head has no GPU. The GPU roles' checks (version matrix against the
    # recorded driver 580 captures) run on the GPU nodes only and pass; nothing changes.
    run = labctl.run_playbook("preflight.yml", inventory, fact_cache=fact_cache,
                              extravars={"gpuforge_gpu_stack": True, **LAB_KEYRING_PIN}, password=password)
    assert run.rc == 0, failure_text(run)
    assert run.changed == 0
    checked = {host for _d, task, host, status in run.tasks
               if task == "Check the NCCL build against the CUDA toolkit and driver" and status == "ok"}
    assert checked and checked <= set(GPU_NODES), checked


def test_check_mode_on_fresh_nodes_previews_without_failing(inventory, fact_cache, password):
    # A user previews the first run: on nodes that have nothing yet, site.yml --check --diff finishes with
    # failed=0, shows the diffs it would make, says which steps wait for the real install, and changes
    # nothing.
    run = labctl.run_playbook("site.yml", inventory, check=True, fact_cache=fact_cache, password=password)
    assert run.rc == 0, failure_text(run)
    assert run.failed == 0
    said = " ".join(str(msg) for _host, msg in run.shown)
    for waits in ("chrony is not installed yet", "user 'cluster' is created by the real run",
                  "munge and Slurm are not installed yet", "Open MPI is not installed yet"):
        assert waits in said, waits
    assert any(status == "changed" for *_rest, status in run.tasks)  # what it would change is reported
    for node in NODE_NAMES:
        assert node_state(node) == FIRST_STATE[node], f"{node} changed in check mode"


class PsSampler:
    """Every node's processes (argv and environment) and the controller's argv, sampled while a run goes on.

    A Python loop inside each node appends /proc/*/cmdline and /proc/*/environ every second to a file in
    /run (cheaper than a podman exec per sample, and than a shell loop's two forks per process); the
    controller's ps is sampled from here.
    """

    OUT = "/run/gpuforge-ps-samples"

    def __init__(self) -> None:
        self.samples: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True,
                                               check=False).stdout)
            self._stop.wait(2)

    def __enter__(self) -> PsSampler:
        loop = ("import glob, os, time\n"
                f"out = open({self.OUT!r}, 'a')\n"
                f"while not os.path.exists({self.OUT + '.stop'!r}):\n"
                " for path in glob.glob('/proc/[0-9]*/cmdline') + glob.glob('/proc/[0-9]*/environ'):\n"
                "  try:\n"
                "   with open(path, 'rb') as f:\n"
                "    out.write(f.read().replace(b'\\0', b' ').decode('utf-8', 'replace') + '\\n')\n"
                "  except OSError:\n"
                "   pass\n"
                " out.write('---\\n')\n"
                " out.flush()\n"
                " time.sleep(1)\n")
        for node in NODE_NAMES:
            node_exec(node, "rm", "-f", self.OUT, f"{self.OUT}.stop")
            subprocess.run(["podman", "exec", "-d", f"{PREFIX}-{node}", "python3", "-c", loop], check=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        for node in NODE_NAMES:
            node_exec(node, "touch", f"{self.OUT}.stop")
        time.sleep(2)
        for node in NODE_NAMES:
            text = node_exec(node, "cat", self.OUT).stdout
            self.samples += text.split("\n---\n")
            node_exec(node, "rm", "-f", self.OUT, f"{self.OUT}.stop")


def secret_forms(secret: bytes) -> set[str]:
    """The ways a secret could show in text: as it is, base64, hex (whole, 24-character slices of b64)."""
    b64 = base64.b64encode(secret).decode()
    forms = {b64[i:i + 24] for i in range(0, max(len(b64) - 24, 1), 12)} | {secret.hex()[:32]}
    text = secret.decode("utf-8", "replace").strip()
    if len(text) >= 16 and text.isprintable():
        forms.add(text)
    return forms


def test_site_converges(inventory, fact_cache, password, tmp_path):
    # First contact: node0 takes only a password (ansible-playbook -k); the others already take the key.
    # The converge runs at -vvv with ansible-runner's events kept and every node's processes sampled: no
    # munge key, JWT key, login password or slurmrestd token appears in the output, the events or any argv
    # or environment.
    artifacts = tmp_path / "artifacts"
    with PsSampler() as ps:
        run = labctl.run_playbook("site.yml", inventory, fact_cache=fact_cache, password=password,
                                  verbosity=3, keep_artifacts=artifacts)
    assert run.rc == 0, failure_text(run)
    assert run.changed > 0
    print(f"\ncold converge (-vvv): {run.wall_s:.1f}s, changed={run.changed}, "
          f"{len(ps.samples)} process samples")

    def node_file(path: str) -> bytes:
        return subprocess.run(["podman", "exec", f"{PREFIX}-node0", "cat", path], capture_output=True,
                              check=False).stdout

    secrets = {"munge key": node_file("/etc/munge/munge.key"), "login password": password.encode()}
    if node_file("/etc/slurm/jwt_hs256.key"):  # slurmrestd on (munge_slurm_restd)
        secrets["JWT key"] = node_file("/etc/slurm/jwt_hs256.key")
    assert len(secrets["munge key"]) >= 32
    texts = {str(path): path.read_text(errors="replace") for path in artifacts.rglob("*") if path.is_file()}
    assert any("job_events" in name for name in texts) and any(name.endswith("stdout") for name in texts)
    assert "<127.0.0.1>" in "".join(texts.values()) or "ESTABLISH SSH CONNECTION" in "".join(texts.values())
    texts["process samples"] = "\n".join(ps.samples)
    jwt_token = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")
    for where, text in texts.items():
        for name, secret in secrets.items():
            for form in secret_forms(secret):
                assert form not in text, f"{name} appears in {where}"
        assert not jwt_token.search(text), f"a slurmrestd token appears in {where}"


def test_rerun_changes_nothing(inventory, fact_cache):
    # Without -k: every node, the one that took only a password at first too, is reached by key.
    run = labctl.run_playbook("site.yml", inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    changed = sorted({(task[1], task[2]) for task in run.tasks if task[3] == "changed"})
    assert run.changed == 0, changed
    print(f"\nre-run: {run.wall_s:.1f}s, changed=0")


def test_a_held_dpkg_lock_is_waited_for(inventory, fact_cache):
    # A fresh rental VM runs unattended-upgrades at boot: node1's dpkg locks are held (POSIX locks, as apt
    # takes them) while the fabric stage (the rdma_network role's packages, as in site.yml) has a package to
    # install there (perftest, removed first). The locks are let go 70 s after node1's install task started,
    # longer than ansible.builtin.apt's own 60 s: the run waits for them and succeeds; nothing else changes.
    before = node_state("node1")
    node_exec("node1", "apt-get", "remove", "-y", "-q", "perftest")
    release = "/run/gpuforge-release-dpkg-lock"
    node_exec("node1", "rm", "-f", release)
    hold = ("import fcntl, os, time\n"
            "locks = [open(p, 'w') for p in ('/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock')]\n"
            "[fcntl.lockf(f, fcntl.LOCK_EX) for f in locks]\nprint('held', flush=True)\n"
            f"end = time.time() + 300\nwhile not os.path.exists({release!r}) and time.time() < end:\n"
            "    time.sleep(0.2)")
    holder = subprocess.Popen(["podman", "exec", f"{PREFIX}-node1", "python3", "-c", hold],
                              stdout=subprocess.PIPE, text=True)
    timers = []

    def on_install_start(event: dict) -> None:
        data = event.get("event_data") or {}
        if event.get("event") == "runner_on_start" and data.get("host") == "node1" \
                and data.get("task") == "Install the RDMA userspace and the benchmark tools" and not timers:
            timers.append(threading.Timer(70, node_exec, ("node1", "touch", release)))
            timers[0].start()

    try:
        assert holder.stdout.readline().strip() == "held"
        run = labctl.run_playbook("fabric.yml", inventory, fact_cache=fact_cache, watch=on_install_start)
    finally:
        for timer in timers:
            timer.cancel()
        node_exec("node1", "pkill", "-f", "fcntl.lockf", check=False)
        holder.kill()
        holder.wait()
        node_exec("node1", "rm", "-f", release)
    assert run.rc == 0, failure_text(run)
    assert timers, "node1's install task never started"
    [(waited, task, host, status)] = [t for t in run.tasks if t[3] == "changed"]
    assert (host, status) == ("node1", "changed") and "Install" in task, run.tasks
    assert waited > 65, waited  # longer than apt's own lock timeout
    installed = node_exec("node1", "dpkg-query", "-W", "-f", "${Status}", "perftest").stdout
    assert installed == "install ok installed"
    assert node_state("node1") == before
    print(f"\nfabric.yml waited {waited:.0f}s for node1's dpkg lock")


def test_check_mode_on_the_built_cluster_changes_nothing_on_the_newest_ansible_core(inventory, fact_cache):
    """site.yml --check --diff on the built cluster: changed=0, failed=0 (a preview of a live cluster
    shows no change where there is none). meta/runtime.yml promises ansible-core >= 2.19: the preview runs
    on the newest on PyPI (tests/newest_core's controller container), host keys checked, so every task's
    controller side (templating, filters, action plugins, the modules' check paths) meets the newest core.
    One run for both: a real re-run on the newest core cost another minute of CI. GPUFORGE_NEWEST_CORE=0
    runs it on this venv's ansible-core instead, and says so."""
    if os.environ.get("GPUFORGE_NEWEST_CORE", "1") == "0":
        run = labctl.run_playbook("site.yml", inventory, check=True, fact_cache=fact_cache)
        assert run.rc == 0, failure_text(run)
        assert run.changed == 0, changed_tasks(run)
        print("\ncheck mode on the built cluster ran on this venv's ansible-core (GPUFORGE_NEWEST_CORE=0)")
        return
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(fact_cache)}
    res = subprocess.run(
        ["bash", str(REPO / "tests" / "newest_core" / "run.sh"), "playbook", "-i", str(inventory),
         "--check", "--diff",
         # Its own ssh control sockets, not the ones this machine's ansible holds open.
         "-e", "ansible_control_path_dir=/tmp/newest-core-cp", str(REPO / "playbooks" / "site.yml")],
        env=env, capture_output=True, text=True, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    recap = re.findall(r"^(node\d+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out, re.M)
    assert sorted(entry[0] for entry in recap) == NODE_NAMES, out[-4000:]
    assert all(entry[1:] == ("0", "0", "0") for entry in recap), recap
    print("\n" + "\n".join(line for line in out.splitlines() if line.startswith(("ansible [core", "Python"))))


TORCH_WHEELS = sorted(Path("/opt/wheels").glob("torch-*+cpu-cp311-*.whl"))
TORCH_WHEEL = Path(os.environ["LAB_TORCH_WHEEL"]) if os.environ.get("LAB_TORCH_WHEEL") else (
    TORCH_WHEELS[0] if TORCH_WHEELS else None)
VALIDATE_RUNS: dict = {}


def test_validate_passes(inventory, fact_cache):
    # With a CPU torch wheel at hand, PyTorch goes on every node first and the same run also does the DDP
    # smoke job (test_ddp_smoke_job_same_loss_on_every_node reads its result; it is skipped, saying why,
    # without a wheel).
    extravars = {}
    if TORCH_WHEEL is not None:
        torch = labctl.run_playbook(str(labctl.REPO / "lab" / "torch.yml"), inventory, fact_cache=fact_cache,
                                    extravars={"lab_torch_wheel": str(TORCH_WHEEL)})
        assert torch.rc == 0, failure_text(torch)
        extravars = {"munge_slurm_validate_ddp": True,
                     "munge_slurm_ddp_python": "/opt/gpuforge-torch/bin/python"}
    run = VALIDATE_RUNS["validate"] = labctl.run_playbook("validate.yml", inventory, fact_cache=fact_cache,
                                                          extravars=extravars)
    assert run.rc == 0, failure_text(run)
    assert run.changed == 0
    for check in ("SSH to every node by every name with BatchMode, as each trusted user",
                  "Decode every other node's credential here (one munge key, clocks in step)",
                  "Check that every compute node is registered, responding and in an accepted state",
                  "Check that the rule set is loaded, refuses by default, admits every declared port and "
                  "starts at boot"):
        assert check in run.verified
    # The MPI hello says which transport it used: ob1 over TCP, the lab having no RDMA device.
    used = [m for m in run.messages if m.startswith("MPI used")]
    assert used and "'node1': ['ob1']" in used[0] and "TCP: no usable RDMA port on this node" in used[0], used
    ran = {task[1] for task in run.tasks if task[3] == "ok"}
    assert "Check that they landed on as many different nodes" in ran
    assert "Check the single-node and all-node jobs" in ran


CHROMIUM = "chromium-headless-shell"  # Debian's package of that name (lab/host-prep.sh installs it)
H200_NCCL = (REPO / "tests" / "unit" / "plugins" / "module_utils" / "parsers" / "fixtures" / "nccl_tests"
             / "h200x2-580-nccl2283-ansible-all_reduce_mpi_np2_8GiB")


def browser_dom(page: Path, screenshot: Path) -> str:
    """The DOM a real browser built from the page on disk (no network), and a screenshot of it."""
    argv = [CHROMIUM, "--no-sandbox", "--disable-gpu", "--headless", "--window-size=1280,2400"]
    shot = subprocess.run([*argv, f"--screenshot={screenshot}", page.as_uri()], capture_output=True,
                          text=True, timeout=120, check=False)
    assert shot.returncode == 0 and screenshot.stat().st_size > 10000, shot.stderr[-2000:]
    dom = subprocess.run([*argv, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True)
    return dom.stdout


def check_rows(dom: str) -> list[tuple[str, str]]:
    """(verdict class, check name) of each row of the checks table, in page order."""
    table = re.search(r'<table id="checks">(.*?)</table>', dom, re.S).group(1)
    return re.findall(r'<tr class="check (\w+)"><td>\w+</td><td>([^<]*)</td>', table)


def test_validate_writes_the_report_and_a_browser_shows_it(inventory, fact_cache, tmp_path):
    assert "validate" in VALIDATE_RUNS, "test_validate_passes did not run"
    schema = json.loads((REPO / "docs" / "schemas" / "report.schema.json").read_text())
    latest = REPO / "reports" / PREFIX / "latest"  # where the playbook ran (labctl: the repository)
    report = json.loads((latest / "report.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report)
    assert report["verdict"] == "pass" and report["playbook"] == "validate.yml", report["summary"]
    assert [n["host"] for n in report["nodes"]] == NODE_NAMES
    assert all(n["os"] and n["kernel"] and n["slurm_state"] for n in report["nodes"]), report["nodes"]
    skipped = {c["name"]: c["reason"] for c in report["checks"] if c["verdict"] == "skipped"}
    if TORCH_WHEEL is None:  # the DDP job says why it did not run, in the report and on the console
        reason = skipped["DDP smoke job (torchrun over Slurm, one node and every node)"]
        assert "no torch on the nodes" in reason
    else:
        assert report["ddp"]["runs"][-1]["nodes"] == NODES and report["ddp"]["scaling_efficiency"]
    dom = browser_dom(latest / "report.html", tmp_path / "validate.png")
    assert len(check_rows(dom)) == len(report["checks"]) > 20
    print(f"\nreport {latest.resolve()}: {report['summary']}; skipped: {skipped}")

    # One failing check injected into a real run, and the recorded H200 run judged on node1: the callback
    # writes a second report beside a copy of validate.yml's, compares them and the browser shows both.
    folder = tmp_path / "reports"
    shutil.copytree(latest.resolve(), folder / latest.resolve().name)
    (folder / "latest").symlink_to(latest.resolve().name)
    run = labctl.run_playbook(str(REPO / "tests" / "lab" / "report_inject.yml"), inventory,
                              fact_cache=fact_cache,
                              extravars={"report_dir": str(folder), "fixtures": str(H200_NCCL.parents[1])})
    assert run.rc == 2 and run.failed == 1, failure_text(run)
    injected = json.loads((folder / "latest" / "report.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(injected)
    assert injected["comparison"]["previous"] == report["created"]
    assert "Injected failing check" in injected["comparison"]["new_failures"]
    dom = browser_dom(folder / "latest" / "report.html", tmp_path / "injected.png")
    rows = check_rows(dom)
    assert len(rows) == len(injected["checks"])
    assert rows[0] == ("fail", "Injected failing check"), rows[:3]
    assert "started failing: Injected failing check" in dom
    sizes = [int(x) for x in re.findall(r'<circle class="point"[^>]*data-size="(\d+)"', dom)]
    busbw = [float(x) for x in re.findall(r'<circle class="point"[^>]*data-busbw="([\d.]+)"', dom)]
    recorded = json.loads(H200_NCCL.with_suffix(".expected.json").read_text())["rows"]
    assert sizes == [r["size_bytes"] for r in recorded] and busbw == [r["oop_busbw_gbps"] for r in recorded]
    [nccl] = injected["nccl"]  # the floor the H200's own topology gives (2 GPUs, NV18), drawn
    drawn = re.search(r'<line class="floor"[^>]*data-floor="([\d.]+)"', dom).group(1)
    assert nccl["floor_gbps"] > 100 and drawn == str(nccl["floor_gbps"])
    shutil.copy(tmp_path / "injected.png", latest.parent / "report-injected.png")  # to look at
    shutil.copy(tmp_path / "validate.png", latest.parent / "report-validate.png")


@pytest.mark.skipif(TORCH_WHEEL is None, reason="no CPU torch wheel for Python 3.11 (set LAB_TORCH_WHEEL)")
def test_ddp_smoke_job_same_loss_on_every_node():
    assert "validate" in VALIDATE_RUNS, "test_validate_passes did not run"
    run = VALIDATE_RUNS["validate"]
    ddp = [m for m in run.messages if m.startswith("DDP over")]
    assert ddp and f"DDP over {NODES} node(s) (gloo)" in ddp[-1], run.messages  # [0]: the one-node run
    print("\n" + ddp[0])


LISTENER = """import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
while True:
    s.accept()[0].close()
"""
PROBE = """import socket, sys
c = socket.socket()
c.settimeout(3)
try:
    c.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except socket.timeout:
    print("dropped")
except OSError as exc:
    print("refused", exc)
"""


def test_firewall_refuses_an_unrelated_listener_and_a_switched_on_role_adds_its_port(inventory, fact_cache):
    # site.yml loaded the firewall on every node before validate ran (test_validate_passes: srun -N3, MPI
    # hello, munge matrix, DDP job through it). Here: a listener nobody declared (7777) is dropped from
    # another node while one in srun's declared range (60500) answers; slurmrestd switched on (its
    # declaration only, as munge_slurm's configure writes it) opens 6820 on the controller without any
    # firewall data; switched off, it closes.
    print("\nnode0: nft list ruleset\n" + node_exec("node0", "nft", "list", "ruleset").stdout)
    for node in NODE_NAMES:
        table = node_exec(node, "nft", "list", "table", "inet", "gpuforge").stdout
        assert "policy drop;" in table and 'comment "cluster_firewall ssh"' in table, (node, table)
    for port in (7777, 60500):
        subprocess.run(["podman", "exec", "-d", f"{PREFIX}-node1", "timeout", "120", "python3", "-c",
                        LISTENER, str(port)], check=True)
    node1 = f"{SUBNET}.11"
    try:
        for port in (7777, 60500):  # both listen (seen from node1 itself, through lo)
            assert node_exec("node1", "python3", "-c", PROBE, "127.0.0.1", str(port)).stdout.strip() == "open"
        assert node_exec("node2", "python3", "-c", PROBE, node1, "7777").stdout.strip() == "dropped"
        assert node_exec("node2", "python3", "-c", PROBE, node1, "60500").stdout.strip() == "open"
    finally:
        node_exec("node1", "pkill", "-f", "import socket, sys", check=False)

    ports = str(REPO / "tests" / "lab" / "slurm_ports.yml")
    restd = 'tcp dport 6820 accept comment "munge_slurm slurmrestd"'
    for on in (True, False):
        declared = labctl.run_playbook(ports, inventory, fact_cache=fact_cache,
                                       extravars={"munge_slurm_restd": on})
        assert declared.rc == 0 and declared.changed == 1, failure_text(declared)
        if on:  # inserted into the loaded table at once: reachable before the firewall role runs again
            assert restd in node_exec("node0", "nft", "list", "table", "inet", "gpuforge").stdout
        firewall = labctl.run_playbook("firewall.yml", inventory, fact_cache=fact_cache)
        assert firewall.rc == 0 and firewall.changed > 0, failure_text(firewall)
        assert (restd in node_exec("node0", "nft", "list", "table", "inet", "gpuforge").stdout) is on
        assert restd not in node_exec("node1", "nft", "list", "table", "inet", "gpuforge").stdout
    again = labctl.run_playbook("firewall.yml", inventory, fact_cache=fact_cache)
    assert again.rc == 0 and again.changed == 0, failure_text(again)


def test_a_rule_set_that_cuts_the_controller_off_is_rolled_back_by_the_node(inventory, fact_cache):
    # What preflight cannot see (a NAT, a jump host, a hand edit between write and load): node1's new rule set
    # loses its SSH line after it was written and checked, before it is loaded - the test edits it there, on
    # the node, the moment the role has written it. The load cuts the controller off; the run stops with the
    # rollback message, and the node's own timer (armed before the load) puts the previous rule set back:
    # node1 answers again within the confirm timeout, with its previous rules, and a plain run changes
    # nothing.
    before = node_exec("node1", "nft", "list", "table", "inet", "gpuforge").stdout
    edited = []

    def cut_ssh(ev):
        data = ev.get("event_data") or {}
        if (ev.get("event") == "runner_on_ok" and data.get("host") == "node1" and not edited
                and data.get("task", "").startswith("Write the rule set")):
            node_exec("node1", "sed", "-i", "/cluster_firewall ssh/d", "/etc/gpuforge/firewall.nft")
            edited.append(time.monotonic())

    extra = {"cluster_firewall_confirm_timeout": 20,
             "cluster_firewall_extra_ports": [{"name": "rollback test", "port": 7777}]}
    run = labctl.run_playbook("firewall.yml", inventory, fact_cache=fact_cache, extravars=extra,
                              limit="node1", watch=cut_ssh)
    assert edited and run.rc != 0
    text = " ".join(failure_text(run).split())
    assert "the new rule set cut this controller's SSH session to node1; the previous rule set comes back " \
           "within 20 s" in text, text
    key_dir = inventory.parent / "ssh"
    ssh = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-o", "ControlMaster=no", "-o",
           "ControlPath=none", "-o", f"UserKnownHostsFile={key_dir}/known_hosts", "-o",
           "StrictHostKeyChecking=yes", "-i", str(key_dir / "id_ed25519"),
           f"{LOGIN_USERS['node1']}@{SUBNET}.11", "true"]
    back = None
    while time.monotonic() - edited[0] < 90:
        probe = subprocess.run(ssh, capture_output=True, check=False)
        if probe.returncode == 0:
            back = time.monotonic() - edited[0]
            break
        time.sleep(2)
    print(f"node1 answered SSH again {back} s after the cut (confirm timeout 20 s)")
    assert back is not None and back <= 20 + 30
    assert node_exec("node1", "nft", "list", "table", "inet", "gpuforge").stdout == before
    journal = node_exec("node1", "journalctl", "-t", "gpuforge-firewall", "--no-pager").stdout
    assert "the new rule set was not confirmed by the controller: the previous one is back" in journal
    again = labctl.run_playbook("firewall.yml", inventory, fact_cache=fact_cache)
    assert again.rc == 0 and again.changed == 0, failure_text(again)


def test_rdma_ports_are_written_and_a_drifted_port_is_repaired(inventory, fact_cache):
    # node0 and node1 write their port for systemd-networkd (found by MAC), node2 for netplan as Ubuntu does
    # (by name: netplan matches a permanent MAC, which a veth has not); networkd applies both.
    conf = node_exec("node1", "cat", "/etc/systemd/network/60-gpuforge-data.network").stdout
    assert "MTUBytes=9000" in conf and f"Address={SUBNET2}.11/24" in conf and "RequiredForOnline=no" in conf
    assert re.search(r"^MACAddress=02:00:00:[0-9a-f]{2}:00:0b$", conf, re.M), conf
    assert node_exec("node2", "stat", "-c", "%a", RDMA_FILES[1]).stdout.strip() == "600"
    status = node_exec("node2", "networkctl", "status", "data0").stdout
    assert "/run/systemd/network/10-netplan-data0.network" in status, status
    for node in NODE_NAMES:
        assert data_port(node) == (9000, [f"{SUBNET2}.{10 + int(node[4:])}/24"])
        links = node_exec(node, "networkctl", "list").stdout
        assert re.search(r"data0\s+ether\s+routable\s+configured", links), (node, links)
        # networkd manages only the optional data port here: wait-online is masked, else it (pulled in
        # again by netplan's generator on node2) held munge's start at its install, and boot, for its
        # 2-minute timeout.
        wait_online = node_exec(node, "systemctl", "is-enabled", "systemd-networkd-wait-online.service",
                                check=False).stdout.strip()
        assert wait_online == "masked", (node, wait_online)
        assert "Timeout occurred" not in node_exec(node, "journalctl", "-u", "systemd-networkd-wait-online",
                                                   "--no-pager").stdout, node
    # node1's port loses its address and jumbo MTU (a reboot before the files existed, a hand-made change):
    # the next run reconfigures that link only, and the run after changes nothing; that one also measures
    # every pair with iperf3 (rdma_network_benchmark) and prints the pair table.
    in_netns("node1", "ip", "address", "flush", "dev", "data0")
    in_netns("node1", "ip", "link", "set", "data0", "mtu", "1500")
    run = labctl.run_playbook("fabric.yml", inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    assert {host for _task, host in changed_tasks(run)} == {"node1"}, changed_tasks(run)
    assert data_port("node1") == (9000, [f"{SUBNET2}.11/24"])
    benchmark = {"rdma_network_benchmark": True, "rdma_network_benchmark_seconds": 2}
    again = labctl.run_playbook("fabric.yml", inventory, fact_cache=fact_cache, extravars=benchmark)
    assert again.rc == 0 and again.changed == 0, changed_tasks(again)
    [table] = [msg for _host, msg in again.shown
               if isinstance(msg, list) and msg and str(msg[0]).startswith("| Pair |")]
    rows = [line for line in table if re.match(r"^\| node\d -> node\d \(data\)", line)]
    assert len(rows) == NODES, table
    for row in rows:
        tcp = row.split("|")[5].strip()
        assert float(tcp) > 0.1, row  # Gb/s measured by iperf3 over the data network
    # No RDMA device and a virtual link: said, not hidden.
    said = [line for line in table if line.startswith("not judged:")]
    assert said and "RDMA or TCP bandwidth missing" in said[0] and "link rate unknown" in said[0], table
    print("\n" + "\n".join(table))


def test_a_switch_port_that_drops_jumbo_frames_is_named(inventory, fact_cache):
    # node1's switch port (the host end of its link) takes 1500-byte frames only: the ports all say 9000,
    # small pings pass, full frames vanish. verify names every pair through that port and why.
    port = switch_port("node1")
    subprocess.run(["ip", "link", "set", port, "mtu", "1500"], check=True)
    try:
        run = labctl.run_playbook("fabric.yml", inventory, fact_cache=fact_cache)
    finally:
        subprocess.run(["ip", "link", "set", port, "mtu", "9000"], check=True)
    assert run.rc != 0 and run.changed == 0
    text = failure_text(run)
    assert (f"node0 -> node1 {SUBNET2}.11 (network data, data0 MTU 9000): 8972-byte payload with DF lost, a "
            "56-byte ping answered: a switch port or the peer drops frames above a smaller MTU") in text, text
    assert f"node1 -> node2 {SUBNET2}.12" in text and "node0 -> node2" not in text


def test_r1_netplan_render_passes_netplan_generate(inventory, tmp_path):
    # The R1 example inventory rendered offline; netplan itself (node2 has it) reads the file.
    run = labctl.run_playbook("render.yml", REPO / "inventories" / "r1", fact_cache=tmp_path / "empty",
                              extravars={"gpuforge_render_dir": str(tmp_path / "out")})
    assert run.rc == 0, failure_text(run)
    rendered = tmp_path / "out" / "gpuserver1" / "etc" / "netplan" / "60-gpuforge-rdma.yaml"
    node_exec("node2", "rm", "-rf", "/tmp/r1")
    node_exec("node2", "mkdir", "-p", "/tmp/r1/etc/netplan")
    subprocess.run(["podman", "cp", str(rendered), f"{PREFIX}-node2:/tmp/r1/etc/netplan/"], check=True)
    node_exec("node2", "chmod", "0600", "/tmp/r1/etc/netplan/60-gpuforge-rdma.yaml")
    gen = node_exec("node2", "netplan", "generate", "--root-dir", "/tmp/r1", check=False)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    ens6 = node_exec("node2", "cat", "/tmp/r1/run/systemd/network/10-netplan-ens6.network").stdout
    ens6d1 = node_exec("node2", "cat", "/tmp/r1/run/systemd/network/10-netplan-ens6d1.network").stdout
    assert "Address=10.0.1.1/24" in ens6 and "MTUBytes=9000" in ens6 and "RequiredForOnline=no" in ens6
    assert "Address=10.0.0.1/24" in ens6d1 and "MTUBytes=9000" in ens6d1


def test_slurm_sees_gres_only_on_the_gpu_nodes(inventory):
    want = {"h100-580-q-x": "gpu:h100:1", "h200x2-580-q-x": "gpu:h200:2"}
    for node in NODE_NAMES:
        out = node_exec("node0", "scontrol", "show", "node", node).stdout
        gres = out.split("Gres=", 1)[1].split()[0]
        assert gres == (want[GPU_NODES[node]] if node in GPU_NODES else "(null)"), (node, gres)


@pytest.mark.parametrize("facts_from", ["fact-cache", "record_facts"])
def test_render_gives_the_deployed_files(inventory, fact_cache, tmp_path, facts_from):
    # render.yml (no SSH: connection local) through the roles' own templates, fed from the lab's fact
    # cache, or from files record_facts.yml wrote (read-only) with an empty cache: whole files
    # byte-identical to the deployed ones, managed blocks identical to the block on the node.
    extravars = {"gpuforge_render_dir": str(tmp_path)}
    cache = fact_cache
    if facts_from == "record_facts":
        extravars["gpuforge_facts_dir"] = str(tmp_path.parent / (tmp_path.name + "-facts"))
        record = labctl.run_playbook("record_facts.yml", inventory, fact_cache=tmp_path.parent / "cache-r",
                                     extravars=extravars)
        assert record.rc == 0, failure_text(record)
        recorded = sorted(p.stem for p in Path(extravars["gpuforge_facts_dir"]).glob("*.json"))
        assert recorded == NODE_NAMES
        cache = tmp_path.parent / "cache-empty"
    run = labctl.run_playbook("render.yml", inventory, fact_cache=cache, extravars=extravars)
    assert run.rc == 0, failure_text(run)
    blocks = {"/etc/hosts", "/etc/ssh/ssh_known_hosts", "/etc/openmpi/openmpi-mca-params.conf"}
    compared = []
    for node in NODE_NAMES:
        for path in sorted((tmp_path / node).rglob("*")):
            if not path.is_file():
                continue
            on_node = "/" + str(path.relative_to(tmp_path / node))
            deployed = node_exec(node, "cat", on_node).stdout
            rendered = path.read_text()
            if on_node in blocks:
                assert rendered.startswith("# BEGIN") and rendered in deployed, (node, on_node, rendered)
            else:
                assert rendered == deployed, (node, on_node)
            compared.append(on_node)
    for want in ("/etc/slurm/slurm.conf", "/etc/slurm/gres.conf", "/etc/slurm/cgroup.conf", "/etc/hosts",
                 "/etc/openmpi/gpuforge-hostfile", "/etc/ssh/ssh_config.d/50-gpuforge-cluster.conf"):
        assert compared.count(want) == NODES, (want, compared)


def test_an_unknown_host_key_is_refused(inventory, fact_cache, tmp_path):
    # The controller checks host keys (labctl keeps ansible-runner from turning that off).
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "hosts.yml").write_text((inventory / "hosts.yml").read_text())
    conn = (inventory / "group_vars" / "all" / "lab_connection.yml").read_text()
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    conn = "\n".join(line.replace(str(inventory.parent / "ssh" / "known_hosts"), str(empty))
                     .replace(str(inventory.parent / "cp"), str(tmp_path)) for line in conn.splitlines())
    (tmp_path / "group_vars" / "all" / "lab_connection.yml").write_text(conn + "\n")
    run = labctl.run_playbook("validate.yml", tmp_path, fact_cache=tmp_path / "facts")
    assert run.rc != 0
    assert "Host key verification failed" in failure_text(run), failure_text(run)


def test_srun_on_all_nodes(inventory):
    out = node_exec("node0", "runuser", "-u", "cluster", "--", "srun", f"-N{NODES}", "hostname")
    assert sorted(out.stdout.split()) == NODE_NAMES


def test_mpirun_hello_across_nodes_as_cluster_user(inventory):
    out = node_exec("node0", "runuser", "-u", "cluster", "--", "mpirun", "-np", str(NODES),
                    "--host", ",".join(NODE_NAMES), "python3", "/usr/local/bin/gpuforge-mpi-hello.py")
    assert sorted(out.stdout.split("\n")[:NODES]) == [
        f"rank {i} of {NODES} on {node}" for i, node in enumerate(NODE_NAMES)]


def test_nccl_tests_through_mpirun_reach_every_node_with_the_environment(inventory, fact_cache):
    # A STAND-IN all_reduce_perf_mpi (tests/lab/nccl_mpi_standin.yml) through the nccl_tests module: the ranks
    # on the other nodes were started over SSH by mpirun and still got every variable (-x), as the nccl role's
    # multi-node test needs for NCCL and the CUDA libraries.
    run = labctl.run_playbook(str(REPO / "tests" / "lab" / "nccl_mpi_standin.yml"), inventory,
                              fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    log = node_exec("node0", "cat", "/tmp/gpuforge-standin-mpi.log").stdout
    ranks = sorted(line for line in log.splitlines() if "# STAND-IN rank" in line)
    assert len(ranks) == NODES, log
    for node in NODE_NAMES:
        [line] = [r for r in ranks if f" on {node} as cluster:" in r]
        assert "args=-b 8 -e 8G -f 2 -g 1" in line, line
        assert "NCCL_DEBUG=INFO" in line and "GPUFORGE_STANDIN_PROBE=reached-every-rank" in line, line
        # Open MPI puts its own library directory first on the remote ranks (/usr/lib:...); ours follows.
        library_path = re.search(r"LD_LIBRARY_PATH=(\S+)", line).group(1).split(":")
        assert "/usr/local/cuda-13.0/lib64" in library_path, line
    assert "Avg bus bandwidth" in log


def test_munge_key_is_one_secret_file(inventory):
    sums = set()
    for node in NODE_NAMES:
        stat = node_exec(node, "stat", "-c", "%a %U:%G %s", "/etc/munge/munge.key").stdout.split()
        assert stat[:2] == ["400", "munge:munge"]
        assert 32 <= int(stat[2]) <= 1024
        sums.add(node_exec(node, "sha256sum", "/etc/munge/munge.key").stdout.split()[0])
    assert len(sums) == 1


CPU_OVERRIDE = "{{ {'CPUs': 1, 'CoresPerSocket': 1} if inventory_hostname == 'node1' else {} }}"


def test_cpu_change_restarts_in_order_and_node_returns_idle(inventory, fact_cache):
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache,
                              extravars={"munge_slurm_node_hardware": CPU_OVERRIDE})
    assert run.rc == 0, failure_text(run)
    changed = changed_tasks(run)
    assert ("Restart slurmctld", "node0") in changed
    assert {("Restart slurmd", n) for n in NODE_NAMES} <= changed
    assert not any(task == "Reconfigure Slurm" for task, _host in changed)
    order = [task[1] for task in run.tasks if task[1] in ("Restart slurmctld", "Restart slurmd")]
    assert order[0] == "Restart slurmctld"  # the controller first, then the nodes
    nodes = slurm_nodes()
    assert nodes["node1"] == ("idle", 1)
    assert all(state == "idle" for state, _cpus in nodes.values()), nodes
    # And back: the detected hardware again.
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    assert slurm_nodes()["node1"][1] > 1 or NODES < 2


def test_partition_option_change_only_reconfigures(inventory, fact_cache):
    partitions = [{"name": "main", "group": "all", "default": True,
                   "options": {"MaxTime": "90", "OverSubscribe": "NO", "State": "UP"}}]
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache,
                              extravars={"munge_slurm_partitions": partitions})
    assert run.rc == 0, failure_text(run)
    changed = changed_tasks(run)
    assert ("Reconfigure Slurm", "node0") in changed
    assert not any(task in ("Restart slurmctld", "Restart slurmd") for task, _host in changed), changed
    assert "MaxTime=01:30:00" in node_exec("node0", "scontrol", "show", "partition", "main").stdout
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    assert "MaxTime=UNLIMITED" in node_exec("node0", "scontrol", "show", "partition", "main").stdout


def test_restart_drain_is_resumed_but_an_admin_drain_stays(inventory, fact_cache):
    # What a restart race leaves (slurmctld drains a slurmd that registered with the old definition)
    # is resumed when the definition fits the measured hardware; an admin's drain is left alone.
    node_exec("node0", "scontrol", "update", "nodename=node1", "state=drain", "reason=Low CPUs")
    node_exec("node0", "scontrol", "update", "nodename=node2", "state=drain", "reason=disk check")
    try:
        run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache)
        changed = changed_tasks(run)
        assert ("Resume nodes this role's restart left down or drained", "node0") in changed, changed
        nodes = slurm_nodes()
        assert nodes["node1"][0] == "idle", nodes
        assert nodes["node2"][0] in ("drain", "drng"), nodes
        # verify refuses a drained node, naming it and the reason
        assert run.rc != 0 and "node2" in failure_text(run) and "disk check" in failure_text(run)
    finally:
        node_exec("node0", "scontrol", "update", "nodename=node2", "state=resume")
    deadline = time.monotonic() + 30  # right after a resume sinfo may still say idle* for a moment
    while slurm_nodes()["node2"][0] != "idle" and time.monotonic() < deadline:
        time.sleep(1)
    assert slurm_nodes()["node2"][0] == "idle", slurm_nodes()


SLURM_FILES = ("/etc/slurm/slurm.conf", "/etc/slurm/gres.conf", "/etc/slurm/cgroup.conf")
PENDING = "/var/lib/gpuforge/munge_slurm/pending.json"


def slurm_files() -> dict:
    return {node: node_exec(node, "sha256sum", *SLURM_FILES).stdout for node in NODE_NAMES}


def slurm_setting(key: str) -> str:
    for line in node_exec("node0", "scontrol", "show", "config").stdout.splitlines():
        if line.split("=", 1)[0].strip() == key:
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"{key} not in scontrol show config")


def srun_everywhere() -> list[str]:
    out = node_exec("node0", "srun", "-N", str(NODES), "--immediate=90", "hostname").stdout
    return sorted(out.split())


def test_a_slurmctld_that_does_not_come_back_gets_the_previous_files(inventory, fact_cache):
    # A value slurmd -G accepts (it never reads StateSaveLocation) but that stops slurmctld at start: the
    # restart fails, every node gets its previous slurm.conf, gres.conf and cgroup.conf back, slurmctld runs
    # them, the cluster still runs jobs on every node, and the play fails naming the setting and slurmctld's
    # own words.
    before = slurm_files()
    states = {node: node_state(node) for node in NODE_NAMES}
    run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache, extravars={
        "munge_slurm_config": {"StateSaveLocation": "/nonexistent/state"}, "munge_slurm_restart_timeout": 15})
    assert run.rc != 0
    text = failure_text(run)
    assert "did not answer `scontrol ping` within 15 s after the restart" in text, text
    assert "StateSaveLocation: /var/spool/slurmctld -> /nonexistent/state" in text
    assert "fatal: mkdir(/nonexistent/state)" in text
    assert "are back on every node and slurmctld answers again with them" in text
    assert ("Check with slurmd that the node's GPUs are the ones nvidia-smi found", "node1") in {
        (task, host) for _d, task, host, status in run.tasks if status == "ok"}
    assert slurm_files() == before
    assert {node: node_state(node) for node in NODE_NAMES} == states
    assert slurm_setting("StateSaveLocation") == "/var/spool/slurmctld"
    assert srun_everywhere() == NODE_NAMES
    for node in NODE_NAMES:
        assert node_exec(node, "test", "-e", PENDING, check=False).returncode == 1
    rerun = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache)
    assert rerun.rc == 0 and rerun.changed == 0, failure_text(rerun) or changed_tasks(rerun)


def test_a_run_killed_before_the_restart_is_finished_by_the_next(inventory, fact_cache):
    # MpiDefault needs a restart. The run is killed (ansible-runner kills its process group) once every node
    # has the new slurm.conf and before any daemon restarted: slurmctld still runs the old value and each node
    # keeps the pending marker. The next run with the same settings writes nothing and only restarts.
    change = {"munge_slurm_config": {"MpiDefault": "pmi2"}}
    write = "Write slurm.conf, gres.conf and cgroup.conf (the previous ones kept, the owed restart recorded)"
    seen = set()

    def after_the_write(event: dict) -> bool:
        task = (event.get("event_data") or {}).get("task")
        if event.get("event") == "playbook_on_task_start" and write in seen and task != write:
            return True
        if task == write:
            seen.add(task)
        return False

    killed = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache,
                                 extravars=change, cancel_when=after_the_write)
    assert killed.status == "canceled", killed.status
    assert {host for _d, task, host, status in killed.tasks if task == write and status == "changed"} == set(
        NODE_NAMES)
    assert not any(task.startswith("Restart slurm") for _d, task, _h, _s in killed.tasks)
    assert slurm_setting("MpiDefault") == "none"
    for node in NODE_NAMES:
        assert "MpiDefault=pmi2" in node_exec(node, "cat", "/etc/slurm/slurm.conf").stdout
        assert '"restart"' in node_exec(node, "cat", PENDING).stdout
    try:
        run = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache,
                                  extravars=change)
        assert run.rc == 0, failure_text(run)
        changed = changed_tasks(run)
        restarts = {("Restart slurmctld", "node0")} | {("Restart slurmd", node) for node in NODE_NAMES}
        cleared = {("Clear the pending marker (the daemons run the new files)", node) for node in NODE_NAMES}
        assert changed == restarts | cleared, changed
        assert slurm_setting("MpiDefault") == "pmi2"
        said = " ".join(str(msg) for _h, msg in run.shown)
        assert ("an earlier run changed the files and stopped before the restart (MpiDefault: none -> pmi2)"
                in said)
    finally:
        back = labctl.run_playbook(SLURM_STAGE, inventory, fact_cache=fact_cache)
    assert back.rc == 0, failure_text(back)
    assert slurm_setting("MpiDefault") == "none"
    assert srun_everywhere() == NODE_NAMES


@pytest.mark.parametrize("node", NODE_NAMES)
def test_hostname_resolves_to_cluster_address(inventory, node):
    index = NODE_NAMES.index(node)
    out = node_exec(node, "sh", "-c", "getent hosts $(hostname)").stdout.split()
    assert out[0] == f"{SUBNET}.{10 + index}"
    assert out[1] == f"{node}.lab.gpuforge.test"


def test_cluster_user_batchmode_ssh_node1_to_node2(inventory):
    if NODES < 3:
        pytest.skip("needs 3 nodes")
    out = node_exec("node1", "runuser", "-u", "cluster", "--",
                    "ssh", "-o", "BatchMode=yes", "node2", "hostname")
    assert out.stdout.strip() == "node2"
    assert "Warning: Permanently added" not in out.stderr  # the host key was already known


def test_server_no_longer_offers_passwords(inventory):
    # The node that took only a password before site.yml: sshd now offers public keys only.
    res = ssh_as_login_user(inventory, PASSWORD_NODE, "true", methods="password,keyboard-interactive")
    assert res.returncode == 255
    assert "Permission denied (publickey)." in res.stderr, res.stderr


@pytest.mark.parametrize("node", NODE_NAMES)
def test_every_login_user_keeps_key_login_and_sudo(inventory, node):
    res = ssh_as_login_user(inventory, node, "sudo", "-n", "hostname")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == node


def test_lab_names_its_containers(inventory):
    argv = ["podman", "ps", "--filter", f"label=gpuforge-lab={PREFIX}", "--format", "{{.Names}}"]
    names = subprocess.run(argv, capture_output=True, text=True, check=False).stdout.split()
    assert sorted(names) == [f"{PREFIX}-{n}" for n in NODE_NAMES]


# InfiniBand firmware against FAKE tools (lab/fake_ib.yml: flint/mstflint keeping each device's flash, and
# ibstat/ibswitches/iblinkinfo/ibportstate/sminfo printing recorded outputs, with a STAND-IN
# /sys/class/infiniband): node0 and node1 are R3 nodes (ConnectX-3 behind the SX6005T whose EMC PSID holds
# the fabric at FDR10; no SM answers node0, one answers node1), node2 has a secure-firmware HCA. Removed
# again at the end: the other tests see nodes without RDMA devices.
FAKE_IB = {"node0": ("r3-fdr10", "absent"), "node1": ("r3-fdr10", "present"),
           "node2": ("secure-fw", "present")}
FAKE_IMAGES = REPO / "lab" / "fake_ib" / "images"
R3_FDR10 = "SX6005T FDR10 image EMC1260110026; FDR image MT_1260110021"


def fake_ib(inventory: Path, fact_cache: Path, state: str = "present") -> None:
    scenario = json.dumps({node: value[0] for node, value in FAKE_IB.items()})
    sminfo = json.dumps({node: value[1] for node, value in FAKE_IB.items()})
    run = labctl.run_playbook(str(REPO / "lab" / "fake_ib.yml"), inventory, fact_cache=fact_cache, extravars={
        "lab_fake_ib": "{{ " + scenario + "[inventory_hostname] }}",
        "lab_fake_ib_sminfo": "{{ " + sminfo + "[inventory_hostname] }}",
        "lab_fake_ib_state": state})
    assert run.rc == 0, failure_text(run)


def flint_log(node: str) -> list:
    """(time ns, node, tool, argv) per call of a FAKE tool on the node, in order."""
    text = node_exec(node, "cat", "/var/log/gpuforge-fake-ib.log", check=False).stdout
    return [(int(ns), host, tool, json.loads(argv)) for ns, host, tool, argv in
            (line.split(" ", 3) for line in text.splitlines() if line.strip())]


def flash_state(node: str) -> str:
    return node_exec(node, "sh", "-c", "cat /var/lib/gpuforge-fake-ib/*.json", check=False).stdout


def images(*names: str, devices: dict | None = None) -> list:
    out = []
    for name in names:
        path = FAKE_IMAGES / name
        out.append({"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "devices": (devices or {}).get(name, [])})
    return out


def test_infiniband_firmware_report_opensm_and_burn(inventory, fact_cache, tmp_path):
    if NODES < 3:
        pytest.skip("needs 3 nodes")
    fake_ib(inventory, fact_cache)
    try:
        _firmware_checks(inventory, fact_cache, tmp_path)
    finally:
        fake_ib(inventory, fact_cache, "absent")
    for node in NODE_NAMES:
        assert node_exec(node, "ls", "/sys/class/infiniband", check=False).stdout.strip() == ""


def _firmware_checks(inventory: Path, fact_cache: Path, tmp_path: Path) -> None:
    flash = {node: flash_state(node) for node in FAKE_IB}
    # The read-only report (fabric.yml): node0 reads the fabric; its port runs FDR10 against the FDR it
    # supports, and the switch's PSID is named; OpenSM on node0 only (no SM answers there).
    run = labctl.run_playbook("fabric.yml", inventory, fact_cache=fact_cache)
    assert run.rc == 0, failure_text(run)
    shown = "\n".join(str(msg) for _host, msg in run.shown)
    assert f"node0 mlx4_0 port 1: 40 Gb/s (FDR10), expected 56.25 - below: {R3_FDR10}" in shown, shown
    assert f"lid 2 (SwitchX -  Mellanox Technologies) port 5: 40.0 Gb/s (FDR10), expected 56.25 - below: " \
           f"{R3_FDR10}" in shown, shown
    assert "lid-2: FW 9.3.6000, PSID EMC1260110026 = SX6005T, EMC-branded FDR10 image" in shown, shown
    assert {node: flash_state(node) for node in FAKE_IB} == flash
    for node in FAKE_IB:
        assert all(c[2] != "flint" or c[3][-1] in ("query", "full") for c in flint_log(node)), flint_log(node)
    enabled = {node: node_exec(node, "systemctl", "is-enabled", "opensm.service", check=False).stdout.strip()
               for node in FAKE_IB}
    # Enabled, not started: a container has no umad interface (said in the run, and checked by the unit).
    assert enabled["node0"] == "enabled" and enabled["node1"] in ("", "disabled", "not-found"), enabled
    assert 'PORTS="0x0002c90300ea9941"' in node_exec("node0", "cat", "/etc/default/opensm").stdout
    assert "sm_priority 14" in node_exec("node0", "cat", "/etc/opensm/opensm.conf").stdout
    again = labctl.run_playbook("fabric.yml", inventory, fact_cache=fact_cache)
    assert again.rc == 0 and again.changed == 0, changed_tasks(again)

    backups = tmp_path / "backups"
    base = {"infiniband_fw_backup_dir": str(backups)}
    # Refused before anything: no explicit flag; a PSID change without the flag; a PSID change on the secure
    # HCA of node2 (even with the flag, and though node0 and node1 would take it).
    refusals = [
        ({"infiniband_fw_images": images("cx3-2.42.5000.img")}, "needs infiniband_fw_burn=true"),
        ({"infiniband_fw_burn": True, "infiniband_fw_images": images(
            "cx3-2.42.5000.img", "sx6005-fdr-MT_1260110021.img",
            devices={"sx6005-fdr-MT_1260110021.img": ["lid-2"]})},
         "lid-2: PSID mismatch: the flash holds EMC1260110026 (SX6005T, EMC-branded FDR10 image), the image "
         "sx6005-fdr-MT_1260110021.img MT_1260110021"),
        ({"infiniband_fw_burn": True, "infiniband_fw_allow_psid_change": True, "infiniband_fw_images": images(
            "other-psid.img", devices={"other-psid.img": ["0000:01:00.0", "0000:03:00.0"]})},
         "0000:03:00.0: secure firmware"),
    ]
    for extravars, message in refusals:
        before = {node: (flash_state(node), len(flint_log(node))) for node in FAKE_IB}
        run = labctl.run_playbook("firmware.yml", inventory, fact_cache=fact_cache,
                                  extravars={**base, **extravars})
        assert run.rc != 0 and message in failure_text(run), failure_text(run)
        for node in FAKE_IB:
            assert flash_state(node) == before[node][0], f"{node}: flash changed after a refusal"
            assert not [c for c in flint_log(node)[before[node][1]:] if set(c[3]) & {"ri", "burn", "b"}], node
        assert not backups.exists()

    # The burn: the ConnectX-3 image to every HCA with its PSID, the FDR image to the switch (a PSID change).
    burn = {**base, "infiniband_fw_burn": True, "infiniband_fw_allow_psid_change": True,
            "infiniband_fw_images": images("cx3-2.42.5000.img", "sx6005-fdr-MT_1260110021.img",
                                           devices={"sx6005-fdr-MT_1260110021.img": ["lid-2"]})}
    start = {node: len(flint_log(node)) for node in FAKE_IB}
    run = labctl.run_playbook("firmware.yml", inventory, fact_cache=fact_cache, extravars=burn)
    assert run.rc == 0, failure_text(run)
    calls = {node: [c for c in flint_log(node)[start[node]:] if c[2] in ("flint", "mstflint")]
             for node in FAKE_IB}
    burned = {node: [c[3][1] for c in calls[node] if c[3][-1] == "burn"] for node in FAKE_IB}
    assert burned == {"node0": ["0000:01:00.0", "lid-2"], "node1": ["0000:01:00.0"], "node2": []}, burned
    for node in ("node0", "node1"):
        for device in burned[node]:
            steps = [c[3] for c in calls[node] if c[3][:2] == ["-d", device]]
            # query (report) ... query full -> ri -> query (burn's check) -> burn -> query (verify)
            tail = [s[2:] if s[2] != "-i" else s[4:] for s in steps][-5:]
            assert tail[0] == ["query", "full"] and tail[1][0] == "ri", steps
            assert tail[3][-2:] == ["-y", "burn"], steps
            assert tail[2] == tail[4] == ["query"], steps
            backup = backups / node / Path(tail[1][1]).name.removesuffix(".partial")
            copy = hashlib.sha256(backup.read_bytes()).hexdigest()
            on_node = node_exec(node, "sha256sum", tail[1][1].removesuffix(".partial")).stdout.split()[0]
            assert copy == on_node and (backup.parent / (backup.name + ".query.txt")).is_file()
    # One node at a time: every backup or burn of node0 before the first of node1.
    node0_last = max(c[0] for c in calls["node0"] if set(c[3]) & {"ri", "burn"})
    node1_first = min(c[0] for c in calls["node1"] if set(c[3]) & {"ri", "burn"})
    assert node0_last < node1_first
    shown = "\n".join(str(msg) for _host, msg in run.shown)
    assert "lid-2: unmanaged switch: power-cycle it" in shown
    assert "PSID EMC1260110026 -> MT_1260110021" in shown
    assert "0000:01:00.0: reboot the host" in shown, shown
    # The flash now holds the images (the old version runs until the reset); a second run burns nothing.
    query = node_exec("node0", "flint", "-d", "lid-2", "query").stdout
    assert re.search(r"^PSID:\s+MT_1260110021$", query, re.M), query
    again = labctl.run_playbook("firmware.yml", inventory, fact_cache=fact_cache, extravars=burn)
    assert again.rc == 0 and again.changed == 0, changed_tasks(again)


SSHD_DROPIN = "/etc/ssh/sshd_config.d/05-gpuforge-password-auth.conf"
# A drop-in an admin left before ssh_trust changes it: 0600 on purpose, the revert puts mode and content back.
PREVIOUS_DROPIN = "# Left by an admin.\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
REVERT_TIMER = "gpuforge-sshd-revert.timer"


def put_sshd_dropin(node: str, content: str, mode: str) -> None:
    """Write the password drop-in on the node by hand and make sshd run with it."""
    subprocess.run(["podman", "exec", "-i", f"{PREFIX}-{node}", "sh", "-c",
                    f"cat > {SSHD_DROPIN} && chmod {mode} {SSHD_DROPIN} && sshd -t && systemctl reload ssh"],
                   input=content, text=True, check=True)


def sshd_dropin(node: str) -> tuple:
    """(content, 'mode owner group') of the password drop-in on the node."""
    return (node_exec(node, "cat", SSHD_DROPIN).stdout,
            node_exec(node, "stat", "-c", "%a %U %G", SSHD_DROPIN).stdout.strip())


def revert_armed(node: str) -> bool:
    return node_exec(node, "systemctl", "is-active", "--quiet", REVERT_TIMER, check=False).returncode == 0


def revert_journal(node: str, since: float) -> list:
    """(monotonic seconds, message) of the revert timer's and service's journal since a wall-clock time."""
    out = node_exec(node, "journalctl", "-o", "json", f"--since=@{since:.0f}", "-u", REVERT_TIMER,
                    "-u", REVERT_TIMER.replace(".timer", ".service")).stdout
    return [(int(entry["__MONOTONIC_TIMESTAMP"]) / 1e6, entry["MESSAGE"])
            for entry in map(json.loads, out.splitlines()) if isinstance(entry.get("MESSAGE"), str)]


def ansible_playbook() -> str:
    """The ansible-playbook of the Python that runs the tests (as lab/labctl.py finds it)."""
    import sys  # here, not above: the imports at the top are shared by every test

    return str(Path(sys.executable).parent / "ansible-playbook")


def lockout_vars(node: str, deadline: int) -> dict:
    """On one node, an sshd setting that sshd -t accepts but that shuts the controller's login user out."""
    return {"ssh_trust_sshd_settings": "{{ {'AllowUsers': 'nobody'} if inventory_hostname == '" + node
            + "' else {} }}",
            "ssh_trust_password_revert_seconds": deadline}


def test_a_password_change_that_locks_the_controller_out_is_put_back(inventory, fact_cache, tmp_path):
    """Issue 12: a drop-in change whose key proof fails after the reload puts the previous drop-in back
    (content and mode) at once; with the controller cut off after the reload, the node's timer puts it back
    by itself within the deadline. Only node1 changes; the lab ends as site.yml leaves it."""
    node, deadline = "node1", 20
    put_sshd_dropin(node, PREVIOUS_DROPIN, "600")
    previous = sshd_dropin(node)
    assert previous == (PREVIOUS_DROPIN, "600 root root"), previous

    # (a) The controller's key is refused after the reload: the run fails naming node1 and the cause, and the
    # previous drop-in is back, byte for byte.
    run = labctl.run_playbook(HOSTS_STAGE, inventory, fact_cache=fact_cache, tags="ssh_trust",
                              extravars=lockout_vars(node, deadline))
    text = failure_text(run)
    assert run.rc != 0 and {failure[0] for failure in run.failures} == {node}, text
    assert f"{node}: turning password logins off failed at 'Prove key login from the controller again'" \
        in text, text
    assert "Permission denied (publickey)" in text and "is back and sshd reloaded" in text, text
    changed = changed_tasks(run)
    assert {host for _task, host in changed} == {node}, changed  # the other nodes arm nothing
    assert sshd_dropin(node) == previous
    assert not revert_armed(node)
    res = ssh_as_login_user(inventory, node, "true")
    assert res.returncode == 0, res.stderr

    # (b) The same change with the controller cut off once sshd reloaded it: new connections from the
    # controller are dropped from the moment the revert is armed (the proof after the reload hangs),
    # ansible-playbook is killed while the proof waits, then every packet from the controller is dropped.
    # The node puts the previous drop-in back by itself.
    controller = f"{SUBNET}.1"
    rules = [["INPUT", "-s", controller, "-p", "tcp", "--dport", "22", "--syn", "-j", "DROP"],
             ["INPUT", "-s", controller, "-p", "tcp", "--dport", "22", "-j", "DROP"]]
    extravars = tmp_path / "lockout.json"
    extravars.write_text(json.dumps(lockout_vars(node, deadline)))
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_HOST_KEY_CHECKING": "True",
           "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(fact_cache), "ANSIBLE_FORCE_COLOR": "0",
           # Banners as each task starts (not with its first shown result), unbuffered.
           "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "True", "PYTHONUNBUFFERED": "1"}
    playbook = subprocess.Popen(
        [ansible_playbook(), "-i", str(inventory), "--tags", "ssh_trust", "-e", f"@{extravars}",
         str(REPO / "playbooks" / HOSTS_STAGE)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    started, armed_at = time.time(), None
    inserted = []
    output = []
    try:
        for line in playbook.stdout:
            output.append(line)
            if line.startswith("TASK [") and "Arm the revert timer" in line:
                in_netns(node, "iptables", "-I", *rules[0])
                inserted.append(rules[0])
                armed_at = time.monotonic()
            elif line.startswith("TASK [") and "Prove key login from the controller again" in line:
                os.killpg(playbook.pid, 9)
                in_netns(node, "iptables", "-I", *rules[1])
                inserted.append(rules[1])
                break
        playbook.wait(timeout=60)
        assert armed_at is not None and playbook.returncode == -9, "".join(output[-40:])
        assert "AllowUsers nobody" in sshd_dropin(node)[0] and revert_armed(node)  # the change is in force
        while time.monotonic() - armed_at < deadline + 15 and (
                revert_armed(node) or sshd_dropin(node) != previous):
            time.sleep(1)
    finally:
        if playbook.poll() is None:
            os.killpg(playbook.pid, 9)
            playbook.wait()
        for rule in inserted:
            in_netns(node, "iptables", "-D", *rule)
    assert sshd_dropin(node) == previous and not revert_armed(node), sshd_dropin(node)
    # By the node's own clock: armed, then put back by the timer once the deadline passed (1 s accuracy).
    journal = revert_journal(node, started)
    [armed] = [at for at, message in journal if message.startswith(f"Started {REVERT_TIMER}")]
    [put_back] = [at for at, message in journal if message == f"put back the previous {SSHD_DROPIN}"]
    reverted_after = put_back - armed
    assert deadline <= reverted_after <= deadline + 2, journal
    res = ssh_as_login_user(inventory, node, "true")
    assert res.returncode == 0, res.stderr
    print(f"\n{node} put its previous sshd drop-in back {reverted_after:.1f}s after the revert was armed")

    # The lab as site.yml leaves it: the role's drop-in through the same guard (armed, proven, cancelled).
    # That a run with the drop-in in place changes nothing, and so arms nothing: test_rerun_changes_nothing.
    run = labctl.run_playbook(HOSTS_STAGE, inventory, fact_cache=fact_cache, tags="ssh_trust")
    assert run.rc == 0, failure_text(run)
    changed = changed_tasks(run)
    assert {host for _task, host in changed} == {node}, changed
    guard = {"Arm the revert timer, deadline in seconds 120", "Cancel the revert"}
    assert guard <= {task for task, _host in changed}, changed
    assert not revert_armed(node) and sshd_dropin(node)[1] == "644 root root"
