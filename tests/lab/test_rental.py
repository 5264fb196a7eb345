"""R4's rental layout on the built lab, last (it renames the nodes rental0..2): the lab's first network
stands in for the public addresses (10.79.0.0/24, with the default route), its second for the private
ones (10.81.0.0/24, internal); node0 and node2 take only ubuntu, node1 only user; the nodes are
privileged (Docker inside).

The literal `ansible-playbook -i nodes.txt playbooks/rental.yml` runs from a folder of its own (the test's
nodes.txt and group_vars/, `playbooks` linked to the repository's), so logs/ land there.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import labctl
import pytest
import yaml
from conftest import LOGIN_USERS, MODEL_FILE_SIZE, REPO, SUBNET, SUBNET2, node_exec
from test_lab import NODE_NAMES, changed_tasks, failure_text, secret_forms

# SSH timeouts and Ray's registration are timed here: run with the machine to itself (conftest.py).
pytestmark = pytest.mark.quiet

RAY_VERSION = yaml.safe_load((REPO / "roles/ray_cluster/defaults/main.yml").read_text())[
    "ray_cluster_version"
]
HOSTS = [f"rental{i}" for i in range(len(NODE_NAMES))]
PUBLIC = {h: f"{SUBNET}.{10 + i}" for i, h in enumerate(HOSTS)}
PRIVATE = {h: f"{SUBNET2}.{10 + i}" for i, h in enumerate(HOSTS)}
# The user the rental's cluster runs as: the head's login user.
CLUSTER_USER = LOGIN_USERS["node0"]
VENV = f"/opt/gpuforge/ray-{RAY_VERSION}"
VLLM_VERSION = yaml.safe_load((REPO / "roles/vllm_serve/defaults/main.yml").read_text())["vllm_serve_version"]
# A secret staged from the controller into the workspace (it must reach the node 0600 and never show); made
# once per lab (a kept lab's second session finds the same file).
SECRET: list = []


def wheelhouse(package: str, version: str, folder: str, *pip_args: str) -> Path:
    """``package==version`` as wheels for the nodes' Python (Debian 12: 3.11), downloaded once into the
    repository's cache (PyPI is reachable from the test machine) and copied to the nodes by a role's
    wheelhouse variable."""
    target = REPO / ".cache" / "wheels" / folder
    if not list(target.glob(f"{package}-{version}-*.whl")):
        target.mkdir(parents=True, exist_ok=True)
        platforms = ["manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64"]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
             "--python-version", "3.11", *[arg for p in platforms for arg in ("--platform", p)], *pip_args,
             "-d", str(target), f"{package}=={version}"],
            check=True,
        )
    return target


def ray_wheelhouse() -> Path:
    """Ray and its dependencies (ray_cluster_wheelhouse)."""
    return wheelhouse("ray", RAY_VERSION, f"ray-{RAY_VERSION}-cp311")


def vllm_wheelhouse() -> Path:
    """The pinned vLLM wheel alone (no torch, no CUDA libraries: GBs the lab's GPU-less containers could not
    use; vllm_serve_wheelhouse)."""
    return wheelhouse("vllm", VLLM_VERSION, f"vllm-{VLLM_VERSION}", "--no-deps")


def nodes_txt(hosts=HOSTS, extra: str = "") -> str:
    rows = "\n".join(f"{PUBLIC[h]}\t{PRIVATE[h]}" for h in hosts)
    return f"# the lab's rented boxes, as a provider's table\nPublic IP\tPrivate IP\n{rows}\n{extra}"


@pytest.fixture(scope="module")
def rental(inventory: Path) -> Path:
    folder = inventory.parent / "rental"
    (folder / "group_vars").mkdir(parents=True, exist_ok=True)
    (folder / "logs").mkdir(exist_ok=True)
    if not (folder / "playbooks").exists():
        (folder / "playbooks").symlink_to(REPO / "playbooks")
    # Power saving (test_powersave.py) would power the nodes down when idle: its controller stops here,
    # and every node's sshd runs.
    node_exec("node0", "systemctl", "stop", "slurmctld", check=False)
    for node in NODE_NAMES:
        node_exec(node, "systemctl", "start", "ssh")
    # A rented box comes with the renter's key authorized (node0 took only a password at first).
    pub = (inventory.parent / "ssh" / "id_ed25519.pub").read_text()
    for node in NODE_NAMES:
        user = LOGIN_USERS[node]
        keys = f"~{user}/.ssh/authorized_keys"
        node_exec(
            node,
            "sh",
            "-c",
            f"install -d -m 0700 -o {user} -g {user} ~{user}/.ssh && touch {keys} && "
            f"chown {user}:{user} {keys} && "
            f"chmod 0600 {keys} && (grep -qF '{pub.split()[1]}' {keys} || echo '{pub.strip()}' >> {keys})",
        )
    (folder / "nodes.txt").write_text(nodes_txt())
    secret = folder / "secret.env"
    if not secret.exists():
        secret.write_text(f"API_TOKEN={secrets.token_urlsafe(24)}\n")
    SECRET[:] = [secret.read_text().strip().split("=", 1)[1]]
    secret.chmod(0o600)
    notify = folder / "notify.sh"
    notify.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {folder / 'notified.txt'}\n")
    notify.chmod(0o755)
    known = folder / "known_hosts"
    known.touch(mode=0o600)
    key = inventory.parent / "ssh" / "id_ed25519"
    group_vars = {
        # First contact with these addresses: their keys are learned (fingerprints printed), checking
        # stays on.
        "rental_access_host_keys": "accept-new",
        "rental_access_known_hosts": str(known),
        "rental_access_ssh_config": str(folder / "ssh_config"),
        "rental_access_timeout": 5,
        "ansible_ssh_private_key_file": str(key),
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes",
        "ansible_control_path_dir": str(inventory.parent / "cp-rental"),
        "ansible_become": True,
        "ray_cluster_wheelhouse": str(ray_wheelhouse()),
        # The lab's GPUs are FAKE (a recorded nvidia-smi; Ray cannot detect them): announce what
        # nvidia-smi says.
        "ray_cluster_num_gpus": "facts",
        # Containers have a 64 MB /dev/shm: a small object store (Ray falls back to /tmp above it).
        "ray_cluster_object_store_memory": 100 * 2**20,
        "workspace_files": [{"src": str(secret), "dest": ".env"}],
        "workspace_git_name": "Lab Renter",
        "workspace_git_email": "renter@lab.gpuforge.test",
        "rental_notify_command": [str(notify)],
    }
    (folder / "group_vars" / "all.yml").write_text(yaml.safe_dump(group_vars))
    return folder


def rental_playbook(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """The literal command, run from the rental folder."""
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    return subprocess.run(
        ["ansible-playbook", "-i", "nodes.txt", "playbooks/rental.yml", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def rental_run(folder: Path, playbook: Path = REPO / "playbooks" / "rental.yml", **kw) -> labctl.PlaybookRun:
    """rental.yml (or a lab playbook of tests/lab) on the rental folder's nodes.txt (ansible-runner)."""
    return labctl.run_playbook(
        str(playbook),
        folder / "nodes.txt",
        project_dir=folder,
        fact_cache=folder / "facts",
        **kw,
    )


def as_cluster_user(node: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    """A command on a node as the cluster user, in a login shell's environment (sudo -i)."""
    return node_exec(node, "sudo", "-iu", CLUSTER_USER, *argv, check=check)


def ray_nodes() -> list:
    """The alive nodes the head's GCS knows (the role's own lister, /usr/local/lib/gpuforge/ray-nodes.py)."""
    out = node_exec(
        "node0",
        "sudo",
        "-u",
        CLUSTER_USER,
        f"{VENV}/bin/python",
        "/usr/local/lib/gpuforge/ray-nodes.py",
        f"{PRIVATE['rental0']}:6379",
        PRIVATE["rental0"],
    ).stdout
    return [n for n in json.loads(out.strip().splitlines()[-1]) if n["Alive"]]


def test_rental_playbook_builds_docker_and_ray_on_the_private_addresses(rental):
    t0 = time.monotonic()
    run = rental_playbook(rental)
    took = time.monotonic() - t0
    assert run.returncode == 0, run.stdout[-6000:]
    print(f"rental.yml first run: {took:.0f} s")
    out = run.stdout
    # The users found, node by node.
    for host, node in zip(HOSTS, NODE_NAMES, strict=True):
        assert f"{host} {PUBLIC[host]}: {LOGIN_USERS[node]}" in out, out[-4000:]
    # The final table: every node ok, with its addresses, user, Docker and Ray.
    table = out[out.index("Show the nodes") :]
    for host, node in zip(HOSTS, NODE_NAMES, strict=True):
        row = next(
            line for line in table.splitlines() if re.search(rf"\b{host}\b.*{re.escape(PUBLIC[host])}", line)
        )
        assert PRIVATE[host] in row and LOGIN_USERS[node] in row and RAY_VERSION in row and " ok" in row, row
        # Docker's column: what the node's daemon runs (container_runtime_status).
        docker = node_exec(node, "docker", "version", "--format", "{{.Server.Version}}").stdout.strip()
        assert docker and docker in row, row
    print(table[:3000])
    # Ray: every node alive once, each at its private address.
    nodes = ray_nodes()
    assert sorted(n["NodeManagerAddress"] for n in nodes) == sorted(PRIVATE.values()), nodes
    status = node_exec(
        "node0",
        "sudo",
        "-u",
        CLUSTER_USER,
        f"{VENV}/bin/ray",
        "status",
        f"--address={PRIVATE['rental0']}:6379",
    ).stdout
    print(status)
    assert len(re.findall(r"^ 1 node_", status, re.M)) == len(HOSTS), status
    for host, node in zip(HOSTS, NODE_NAMES, strict=True):
        # The hostname resolves to the private address (not 127.0.1.1, not the public one).
        name = node_exec(node, "hostname").stdout.strip()
        assert name == host
        assert node_exec(node, "getent", "hosts", name).stdout.split()[0] == PRIVATE[host]
        # Docker as the cluster user, in this same run's setup (no new login): a locally built image.
        ran = as_cluster_user(node, "docker", "run", "--rm", "gpuforge-probe:1", "echo", "ok")
        assert ran.stdout.strip() == "ok", ran.stderr
        env = as_cluster_user(
            node,
            "/usr/local/bin/gpuforge-docker-run",
            "--rm",
            "gpuforge-probe:1",
            "env",
        ).stdout.splitlines()
        assert "NCCL_SOCKET_IFNAME=data0" in env, env
        # The workspace secret: the controller's file, 0600, the cluster user's.
        mode = node_exec(node, "stat", "-c", "%a %U", f"/home/{CLUSTER_USER}/.env").stdout.split()
        assert mode == ["600", CLUSTER_USER]
    # tmux on the head: a head window and one all-nodes window whose worker panes ssh to worker1..N, which the
    # cluster user's ssh config maps to the private addresses.
    panes = as_cluster_user(
        "node0",
        "tmux",
        "list-panes",
        "-a",
        "-F",
        "#{window_name}|#{pane_title}|#{pane_start_command}",
    ).stdout.splitlines()
    print("\n".join(panes))
    assert [p.split("|")[0] for p in panes] == ["head"] + ["all-nodes"] * len(HOSTS), panes
    config = node_exec("node0", "cat", f"/home/{CLUSTER_USER}/.ssh/config").stdout
    for n, host in enumerate(HOSTS[1:], 1):
        assert any(f"worker{n}" in p and "ssh" in p and PRIVATE[host] in p for p in panes), panes
        assert f"Host worker{n}\n    HostName {PRIVATE[host]}" in config, config
        # The alias works as the cluster user, over the private network.
        who = as_cluster_user("node0", "ssh", f"worker{n}", "hostname").stdout.strip()
        assert who == host
    # Logs per node on the controller; the notification; the secret nowhere in them.
    logs = {host: (rental / "logs" / f"{host}.log").read_text() for host in HOSTS}
    assert all("Ray head and workers" in text for text in logs.values())
    for form in secret_forms(SECRET[0].encode()):
        assert form not in out and all(form not in text for text in logs.values())
    assert "Cluster Ready: 3 of 3 nodes set up" in (rental / "notified.txt").read_text()


def test_rental_rerun_changes_nothing(rental):
    run = rental_run(rental)
    assert run.rc == 0, failure_text(run)
    print(f"rental.yml re-run: {run.wall_s:.0f} s, changed={run.changed}")
    assert run.changed == 0, changed_tasks(run)


def r5_render(tmp_path: Path) -> Path:
    """playbooks/render.yml on the R5 example inventory (tests/unit/test_render_r5.py checks what it says)."""
    out = tmp_path / "r5"
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(tmp_path / "r5-facts"),
    }  # empty: only the recorded files
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(REPO / "inventories/r5"),
            str(REPO / "playbooks/render.yml"),
            "-e",
            f"gpuforge_render_dir={out}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    return out


def test_inference_playbook_installs_vllm_checks_its_unit_and_writes_the_versions_table(
    rental, server, tmp_path
):
    # playbooks/inference.yml on the rented nodes (Ray already runs there): hosts, Ray, a model staged from
    # the controller, vLLM (the pinned wheel, without torch and CUDA: the containers have no GPU) into Ray's
    # venv on the two nodes with FAKE GPUs, its unit on rental1 checked by systemd-analyze verify and not
    # started, and the versions table. The GPU stack's read-only check needs installed NVIDIA packages (the
    # FAKE GPUs have none) and the rental layout's firewall needs the controller's public address as an admin
    # network: both are off here (the firewall runs on the lab in test_lab.py, the GPU stack check on the GPU
    # machine).
    extravars = {
        "gpuforge_gpu_stack": False,
        "gpuforge_firewall": False,
        "ssh_trust_user": CLUSTER_USER,
        "ray_cluster_user": CLUSTER_USER,
        "model_cache_owner": CLUSTER_USER,
        "model_cache_model": "lab-model",
        "model_cache_files": [
            {
                "url": f"{server['base']}/ok/shard-1.bin",
                "name": "shard-1.bin",
                "sha256": server["sha256"],
                "size": MODEL_FILE_SIZE,
            }
        ],
        "vllm_serve_group": "workers",
        "vllm_serve_host": "rental1",
        "vllm_serve_model": "lab-model",
        "vllm_serve_user": CLUSTER_USER,
        "vllm_serve_wheelhouse": str(vllm_wheelhouse()),
        "vllm_serve_install_dependencies": False,
        "vllm_serve_start": False,
    }
    playbook = REPO / "tests" / "lab" / "rental_inference.yml"
    run = rental_run(rental, playbook, extravars=extravars)
    assert run.rc == 0, failure_text(run)
    print(f"inference.yml first run: {run.wall_s:.0f} s, changed={run.changed}")
    shown = "\n".join(str(msg) for _host, msg in run.shown)
    assert "2 pipeline stage(s) x 1 GPU(s) over rental1, rental2, server on rental1" in shown, shown[-3000:]
    assert "gpuforge-vllm.service is installed and passed systemd-analyze verify; it is not started" in shown
    version = [f"{VENV}/bin/python", "-c", "import importlib.metadata as m; print(m.version('vllm'))"]
    for node in NODE_NAMES[1:]:
        assert node_exec(node, *version).stdout.strip() == VLLM_VERSION
    assert node_exec("node0", *version, check=False).returncode != 0  # not a pipeline node: no vLLM
    unit = node_exec("node1", "systemctl", "cat", "gpuforge-vllm.service").stdout
    assert f"ExecStart={VENV}/bin/vllm serve /var/cache/gpuforge/models/lab-model " in unit, unit
    assert (
        f"--host {PRIVATE['rental1']} --port 8000 --pipeline-parallel-size 2 --tensor-parallel-size 1 "
        in unit
    )
    assert f"Environment=RAY_ADDRESS={PRIVATE['rental0']}:6379" in unit
    state = node_exec("node1", "systemctl", "is-active", "gpuforge-vllm.service", check=False).stdout.strip()
    assert state == "inactive", state
    # The R5 inventory's unit (rendered offline for pc1) passes systemd-analyze verify on a node that has what
    # it names: Ray's venv with the pinned vLLM, and gpuforge-ray.service. A unit naming a program that is not
    # there fails the same check (the check can fail).
    r5 = (r5_render(tmp_path) / "pc1/etc/systemd/system/gpuforge-vllm.service").read_text()
    assert f"ExecStart={VENV}/bin/vllm serve " in r5
    broken = r5.replace(f"{VENV}/bin/vllm", "/opt/gpuforge/nowhere/bin/vllm")
    for name, text in (("r5", r5), ("broken", broken)):
        node_exec(
            "node1",
            "sh",
            "-c",
            f"mkdir -p /tmp/{name} && cat > /tmp/{name}/gpuforge-vllm.service",
            stdin=text,
        )
    good = node_exec("node1", "systemd-analyze", "verify", "/tmp/r5/gpuforge-vllm.service", check=False)
    print(f"systemd-analyze verify (R5's unit): rc={good.returncode} {good.stdout}{good.stderr}")
    assert good.returncode == 0 and "gpuforge-vllm" not in good.stdout + good.stderr
    bad = node_exec("node1", "systemd-analyze", "verify", "/tmp/broken/gpuforge-vllm.service", check=False)
    assert bad.returncode != 0 and "/opt/gpuforge/nowhere/bin/vllm is not executable" in bad.stderr, (
        bad.stderr
    )
    # The versions table, on the controller (the directory the playbook runs from): one row per node.
    table = (rental / "reports" / "rental" / "versions.md").read_text()
    print(table)
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
    assert sorted(rows) == HOSTS
    head = [c.strip() for c in table.splitlines()[0].split("|")[1:-1]]
    assert head[:3] == ["node", "OS", "kernel"] and "Ray" in head and "vLLM" in head
    for host in HOSTS:
        cells = dict(zip(head, [c.strip() for c in rows[host].split("|")[1:-1]], strict=True))
        assert cells["OS"] == "Debian GNU/Linux 12 (bookworm)" and cells["Ray"] == RAY_VERSION, cells
        assert cells["vLLM"] == (VLLM_VERSION if host != "rental0" else "-"), cells
    versions = json.loads((rental / "reports" / "rental" / "versions.json").read_text())
    # The FAKE GPUs' recorded nvidia-smi (a real H100 and a real 2x H200 capture, driver 580.159.04).
    assert [versions[h]["driver"] for h in HOSTS] == [None, "580.159.04", "580.159.04"], versions
    assert versions["rental2"]["python"].startswith("3.11") and versions["rental2"]["vllm"] == VLLM_VERSION
    again = rental_run(rental, playbook, extravars=extravars)
    assert again.rc == 0, failure_text(again)
    print(f"inference.yml re-run: {again.wall_s:.0f} s, changed={again.changed}")
    assert again.changed == 0, changed_tasks(again)


def test_ray_verify_fails_when_the_head_registers_without_node_ip_address(rental):
    # What the role prevents, shown: the head's unit without --node-ip-address (an override, as someone would
    # write by hand) registers the address of its default-route interface - the public one. Ray's verify fails
    # naming it. The override is removed but the head keeps running as it is: the next rental.yml run
    # (test_a_recreated_node_...) sees the command differ and restarts Ray, and checks that it did.
    unit = node_exec("node0", "systemctl", "cat", "gpuforge-ray.service").stdout
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    dropped = re.sub(r" --node-ip-address=\S+", "", exec_start)
    node_exec(
        "node0",
        "sh",
        "-c",
        "mkdir -p /etc/systemd/system/gpuforge-ray.service.d && printf '[Service]\\n"
        f"ExecStart=\\n{dropped}\\n' > /etc/systemd/system/gpuforge-ray.service.d/lab-drop.conf && "
        "systemctl daemon-reload && systemctl restart gpuforge-ray",
    )
    try:
        run = rental_run(
            rental, REPO / "tests/lab/ray_verify.yml", extravars={"ray_cluster_verify_timeout": 15}
        )
        assert run.rc != 0
        text = failure_text(run)
        print(text)
        assert f"registered {PUBLIC['rental0']}" in text and "--node-ip-address" in text, text
        assert f"rental0 ({PRIVATE['rental0']}) is not in the Ray cluster" in text, text
    finally:
        node_exec(
            "node0",
            "sh",
            "-c",
            "rm -rf /etc/systemd/system/gpuforge-ray.service.d && systemctl daemon-reload",
        )


def pane_text(pane: str) -> str:
    return as_cluster_user("node0", "tmux", "capture-pane", "-p", "-t", pane).stdout


def test_five_rented_nodes_get_two_node_windows_of_ssh_panes_at_the_private_addresses(rental):
    # rental.yml's tmux layout for five nodes, on the head: worker3 and worker4 are second private addresses
    # of node1 and node2 (the lab has three nodes). The cluster user's known_hosts learns their host keys (a
    # real fifth node's keys reach every node through ssh_trust).
    extra = {"worker3": ("node1", f"{SUBNET2}.13"), "worker4": ("node2", f"{SUBNET2}.14")}
    nodes = [{"alias": "head", "address": PRIVATE["rental0"], "head": True}]
    nodes += [
        {"alias": f"worker{n}", "address": PRIVATE[host], "head": False}
        for n, host in enumerate(HOSTS[1:], 1)
    ]
    nodes += [{"alias": alias, "address": pair[1], "head": False} for alias, pair in extra.items()]
    names = {"worker1": "rental1", "worker2": "rental2", "worker3": "rental1", "worker4": "rental2"}
    user_known = f"/home/{CLUSTER_USER}/.ssh/known_hosts"
    for node, address in extra.values():
        node_exec(node, "ip", "addr", "add", f"{address}/24", "dev", interface_on(node, SUBNET2))
    addresses = " ".join(pair[1] for pair in extra.values())
    as_cluster_user(
        "node0",
        "sh",
        "-c",
        f"cp -p {user_known} {user_known}.lab 2>/dev/null; ssh-keyscan -T 5 {addresses} >> {user_known}",
    )
    try:
        run = rental_run(
            rental,
            REPO / "tests/lab/rental_tmux.yml",
            extravars={"lab_rental_nodes": nodes, "lab_tmux_session": "lab5"},
        )
        assert run.rc == 0, failure_text(run)
        panes = [
            line.split("|", 3)
            for line in as_cluster_user(
                "node0",
                "tmux",
                "list-panes",
                "-s",
                "-t",
                "lab5",
                "-F",
                "#{pane_id}|#{window_name}|#{pane_title}|#{pane_start_command}",
            ).stdout.splitlines()
        ]
        print("\n".join("|".join(p) for p in panes))
        assert [p[1] for p in panes] == ["head"] + ["nodes-1"] * 4 + ["nodes-2"], panes
        assert [p[2] for p in panes] == ["head " + PRIVATE["rental0"]] + [
            f"{n['alias']} {n['address']}" for n in nodes
        ], panes
        # Every worker pane is an ssh to its alias, logged in on the node behind the private address.
        for pane in panes[2:]:
            alias = pane[2].split()[0]
            assert f"ssh {alias}" in pane[3], pane
            as_cluster_user("node0", "tmux", "send-keys", "-t", pane[0], "hostname", "Enter")
        deadline = time.monotonic() + 30
        pending = {p[0]: names[p[2].split()[0]] for p in panes[2:]}
        while pending and time.monotonic() < deadline:
            pending = {pane: name for pane, name in pending.items() if name not in pane_text(pane).split()}
            time.sleep(1)
        assert not pending, {pane: pane_text(pane) for pane in pending}
        log = node_exec("node0", "cat", f"/home/{CLUSTER_USER}/gpuforge-logs/tmux/nodes-2.0.log").stdout
        assert "rental2" in log, log
    finally:
        as_cluster_user("node0", "tmux", "kill-session", "-t", "lab5", check=False)
        node_exec(
            "node0",
            "sh",
            "-c",
            f"if [ -e {user_known}.lab ]; then mv {user_known}.lab {user_known}; else rm -f {user_known}; fi",
        )
        for node, address in extra.values():
            node_exec(
                node, "ip", "addr", "del", f"{address}/24", "dev", interface_on(node, SUBNET2), check=False
            )


def interface_on(node: str, subnet: str) -> str:
    """The node's interface on one of the lab's networks (SUBNET the public one, SUBNET2 the private)."""
    return node_exec(node, "ip", "-o", "-4", "addr", "show", "to", f"{subnet}.0/24").stdout.split()[1]


def host_key_fingerprint(node: str) -> str:
    """The SHA256 fingerprint of the node's ed25519 host key, as ssh-keygen -l prints it."""
    return node_exec(node, "ssh-keygen", "-lf", "/etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1]


def known_fingerprint(known: Path, address: str) -> str:
    """The SHA256 fingerprint of the ed25519 key the controller's known_hosts holds for an address."""
    out = subprocess.run(
        ["ssh-keygen", "-l", "-F", address, "-f", str(known)], capture_output=True, text=True, check=True
    ).stdout
    return next(line.split()[2] for line in out.splitlines() if line.split()[1:2] == ["ED25519"])


def test_a_recreated_node_is_refused_then_replace_takes_its_new_key_while_a_blackholed_node_fails_alone(
    rental,
):
    # node2 re-created at the same address: new host keys. Under the lab's policy accept-new the run stops
    # before anything changes, naming the node and both fingerprints; known_hosts is untouched.
    known = rental / "known_hosts"
    old = known_fingerprint(known, PUBLIC["rental2"])
    assert old == host_key_fingerprint("node2")
    node_exec("node2", "sh", "-c", "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A && systemctl restart ssh")
    new = host_key_fingerprint("node2")
    assert new != old
    known_before = known.read_text()
    others_before = {h: known_fingerprint(known, PUBLIC[h]) for h in HOSTS[:2]}
    hosts_before = {node: node_exec(node, "cat", "/etc/ssh/ssh_known_hosts").stdout for node in NODE_NAMES}
    refused = rental_playbook(rental)
    assert refused.returncode != 0
    said = re.search(
        rf"rental2 \({re.escape(PUBLIC['rental2'])}\): the host key CHANGED: known (.*?), now (.*?); refused "
        r"under host-key policy 'accept-new' - if the machine was re-created, run again with "
        r"policy 'replace'",
        refused.stdout,
    )
    assert said, refused.stdout[-4000:]
    assert f"ED25519 {old}" in said[1] and f"ED25519 {new}" in said[2], said[0]
    # Nothing ran on the nodes: the first play stopped.
    assert "Rental - set up every node" not in refused.stdout, refused.stdout[-4000:]
    assert known.read_text() == known_before
    assert {n: node_exec(n, "cat", "/etc/ssh/ssh_known_hosts").stdout for n in NODE_NAMES} == hosts_before
    # A fourth rented box whose public address is blackholed: it answers ARP (a second address of node2) but
    # every packet to its port 22 is dropped, so each connection waits out rental_access_timeout (5 s).
    dead_public, dead_private = f"{SUBNET}.99", f"{SUBNET2}.99"
    iface = interface_on("node2", SUBNET)
    node_exec(
        "node2",
        "sh",
        "-c",
        f"ip addr add {dead_public}/24 dev {iface} && "
        f"iptables -I INPUT -d {dead_public} -p tcp --dport 22 -j DROP",
    )
    (rental / "nodes.txt").write_text(nodes_txt(extra=f"{dead_public}\t{dead_private}\n"))
    try:
        t0 = time.monotonic()
        run = rental_run(rental, extravars={"rental_access_host_keys": "replace"})
        took = time.monotonic() - t0
    finally:
        (rental / "nodes.txt").write_text(nodes_txt())
        node_exec(
            "node2",
            "sh",
            "-c",
            f"iptables -D INPUT -d {dead_public} -p tcp --dport 22 -j DROP; "
            f"ip addr del {dead_public}/24 dev {iface}",
            check=False,
        )
    print(f"rental.yml with policy replace and a blackholed fourth node: {took:.0f} s")
    # rental3 alone fails: not reached, within the timeout, naming the users tried.
    assert [(f[0], f[1]) for f in run.failures] == [
        ("rental3", "Stop here for a node the controller cannot reach")
    ], run.failures
    reason = str(run.failures[0][2])
    assert reason == f"rental3 {dead_public}: unreachable - Connection timed out after 5 s (tried ubuntu)", (
        reason
    )
    # Each controller-side wait stayed within its timeout (one key scan, one login attempt: ssh stops at an
    # unreachable address instead of trying the next user).
    for task in ("Check the nodes' host keys", "Find each node's login user"):
        [seconds] = [t[0] for t in run.tasks if task in t[1]]
        assert seconds < 5 + 4, (task, seconds)
    # The re-created node's new key replaced the old one in the controller's known_hosts (the other nodes'
    # lines as they were), and the nodes' known_hosts (ssh_trust) took it too.
    known_after = known.read_text()
    assert known_after != known_before
    scanned = node_exec("node2", "cat", "/etc/ssh/ssh_host_ed25519_key.pub").stdout.split()[1]
    assert scanned in known_after
    assert {h: known_fingerprint(known, PUBLIC[h]) for h in HOSTS[:2]} == others_before
    assert all(scanned in node_exec(n, "cat", "/etc/ssh/ssh_known_hosts").stdout for n in NODE_NAMES)
    # The three others set up and in the table, rental3 with its reason; its log fetched; the notification
    # counts it out.
    [table] = [
        "\n".join(msg)
        for host, msg in run.shown
        if host == "localhost" and isinstance(msg, list) and re.match(r"node +public +private", str(msg[0]))
    ]
    print(table)
    for host in HOSTS:
        row = next(line for line in table.splitlines() if re.search(rf"\b{host}\b", line))
        assert " ok" in row, row
    row = next(line for line in table.splitlines() if re.search(r"\brental3\b", line))
    assert dead_public in row and "Connection timed out" in row, row
    assert "Connection timed out after 5 s" in (rental / "logs" / "rental3.log").read_text()
    assert "Cluster Ready: 3 of 4 nodes set up" in (rental / "notified.txt").read_text().splitlines()[-1]
    # The head's Ray command differed from the role's (the override of the previous test): it was restarted,
    # every node again at its private address.
    assert sorted(n["NodeManagerAddress"] for n in ray_nodes()) == sorted(PRIVATE.values())


def test_a_single_node_runs_the_ray_head_alone_and_skips_workers_and_infiniband(rental):
    # The other rentals ended (their Ray stopped); nodes.txt holds the head alone.
    for node in NODE_NAMES[1:]:
        node_exec(node, "systemctl", "stop", "gpuforge-ray")
    (rental / "nodes.txt").write_text(nodes_txt(HOSTS[:1]))
    try:
        run = rental_run(rental)
    finally:
        (rental / "nodes.txt").write_text(nodes_txt())
    assert run.rc == 0, failure_text(run)
    shown = "\n".join(str(msg) for host, msg in run.shown)
    assert "rental0: InfiniBand skipped - a single node" in shown, shown[-3000:]
    assert "0 worker(s): a single node, no workers are started" in shown, shown[-3000:]
    assert [n["NodeManagerAddress"] for n in ray_nodes()] == [PRIVATE["rental0"]]
    assert "Cluster Ready: 1 of 1 nodes set up" in (rental / "notified.txt").read_text().splitlines()[-1]
