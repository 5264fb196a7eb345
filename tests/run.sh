#!/usr/bin/env bash
# All the tests, on a fresh Debian 12 / Ubuntu 22.04+ machine (root or sudo):
# host prerequisites, lint, unit tests, ansible-test sanity, molecule scenarios (podman)
# and the lab end to end. Each stage runs even when an earlier one failed; the last line
# counts them. Select stages with TEST_STAGES="lint unit" (default: all).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [ "$(id -u)" != 0 ]; then exec sudo -E "$0" "$@"; fi

stages=${TEST_STAGES:-"prep lint unit sanity newest changelog molecule lab"}
export PATH="$repo/.venv/bin:$PATH" ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1
# Each stage adds "name exit-code seconds" to $results (stages also run in a background subshell, below).
results=$(mktemp)
# What a failed stage wants seen again at the very end (a CI log shows only its tail): the failing molecule
# scenario's errors, printed after the stage timings.
digest=$(mktemp)
beside_log=$(mktemp); beside_done=$(mktemp -u)
trap 'rm -f "$digest" "$results" "$beside_log" "$beside_done"' EXIT
started=$SECONDS

selected() { case " $stages " in *" $1 "*) return 0 ;; esac; return 1; }

stage() {
  local name=$1 rc=0; shift
  selected "$name" || return 0
  echo; echo "=== stage: $name"
  local t0=$SECONDS
  "$@" || rc=1
  echo "$name $rc $((SECONDS - t0))" >> "$results"
}

prep() { bash lab/host-prep.sh && bash lab/image.sh >/dev/null; }

lint() {
  # --offline makes ansible-lint resolve collections through $ANSIBLE_HOME (default ~/.ansible)
  # first, where an older copy of this collection (another tool's install) would hide new
  # modules; a cache inside the checkout keeps lint on the checkout itself.
  ruff check . && ANSIBLE_HOME="$PWD/.cache/ansible-home" ansible-lint --profile production --offline
}

# A pytest stage's failures go to the digest too (the CI log shows only its tail: stop 31's unit stage failed
# beside the lab and its log had scrolled away): the short summary and the assertion lines.
pytest_stage() {
  local name=$1 log rc=0; shift
  log=$(mktemp)
  python -m pytest "$@" 2>&1 | tee "$log" || rc=1
  if [ $rc != 0 ]; then
    { echo "--- stage $name FAILED: its assertion lines, then pytest's summary"
      grep -E '^E  ' "$log" | head -n 40 | cut -c1-400
      sed -n '/short test summary info/,$p' "$log" | tail -n 30 | cut -c1-400; } >> "$digest"
  fi
  rm -f "$log"
  return $rc
}

unit() {
  pytest_stage unit tests/unit -q -p no:cacheprovider
}

sanity() {
  # ansible-test needs the collection at .../ansible_collections/gpuforge/cluster (what it ships, in a
  # git repository of its own) and, offline, a stand-in for get-pip.py: tests/sanity_prep.py.
  local dest
  dest=$(python tests/sanity_prep.py /tmp/gpuforge-sanity) || return 1
  (cd "$dest" && ansible-test sanity --venv --requirements --python 3.11)
}

# The plugins' unit tests and sanity on the newest ansible-core on PyPI (a Debian 13 controller container; the
# lab stage runs site.yml --check --diff on the built lab with it too).
newest() { bash tests/newest_core/run.sh unit && bash tests/newest_core/run.sh sanity; }

changelog() { antsibull-changelog lint; }

# The scenarios run side by side (own node prefix and podman network each; measured: 526 s together against
# 614 s one after the other). Each one's output is kept and printed whole when it ends, in order.
molecule_all() {
  local s i=0 rc=0 logs pids=() names=()
  logs=$(mktemp -d)
  for s in molecule/*/molecule.yml; do
    s=$(basename "$(dirname "$s")")
    i=$((i + 1))
    (t0=$SECONDS; MOLECULE_NODE_PREFIX="gf$i" molecule test -s "$s" > "$logs/$s.log" 2>&1; r=$?
     echo "--- molecule scenario $s took $((SECONDS - t0))s" >> "$logs/$s.log"; exit $r) &
    pids+=($!); names+=("$s")
  done
  for i in "${!pids[@]}"; do
    s=${names[$i]}
    if wait "${pids[$i]}"; then r=0; else r=1; rc=1; fi
    echo "--- molecule scenario: $s (node prefix gf$((i + 1)))"
    cat "$logs/$s.log"
    if [ $r != 0 ]; then
      echo "molecule scenario $s FAILED"
      { echo "--- molecule scenario $s FAILED: its errors, then its last lines"
        grep -n -E '^(fatal|failed):|^\[ERROR\]|CRITICAL|ERROR +\[' "$logs/$s.log" | tail -n 20 | cut -c1-600
        tail -n 25 "$logs/$s.log" | cut -c1-300; } >> "$digest"
    fi
  done
  rm -rf "$logs"
  return $rc
}

# --durations=0: every test's time at the end (the CI budget: which tests to make cheaper).
lab_e2e() { pytest_stage lab tests/lab -v -p no:cacheprovider -s --durations=0; }

stage prep prep
# The lab is the long pole and leaves a third of the two cores idle (SSH round trips, waits on services). Lint,
# unit, sanity, newest, changelog and molecule run beside it in the background, their output kept and printed
# when the lab has ended. nice 19 and I/O class best-effort 7 reach only processes in this cgroup: the
# controller side (pytest, ansible-test, ansible-playbook); the lab's and molecule's nodes are containers with
# cgroups of their own and equal CPU weight. The lab's power-save and rental tests (marker `quiet`,
# tests/lab/conftest.py) wait for those stages to end: Slurm's and SSH's timeouts there are seconds. The
# background stages' times below are measured beside the lab.
beside=()
for s in lint unit sanity newest changelog molecule; do selected "$s" && beside+=("$s"); done
run_beside() {
  local s
  for s in "${beside[@]}"; do
    case $s in
      molecule) stage molecule molecule_all ;;
      *) stage "$s" "$s" ;;
    esac
  done
}
if selected lab && [ ${#beside[@]} -gt 0 ]; then
  echo; echo "=== stages ${beside[*]}: in the background beside the lab (their output follows the lab's)"
  ( renice -n 19 -p "$BASHPID" >/dev/null; ionice -c 2 -n 7 -p "$BASHPID" || true
    run_beside; touch "$beside_done" ) > "$beside_log" 2>&1 &
  beside_pid=$!
  GPUFORGE_QUIET_AFTER=$beside_done GPUFORGE_QUIET_PID=$beside_pid stage lab lab_e2e
  wait "$beside_pid"
  echo; echo "=== output of the stages that ran beside the lab (${beside[*]})"
  cat "$beside_log"
else
  run_beside
  stage lab lab_e2e
fi

passed=0; failed=0; failed_names=(); timings=()
for s in prep lint unit sanity newest changelog molecule lab; do
  read -r _ rc took < <(grep "^$s " "$results") || continue
  timings+=("$s=${took}s")
  if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_names+=("$s"); fi
done
echo
echo "stage timings: ${timings[*]} (wall $((SECONDS - started))s)"
[ ! -s "$digest" ] || { echo; cat "$digest"; echo; }
[ $failed -eq 0 ] || echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
[ $failed -eq 0 ]
