#!/usr/bin/env bash
# Runs on the GPU machine (device tool `run`), from the repository root, with .whl/ (ansible-core and
# its wheels) and .devcarry/ (the nccl-tests source archive) carried. Writes at most 8 flat files to $OUT.
#   run: bash molecule/nvidia_stack_nccl/device/run.sh
set -uo pipefail
repo=$PWD
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
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
} > "$out/device-env.txt" 2>&1

t0=$SECONDS
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  > "$out/pip.txt" 2>&1
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH LC_ALL=C.UTF-8 LANG=C.UTF-8
mkdir -p /tmp/ac/ansible_collections/gpuforge
ln -sfn "$repo" /tmp/ac/ansible_collections/gpuforge/cluster
export ANSIBLE_COLLECTIONS_PATH=/tmp/ac ANSIBLE_CONFIG=$repo/$here/ansible.cfg ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 \
  ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
cmd=(ansible-playbook -i localhost, -c local playbooks/device_validate.yml -e "@$here/vars.yml"
     -e "nccl_tests_archive=$archive" -e "device_results_file=$out/nccl_test_results.json")
echo "ansible: $(ansible --version | head -1); pip install $((SECONDS - t0))s" >> "$out/pip.txt"

t0=$SECONDS
{ echo "+ ${cmd[*]}"; "${cmd[@]}"; echo "rc=$?"; } > "$out/device_validate.log" 2>&1
echo "device_validate: $((SECONDS - t0))s" >> "$out/pip.txt"
cp /var/log/gpuforge/nccl-tests-*.log "$out/" 2>/dev/null

# A deliberately wrong NCCL build for this CUDA 13 machine must fail in preflight, before any change.
t0=$SECONDS
{ echo "+ ${cmd[*]} -e nccl_cuda_version=12.6"; "${cmd[@]}" -e nccl_cuda_version=12.6 -e device_results_file=/dev/null
  echo "rc=$?"; } > "$out/wrong_cuda.log" 2>&1
echo "wrong_cuda: $((SECONDS - t0))s" >> "$out/pip.txt"
tail -3 "$out/device_validate.log"; grep -E "^rc=|FAILED|msg" "$out/wrong_cuda.log" | head -5
