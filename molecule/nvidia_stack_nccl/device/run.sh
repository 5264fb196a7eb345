#!/usr/bin/env bash
# Runs on the GPU machine (device tool `run`), from the repository root, with .whl/ (ansible-core and
# its wheels) and .devcarry/ (the nccl-tests source archive) carried. Writes 7 files to $OUT (the tool returns
# 8 at most): device_validate.log, wrong_pins.log, nccl_test_results.json, the validation report (report.json,
# report.md, report.html) and captures.tgz (environment, PCI functions, supported-gpus extract, topo -m,
# timings, raw nccl-tests logs).
#   run: bash molecule/nvidia_stack_nccl/device/run.sh
set -uo pipefail
repo=$PWD
out=${OUT:-/tmp/device-out}
cap=/tmp/device-captures
mkdir -p "$out" "$cap"
here=molecule/nvidia_stack_nccl/device
archive=$(ls "$repo"/.devcarry/nccl-tests-*.tar.gz | head -1)

{
  echo "## host"; uname -r; grep PRETTY /etc/os-release; python3 --version
  echo "## nvidia-smi -L"; nvidia-smi -L
  echo "## /proc/driver/nvidia/version"; cat /proc/driver/nvidia/version
  echo "## dpkg-query"; dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' \
    '*nvidia*' 'cuda-toolkit*' 'cuda-nvcc*' 'cuda-cudart*' 'libnccl*' '*openmpi*' 'python3-apt' 2>&1
  echo "## nvcc"; ls -d /usr/local/cuda*; command -v nvcc; /usr/local/cuda-13.0/bin/nvcc --version | tail -2
  echo "## mpi"; command -v mpirun; mpirun --version | head -1; ls /usr/lib/x86_64-linux-gnu/openmpi/include/mpi.h
  echo "## archive"; sha256sum "$archive"
} > "$cap/device-env.txt" 2>&1

# The machine has no iproute2, which the node model (cluster_facts: ip -j address) needs on every real host:
# Debian 12's iproute2 and its libraries, carried in .devcarry/iproute2/, behind a wrapper that sets the library
# path for ip alone.
if ! command -v ip >/dev/null; then
  for deb in "$repo"/.devcarry/iproute2/*.deb; do dpkg -x "$deb" /tmp/iproute2; done
  mkdir -p /tmp/iproute2/wrap
  printf '#!/bin/sh\nLD_LIBRARY_PATH=/tmp/iproute2/usr/lib/x86_64-linux-gnu:/tmp/iproute2/lib/x86_64-linux-gnu exec /tmp/iproute2/bin/ip "$@"\n' \
    > /tmp/iproute2/wrap/ip
  chmod +x /tmp/iproute2/wrap/ip
  export PATH=/tmp/iproute2/wrap:$PATH
  echo "## ip (carried Debian 12 iproute2)"; ip -V
fi >> "$cap/device-env.txt" 2>&1

# PCI functions as sysfs shows them (what gpu_pci_facts reads) and NVIDIA's own per-GPU feature list.
for d in /sys/bus/pci/devices/*; do
  echo "$(basename "$d") $(cat "$d/vendor") $(cat "$d/device") $(cat "$d/class")"
done > "$cap/pci-functions.txt" 2>&1
python3 - > "$cap/supported-gpus-extract.json" 2>&1 <<'PY'
import glob, json
paths = glob.glob("/usr/share/doc/**/supported-gpus.json", recursive=True) + glob.glob("/usr/share/nvidia/**/supported-gpus.json", recursive=True)
ids = {"1DB4", "1DB6", "1DF6", "20B0", "20B2", "2231", "2330", "2335", "2684", "2B85", "2BB4", "2C09", "2F04", "2901", "1E87", "15F8"}
out = {"paths": paths}
if paths:
    data = json.load(open(paths[0]))
    out["entries"] = [g for g in data.get("chips", []) if g.get("devid", "").upper().removeprefix("0X") in ids]
print(json.dumps(out, indent=1))
PY
LC_ALL=C nvidia-smi topo -m > "$cap/topo-m.txt" 2>&1

t0=$SECONDS
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  > "$cap/pip.txt" 2>&1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH LC_ALL=C.UTF-8 LANG=C.UTF-8
mkdir -p /tmp/ac/ansible_collections/gpuforge
ln -sfn "$repo" /tmp/ac/ansible_collections/gpuforge/cluster
export ANSIBLE_COLLECTIONS_PATH=/tmp/ac ANSIBLE_CONFIG=$repo/$here/ansible.cfg ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 \
  ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
cmd=(ansible-playbook -i localhost, -c local playbooks/device_validate.yml -e "@$here/vars.yml"
     -e "nccl_tests_archive=$archive" -e "device_results_file=$out/nccl_test_results.json"
     -e gpuforge_reports_dir=/tmp/device-reports -e gpuforge_cluster_name=device)
echo "ansible: $(ansible --version | head -1); pip install $((SECONDS - t0))s" >> "$cap/pip.txt"

t0=$SECONDS
{ echo "+ ${cmd[*]}"; "${cmd[@]}"; echo "rc=$?"; } > "$out/device_validate.log" 2>&1
echo "device_validate: $((SECONDS - t0))s" >> "$cap/pip.txt"
for f in report.json report.md report.html; do cp /tmp/device-reports/device/latest/$f "$out/$f"; done
cp /var/log/gpuforge/nccl-tests-*.log "$cap/" 2>/dev/null

# Deliberately wrong pins for this machine must fail in preflight, before any change: a gencode that builds no
# code for the GPU found, the proprietary modules on a host running the open ones, an NCCL build for CUDA 12.
t0=$SECONDS
for pin in "nccl_tests_gencode=-gencode=arch=compute_70,code=sm_70" nvidia_stack_driver_flavor=proprietary \
           nccl_cuda_version=12.6; do
  echo "+ ${cmd[*]} -e $pin"; "${cmd[@]}" -e "$pin" -e device_results_file=/dev/null; echo "rc=$?"
done > "$out/wrong_pins.log" 2>&1
echo "wrong_pins: $((SECONDS - t0))s" >> "$cap/pip.txt"
tail -3 "$out/device_validate.log"; grep -E "^rc=|msg" "$out/wrong_pins.log" | head -12
tar -C "$cap" -czf "$out/captures.tgz" .
