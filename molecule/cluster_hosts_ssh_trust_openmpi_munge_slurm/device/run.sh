#!/usr/bin/env bash
# Runs on the GPU machine (device tool `run`), from the repository root, with .whl/ (ansible-core
# wheels) and .devcarry/slurm-debs/ (Debian bookworm slurmd 22.05.8 and the libraries it needs, from
# `apt-get download slurmd slurm-wlm-basic-plugins libmunge2 liblua5.1-0 libhwloc15 libjson-c5
# libyaml-0-2 libdbus-1-3` in the lab image) carried. Nothing is installed system-wide: the .debs are unpacked
# under /tmp/slurmroot.   run: bash molecule/cluster_hosts_ssh_trust_openmpi_munge_slurm/device/run.sh
set -uo pipefail
repo=$PWD
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
here=molecule/cluster_hosts_ssh_trust_openmpi_munge_slurm/device
root=/tmp/slurmroot
mkdir -p "$root"
for deb in "$repo"/.devcarry/slurm-debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
lib=$root/usr/lib/x86_64-linux-gnu
# Debian names the binary slurmd-wlm (/usr/sbin/slurmd is an alternatives link made at install).
# It must run under the name slurmd: Slurm checks its own program name (running_in_slurmd) and,
# called slurmd-wlm, reads no Gres= from the node line ("1 more configured than expected").
ln -sfn slurmd-wlm "$root/usr/sbin/slurmd"
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s:%s/slurm-wlm:%s/lib/x86_64-linux-gnu exec %s/usr/sbin/slurmd "$@"\n' \
  "$lib" "$lib" "$root" "$root" > "$root/slurmd"
chmod 755 "$root/slurmd"
{ ls "$repo"/.devcarry/slurm-debs; "$root/slurmd" -V; ls -l /dev/nvidia0; nvidia-smi -L; } > "$out/device-env.txt" 2>&1

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  > "$out/pip.txt" 2>&1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH LC_ALL=C.UTF-8 LANG=C.UTF-8
mkdir -p /tmp/ac/ansible_collections/gpuforge
ln -sfn "$repo" /tmp/ac/ansible_collections/gpuforge/cluster
export ANSIBLE_COLLECTIONS_PATH=/tmp/ac ANSIBLE_CONFIG=$repo/molecule/nvidia_stack_nccl/device/ansible.cfg \
  ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ANSIBLE_CALLBACK_RESULT_FORMAT=yaml
node=${DEVICE_NODE:-h100node}
cmd=(ansible-playbook -i "$node," -c local -e ansible_python_interpreter=/usr/bin/python3 "$here/gres_check.yml")
{ echo "+ ${cmd[*]}"; "${cmd[@]}"; echo "rc=$?"; } > "$out/gres_check.log" 2>&1
{ echo "+ slurmd -G (the role's files)"; cat /tmp/gres-check/slurm.conf /tmp/gres-check/gres.conf; } >> "$out/device-env.txt" 2>&1
# The same files with the default cgroup plugin (cgroup/v2), which needs systemd's dbus: what slurmd
# prints and logs when it cannot start it (a fixture for slurm_gres_check).
mv /tmp/gres-check/cgroup.conf /tmp/gres-check/cgroup.conf.v1
LC_ALL=C "$root/slurmd" -G -f /tmp/gres-check/slurm.conf -N "$node" -L /tmp/gres-check/v2.log > "$out/cgroup-v2-stderr.txt" 2>&1
echo "rc=$?" >> "$out/cgroup-v2-stderr.txt"; cp /tmp/gres-check/v2.log "$out/cgroup-v2-log.txt"
tail -25 "$out/gres_check.log"
