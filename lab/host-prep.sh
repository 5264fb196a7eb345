#!/usr/bin/env bash
# Prepare this machine (Debian 12 / Ubuntu 22.04 / 24.04) to run the lab and the tests:
# host packages, podman settings only where the host needs them, the Python venv and the
# collection link. Safe to run again: each step checks before it changes anything.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "[prep] $*" >&2; }

# sshpass: Ansible's -k (the lab's password-only node) answers the SSH password prompt through it.
# tmux: the unit test of the tmux_session module runs a real tmux server (a private socket).
# chromium-headless-shell: the lab test opens the validation report (report.html) in a real browser.
need_pkgs=(podman runc debootstrap uidmap slirp4netns python3-venv python3-pip openssh-client sshpass rsync git make tmux
  chromium-headless-shell)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Podman: change only what this host needs, in a drop-in of ours.
dropin=/etc/containers/containers.conf.d/50-gpuforge-lab.conf
want=""
cgfs=$(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo unknown)
if [ "$cgfs" != cgroup2fs ]; then
  # cgroup v1 / hybrid: crun cannot set up systemd containers here, runc can.
  want+=$'[engine]\nruntime = "runc"\n'
fi
capeff=$(awk '/^CapEff/{print $2}' /proc/self/status)
if (( (16#$capeff >> 24 & 1) == 0 )); then
  # No CAP_SYS_RESOURCE: podman may not raise rlimits above ours; ask for what we have.
  nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] && nproc=1048576
  [ "$nofile" = unlimited ] && nofile=1048576
  # runc refuses an nproc limit above kernel.pid_max here.
  pidmax=$(cat /proc/sys/kernel/pid_max); [ "$nproc" -gt "$pidmax" ] && nproc=$pidmax
  want+=$'[containers]\n'"default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]"$'\n'
fi
if [ -n "$want" ]; then
  content="# gpuforge lab: written by lab/host-prep.sh for this host"$'\n'"$want"
  if [ "$(cat "$dropin" 2>/dev/null)" != "${content%$'\n'}" ]; then
    log "podman needs host-specific settings here ($cgfs cgroups, CapEff=$capeff): writing $dropin"
    mkdir -p "$(dirname "$dropin")"
    printf '%s' "$content" > "$dropin"
  fi
elif [ -f "$dropin" ]; then
  rm -f "$dropin"
fi

# Python venv with requirements.txt, rebuilt only when requirements.txt changes.
stamp="$repo/.venv/.requirements.sha256"
sum=$(sha256sum "$repo/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  log "creating the Python venv (.venv) from requirements.txt"
  python3 -m venv "$repo/.venv"
  "$repo/.venv/bin/pip" install -q --upgrade pip
  "$repo/.venv/bin/pip" install -q -r "$repo/requirements.txt"
  echo "$sum" > "$stamp"
fi

# The collection, as ansible.cfg and the tests expect it.
link="$repo/.cache/collections/ansible_collections/gpuforge/cluster"
mkdir -p "$(dirname "$link")" "$repo/.cache/facts"
[ -L "$link" ] || ln -s ../../../.. "$link"
