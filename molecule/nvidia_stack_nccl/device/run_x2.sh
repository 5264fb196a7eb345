#!/usr/bin/env bash
# Two-GPU run (device tool kind nvidia-h200-x2), from the repository root, carry .whl and .devcarry:
#   bash molecule/nvidia_stack_nccl/device/run_x2.sh
# 1. real captures: nvidia-smi -q -x and topo -m of the pair; 2. the munge_slurm GPU lines through a
# real slurmd -G (molecule/cluster_hosts_ssh_trust_openmpi_munge_slurm/device/run.sh); 3. device_validate with both GPUs,
# all_reduce_perf 8 B..8 GB (MPI=0 -g 2 and MPI=1 -np 2); 4. nccl_tests expecting the P2P transport,
# once as is and once with NCCL_P2P_DISABLE=1 (must fail naming the transport).
set -uo pipefail
repo=$PWD
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
LC_ALL=C nvidia-smi -q -x > "$out/h200x2-q-x.xml" 2>&1
LC_ALL=C nvidia-smi topo -m > "$out/h200x2-topo.txt" 2>&1
LC_ALL=C nvidia-smi -q > "$out/h200x2-q.txt" 2>&1

OUT=$out DEVICE_NODE=h200node bash molecule/cluster_hosts_ssh_trust_openmpi_munge_slurm/device/run.sh > /dev/null 2>&1

here=molecule/nvidia_stack_nccl/device
archive=$(ls "$repo"/.devcarry/nccl-tests-*.tar.gz | head -1)
export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH LC_ALL=C.UTF-8 LANG=C.UTF-8
export ANSIBLE_COLLECTIONS_PATH=/tmp/ac ANSIBLE_CONFIG=$repo/$here/ansible.cfg ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 \
  ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
t0=$SECONDS
{ ansible-playbook -i localhost, -c local playbooks/device_validate.yml -e "@$here/vars.yml" \
    -e nvidia_stack_expected_gpus=2 -e nccl_test_max_bytes=8G \
    -e "nccl_tests_archive=$archive" -e "device_results_file=$out/x2_nccl_test_results.json"
  echo "rc=$? ${SECONDS}s"; } > "$out/x2_device_validate.log" 2>&1
cp /var/log/gpuforge/nccl-tests-*.log "$out/" 2>/dev/null
bin=$(ls -d /opt/nccl-tests/nccl-tests-*/build/mpi0 | head -1)/all_reduce_perf
for p2p in on off; do
  env=""; [ $p2p = off ] && env='"env": {"NCCL_P2P_DISABLE": "1"},'
  ansible localhost -i localhost, -c local -m gpuforge.cluster.nccl_tests -a "{\"binary\": \"$bin\", \"gpus\": 2,
    \"max_bytes\": \"8G\", $env \"expect_transports\": [\"P2P\"], \"log\": \"$out/x2-p2p-$p2p.log\"}" \
    > "$out/x2-p2p-$p2p.result.txt" 2>&1
  echo "p2p $p2p rc=$?" >> "$out/x2-p2p-$p2p.result.txt"
done
tail -4 "$out/x2_device_validate.log"; grep -E "rc=|msg" "$out"/x2-p2p-*.result.txt | head -8; tail -3 "$out/gres_check.log"
