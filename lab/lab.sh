#!/usr/bin/env bash
# The local lab: LAB_NODES systemd containers (podman) on a private network, reached over
# SSH like real servers. node0 is the controller, node1.. are compute nodes.
#
#   lab/lab.sh            everything: prepare the host, build the image, start the nodes,
#                         run playbooks/site.yml and playbooks/validate.yml, print a report
#   lab/lab.sh up         prepare + image + nodes + inventory only
#   lab/lab.sh converge   site.yml + validate.yml + report against running nodes
#   lab/lab.sh down       remove every container, network and file the lab made
#   lab/lab.sh status     list the lab's containers
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then exec sudo -E "$0" "$@"; fi

N=${LAB_NODES:-3}
NET=${LAB_NETWORK:-gpuforge-lab}
PREFIX=${LAB_PREFIX:-gpuforge-lab}
SUBNET=${LAB_SUBNET:-10.77.0}          # /24; node i gets .(10+i), the gateway .1
DOMAIN=${LAB_DOMAIN:-lab.gpuforge.test}
# A second network on every node ("name:a.b.c[:mtu]", node i at .(10+i)), e.g. to put a node's cluster_ip
# on another network than the others', or a jumbo-frame data network ("gpuforge-lab-b:10.78.0:9000").
# Empty: none.
NET2=${LAB_NET2:-}
NET2_MTU=
if [ -n "$NET2" ]; then
  IFS=: read -r NET2_NAME NET2_SUBNET NET2_MTU <<< "$NET2"
  if ! [[ "$NET2_SUBNET" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || ! [[ "${NET2_MTU:-1500}" =~ ^[0-9]+$ ]]; then
    echo "LAB_NET2 must be name:a.b.c or name:a.b.c:mtu, got '$NET2'" >&2; exit 2
  fi
fi
# Per-node login users, password-only first contact, capabilities, privileged nodes:
# LAB_NODE_OPTS="node0=password-only node1=user:ubuntu node2=user:user,cap:NET_ADMIN" (lab/nodespec.py).
# Nodes that get a FAKE nvidia-smi replaying a real recorded capture, and form the group `gpu`:
# "node1=h100-580-q-x node2=datakit_8x-tesla-v100s-pcie" (captures: tests/unit/.../fixtures/nvidia_smi).
FAKE_GPUS=${LAB_FAKE_GPUS:-}
# A BMC network ("name:a.b.c", internal): every node joins it at .(10+i) as bmc0; each compute node (node1..)
# runs a FAKE BMC there (lab/bmc: OpenIPMI's ipmi_sim; "power off" stops its slurmd and sshd), which the
# head node (node0, the Slurm controller) reaches with ipmitool. Empty: none.
BMC_NET=${LAB_BMC_NET:-}
if [ -n "$BMC_NET" ]; then
  IFS=: read -r BMC_NET_NAME BMC_SUBNET <<< "$BMC_NET"
  [[ "$BMC_SUBNET" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "LAB_BMC_NET must be name:a.b.c, got '$BMC_NET'" >&2; exit 2; }
fi
state="$repo/.lab/$PREFIX"
# The default lab writes the embedded inventory; others (the tests' lab) keep theirs in .lab/.
if [ "$PREFIX" = gpuforge-lab ]; then inv=${LAB_INVENTORY:-$repo/inventories/lab}; else inv=${LAB_INVENTORY:-$state/inventory}; fi
log() { echo "[lab] $*" >&2; }

if ! [[ "$N" =~ ^[1-8]$ ]]; then echo "LAB_NODES must be 1..8, got '$N'" >&2; exit 2; fi

node_names() { local i; for ((i = 0; i < N; i++)); do echo "node$i"; done; }

# The node spec (lab/node.yml + LAB_NODE_OPTS): NODE_USER[i], NODE_PASSWORD_ONLY[i], NODE_UUID[i], NODE_ARGS_i.
load_spec() {
  local spec
  spec=$("$repo/.venv/bin/python" "$repo/lab/nodespec.py" shell) || exit 2
  eval "$spec"
}

up() {
  bash "$repo/lab/host-prep.sh"
  load_spec
  local image; image=$(bash "$repo/lab/image.sh")
  mkdir -p "$state/ssh" "$state/cp"; chmod 0700 "$repo/.lab" "$state" "$state/ssh" "$state/cp"
  [ -f "$state/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "gpuforge-lab-controller" -f "$state/ssh/id_ed25519"
  # The login password of the password-only nodes: made here, kept 0600 in the lab's state, given to
  # chpasswd and to ansible-runner's prompt answer, never on a command line.
  [ -s "$state/ssh/password" ] || (umask 077; "$repo/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(18))' > "$state/ssh/password")
  podman network exists "$NET" || podman network create --subnet "$SUBNET.0/24" --gateway "$SUBNET.1" \
    --label gpuforge-lab="$PREFIX" "$NET" >/dev/null
  if [ -n "$NET2" ]; then
    # --internal: a data network has no gateway, so no default route goes through it (as on real clusters).
    podman network exists "$NET2_NAME" || podman network create --internal --subnet "$NET2_SUBNET.0/24" \
      ${NET2_MTU:+--opt mtu=$NET2_MTU} --label gpuforge-lab="$PREFIX" "$NET2_NAME" >/dev/null
  fi
  if [ -n "$BMC_NET" ]; then
    podman network exists "$BMC_NET_NAME" || podman network create --internal --subnet "$BMC_SUBNET.0/24" \
      --label gpuforge-lab="$PREFIX" "$BMC_NET_NAME" >/dev/null
    # One IPMI password for the lab's BMCs (8-16 of [A-Za-z0-9._-], ipmi_sim's limit), kept 0600 here.
    mkdir -p "$state/bmc"; chmod 0700 "$state/bmc"
    [ -s "$state/bmc/password" ] || (umask 077; "$repo/.venv/bin/python" -c 'import secrets; print(secrets.token_hex(8))' > "$state/bmc/password")
  fi
  local i name ip
  for ((i = 0; i < N; i++)); do
    name="$PREFIX-node$i"; ip="$SUBNET.$((10 + i))"
    if podman container exists "$name"; then
      [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || podman start "$name" >/dev/null
      continue
    fi
    log "starting node$i ($ip)"
    local args_ref="NODE_ARGS_$i[@]"; local node_args=("${!args_ref}")
    local nets=(--network "$NET:ip=$ip")
    # On the data network the node configures its own port (rdma_network, systemd-networkd): NET_ADMIN.
    # The data link is data0 with a fixed MAC: the inventory finds the port by MAC (by name for netplan).
    [ -z "$NET2" ] || nets+=(--network "$NET2_NAME:ip=$NET2_SUBNET.$((10 + i)),mac=$(net2_mac "$i"),interface_name=data0"
                             --cap-add NET_ADMIN)
    [ -z "$BMC_NET" ] || nets+=(--network "$BMC_NET_NAME:ip=$BMC_SUBNET.$((10 + i)),interface_name=bmc0")
    podman run -d --name "$name" --hostname "node$i" --label gpuforge-lab="$PREFIX" \
      "${nets[@]}" "${node_args[@]}" "$image" "$LAB_IMAGE_COMMAND" >/dev/null
    # What the Debian installer and most rental images leave behind: the hostname on 127.0.1.1.
    podman exec "$name" sh -c "printf '127.0.0.1\tlocalhost\n127.0.1.1\tnode$i\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' > /etc/hosts"
    # /etc/hostname too is the node's own file, not podman's bind mount (which hostnamectl cannot replace:
    # "Device or resource busy"), so that a role may rename the node as on a server.
    podman exec "$name" sh -c "umount /etc/hostname && echo node$i > /etc/hostname"
    # STAND-IN SMBIOS UUID (podman nodes share the host's DMI, or have none): one per node.
    podman exec "$name" sh -c "install -d -m 0755 /etc/gpuforge-lab && echo ${NODE_UUID[$i]} > /etc/gpuforge-lab/product_uuid"
    local user=${NODE_USER[$i]}
    if [ "$user" != "$LAB_DEFAULT_USER" ]; then
      # A rental's or workstation's own login user (ubuntu, user) with passwordless sudo.
      podman exec "$name" sh -c "useradd -m -s /bin/bash '$user' && echo '$user ALL=(ALL) NOPASSWD:ALL' > '/etc/sudoers.d/$user' && chmod 0440 '/etc/sudoers.d/$user'"
    fi
    [ -z "$BMC_NET" ] || [ "$i" -eq 0 ] || install_bmc "$name" "$BMC_SUBNET.$((10 + i))"
    if [ "${NODE_PASSWORD_ONLY[$i]}" = 1 ]; then
      # First contact by password only (a fresh workstation): no key; site.yml's first run uses -k.
      printf '%s:%s\n' "$user" "$(cat "$state/ssh/password")" | podman exec -i "$name" chpasswd
    else
      podman exec -i "$name" sh -c "install -d -m 0700 -o '$user' -g '$user' ~$user/.ssh && cat > ~$user/.ssh/authorized_keys && chown '$user:$user' ~$user/.ssh/authorized_keys && chmod 0600 ~$user/.ssh/authorized_keys" < "$state/ssh/id_ed25519.pub"
    fi
  done
  # Host keys come from the node itself (podman exec), never from a trust-on-first-use scan.
  : > "$state/ssh/known_hosts.new"
  for ((i = 0; i < N; i++)); do
    name="$PREFIX-node$i"; ip="$SUBNET.$((10 + i))"
    local t=0
    until podman exec "$name" systemctl is-active -q ssh 2>/dev/null; do
      t=$((t + 1)); [ $t -lt 120 ] || { log "node$i: sshd did not start"; podman exec "$name" systemctl status ssh >&2 || true; exit 1; }
      sleep 0.5
    done
    podman exec "$name" sh -c 'cat /etc/ssh/ssh_host_*_key.pub' | awk -v h="node$i,$ip" '{print h" "$1" "$2}' >> "$state/ssh/known_hosts.new"
  done
  mv "$state/ssh/known_hosts.new" "$state/ssh/known_hosts"
  write_inventory
  if [ -n "$FAKE_GPUS" ]; then
    log "FAKE GPUs (recorded nvidia-smi captures): $FAKE_GPUS"
    ANSIBLE_CONFIG="$repo/ansible.cfg" "$repo/.venv/bin/ansible-playbook" -i "$inv" -l gpu "$repo/lab/fake_gpu.yml" \
      > "$state/fake_gpu.log" 2>&1 || { cat "$state/fake_gpu.log" >&2; log "FAKE GPU setup failed"; exit 1; }
  fi
  chown -R "${SUDO_UID:-0}:${SUDO_GID:-0}" "$repo/.lab" "$inv" 2>/dev/null || true
  log "$N nodes up; inventory: ${inv#$repo/}"
}

# The FAKE BMC of a compute node (lab/bmc): files and settings through podman exec's stdin (the password
# never in an argv), then its unit. Its GUID is the node's STAND-IN SMBIOS UUID in SMBIOS byte order.
install_bmc() {
  local name=$1 addr=$2 f
  podman exec "$name" install -d -m 0755 /usr/local/lib/gpuforge-bmc /etc/gpuforge-lab/bmc
  for f in bmc-sim chassis-control powered-on fake-poweroff; do
    podman exec -i "$name" sh -c "cat > /usr/local/lib/gpuforge-bmc/$f && chmod 0755 /usr/local/lib/gpuforge-bmc/$f" < "$repo/lab/bmc/$f"
  done
  for f in lan.conf.in emu-cmds; do
    podman exec -i "$name" sh -c "cat > /usr/local/lib/gpuforge-bmc/$f && chmod 0644 /usr/local/lib/gpuforge-bmc/$f" < "$repo/lab/bmc/$f"
  done
  podman exec -i "$name" sh -c "cat > /etc/systemd/system/gpuforge-bmc-sim.service" < "$repo/lab/bmc/gpuforge-bmc-sim.service"
  podman exec -i "$name" sh -c "mkdir -p /etc/systemd/system/slurmd.service.d && cat > /etc/systemd/system/slurmd.service.d/gpuforge-bmc-boot-clock.conf" < "$repo/lab/bmc/gpuforge-bmc-boot-clock.conf"
  printf 'BMC_ADDR=%s\n' "$addr" | podman exec -i "$name" sh -c "cat > /etc/gpuforge-lab/bmc/bmc.conf"
  # A real BMC is a device of its own; this FAKE one listens inside the node, so the node declares its port to the
  # cluster firewall (gpuforge.cluster.cluster_ports' format), as a role would, from any address (the BMC network
  # is not a cluster network).
  podman exec -i "$name" sh -c "mkdir -p /etc/gpuforge/ports.d && cat > /etc/gpuforge/ports.d/lab_bmc.json" <<'JSON'
{"ports": [{"from": "any", "name": "lab FAKE BMC ipmi_sim", "port": "623", "proto": "udp"}], "role": "lab_bmc"}
JSON
  podman exec -i "$name" sh -c "umask 077; cat > /etc/gpuforge-lab/bmc/password" < "$state/bmc/password"
  podman exec "$name" sh -c "systemctl daemon-reload && systemctl enable --now gpuforge-bmc-sim.service" >/dev/null 2>&1 ||
    { log "$name: the FAKE BMC did not start"; podman exec "$name" journalctl -u gpuforge-bmc-sim --no-pager >&2; exit 1; }
}

# The data-network MAC of node i: locally administered, the network's third octet and the node number.
net2_mac() { printf '02:00:00:%02x:00:%02x' "${NET2_SUBNET##*.}" "$((10 + $1))"; }

host_line() {
  local i=$1 extra=""
  [ "${NODE_USER[$i]}" = "$LAB_DEFAULT_USER" ] || extra+=", ansible_user: ${NODE_USER[$i]}"
  [ -z "$NET2" ] || extra+=", cluster_addresses: {data: $NET2_SUBNET.$((10 + i))}, lab_data_mac: '$(net2_mac "$i")'"
  # The last node writes its port as Ubuntu does (netplan, installed from Debian's netplan.io). netplan
  # matches a MAC as the NIC's permanent one, which a veth has not: that node names its port instead.
  [ -z "$NET2" ] || [ "$N" -lt 2 ] || [ "$i" -ne $((N - 1)) ] ||
    extra+=", rdma_network_renderer: netplan, rdma_network_ports: [{network: data, interface: data0}]"
  [ -z "$BMC_NET" ] || [ "$i" -eq 0 ] || extra+=", bmc_address: $BMC_SUBNET.$((10 + i))"
  echo "node$i: {ansible_host: $SUBNET.$((10 + i)), cluster_ip: $SUBNET.$((10 + i))$extra, lab_smbios_uuid: ${NODE_UUID[$i]}}"
}

write_inventory() {
  mkdir -p "$inv/group_vars/all"
  # Another lab's inventory shares the embedded lab's cluster settings.
  if [ "$inv" != "$repo/inventories/lab" ]; then
    ln -sfn "$repo/inventories/lab/group_vars/all/main.yml" "$inv/group_vars/all/main.yml"
    # Its reports go to $inv/reports/$PREFIX/ (playbooks/vars/report.yml), not .../reports/inventory/.
    printf '# Written by lab/lab.sh up.\ngpuforge_cluster_name: %s\n' "$PREFIX" > "$inv/group_vars/all/lab_name.yml"
  fi
  {
    echo "# Written by lab/lab.sh up: the lab's $N nodes. Regenerated on every 'up'."
    echo "all:"
    echo "  children:"
    echo "    cluster:"
    echo "      children:"
    echo "        head:"
    echo "          hosts:"
    echo "            $(host_line 0)"
    local i
    if [ "$N" -gt 1 ]; then
      echo "        compute:"
      echo "          hosts:"
      for ((i = 1; i < N; i++)); do
        echo "            $(host_line "$i")"
      done
    fi
    if [ -n "$FAKE_GPUS" ]; then
      echo "        gpu:"
      echo "          hosts:"
      local pair
      for pair in $FAKE_GPUS; do echo "            ${pair%%=*}: {lab_fake_gpu: ${pair#*=}}"; done
    fi
  } > "$inv/hosts.yml"
  cat > "$inv/group_vars/all/lab_connection.yml" <<YML
# Written by lab/lab.sh up: how the controller (this machine) reaches the lab nodes.
# Host keys were read from each node and written to known_hosts; checking stays on.
ansible_user: $LAB_DEFAULT_USER
ansible_become: true
ansible_ssh_private_key_file: $state/ssh/id_ed25519
ansible_ssh_common_args: -o UserKnownHostsFile=$state/ssh/known_hosts -o StrictHostKeyChecking=yes
ansible_control_path_dir: $state/cp
cluster_domain: $DOMAIN
# The controller's key, authorized for each node's login user by ssh_trust (a node that took only a
# password at first keeps key login after site.yml's first run with -k).
ssh_trust_login_keys: ["$(cat "$state/ssh/id_ed25519.pub")"]
YML
  if [ -n "$NET2" ]; then
    cat >> "$inv/group_vars/all/lab_connection.yml" <<YML
# The second network is a data network (R1's RDMA network stands in here as Ethernet: no RDMA device):
# each node's port on it (found by MAC, hosts.yml) is written and applied by rdma_network (systemd-networkd).
cluster_networks:
  data: {subnet: $NET2_SUBNET.0/24, mtu: ${NET2_MTU:-1500}}
rdma_network_ports: [{network: data, mac: "{{ lab_data_mac }}"}]
YML
  fi
  if [ -n "$BMC_NET" ]; then
    cat >> "$inv/group_vars/all/lab_connection.yml" <<YML
# The compute nodes' FAKE BMCs (lab/bmc, ipmi_sim) on the BMC network: their IPMI password is the lab's
# (0600 in its state), read when the role needs it, never written into the inventory.
slurm_powersave_bmc_user: admin
slurm_powersave_bmc_password: "{{ lookup('ansible.builtin.file', '$state/bmc/password') }}"
slurm_powersave_smbios_uuid_file: /etc/gpuforge-lab/product_uuid
YML
  fi
  if [ -n "$FAKE_GPUS" ]; then
    cat >> "$inv/group_vars/all/lab_connection.yml" <<YML
# The GPU nodes have a FAKE nvidia-smi (recorded captures) and no NVIDIA repository is reachable:
# the gpu_stack stage is off; Slurm schedules the recorded GPUs (gres.conf, Gres=).
gpuforge_gpu_stack: false
YML
  fi
}

down() {
  local c
  for c in $(podman ps -a --filter label=gpuforge-lab="$PREFIX" --format '{{.Names}}'); do
    log "removing $c"; podman rm -f -t 2 "$c" >/dev/null
  done
  podman network exists "$NET" && podman network rm "$NET" >/dev/null || true
  [ -z "$NET2" ] || { podman network exists "$NET2_NAME" && podman network rm "$NET2_NAME" >/dev/null || true; }
  [ -z "$BMC_NET" ] || { podman network exists "$BMC_NET_NAME" && podman network rm "$BMC_NET_NAME" >/dev/null || true; }
  rm -rf "$state" "$inv/hosts.yml" "$inv/group_vars/all/lab_connection.yml" "$inv/group_vars/all/lab_name.yml" \
    "$repo/.cache/facts"
  rmdir "$repo/.lab" 2>/dev/null || true
  log "lab removed (the base image stays cached: podman rmi localhost/gpuforge-lab:latest to drop it)"
}

converge() {
  local extra=()
  # The DDP smoke job needs torch on the nodes: a CPU wheel for the nodes' Python (3.11).
  local wheel=${LAB_TORCH_WHEEL:-$(ls /opt/wheels/torch-*+cpu-cp311-*.whl 2>/dev/null | head -n1)}
  if [ "${LAB_DDP:-auto}" != 0 ] && [ -n "$wheel" ]; then
    extra=(--torch-wheel "$wheel")
  elif [ "${LAB_DDP:-auto}" = 1 ]; then
    log "LAB_DDP=1 but no torch CPU wheel for Python 3.11 found (set LAB_TORCH_WHEEL)"; exit 1
  fi
  load_spec
  local i
  for ((i = 0; i < N; i++)); do
    # A password-only node: site.yml's first run answers the SSH password prompt (-k) from the lab's state.
    [ "${NODE_PASSWORD_ONLY[$i]}" != 1 ] || { extra+=(--password-file "$state/ssh/password"); break; }
  done
  "$repo/.venv/bin/python" "$repo/lab/labctl.py" --inventory "$inv" "${extra[@]}" "$@"
}

case "${1:-all}" in
  all) up; converge ;;
  up) up ;;
  converge) shift; converge "$@" ;;
  down) down ;;
  status) podman ps -a --filter label=gpuforge-lab="$PREFIX" ;;
  *) echo "usage: $0 [all|up|converge|down|status]" >&2; exit 2 ;;
esac
