#!/usr/bin/env bash
# The collection on the newest ansible-core on PyPI (meta/runtime.yml promises >= 2.19; requirements.txt
# pins 2.19 for everything else). Newer ansible-core needs a newer Python than Debian 12's 3.11, so this
# runs in a controller container made with debootstrap from Debian's own repositories (trixie, Python
# 3.13), with a venv of the newest `ansible` and `ansible-core` from PyPI in a podman volume.
#
#   tests/newest_core/run.sh unit       the plugins' unit tests (see below)
#   tests/newest_core/run.sh sanity     ansible-test sanity
#   tests/newest_core/run.sh playbook ARGS...   ansible-playbook ARGS (host network: reaches the lab nodes)
#   tests/newest_core/run.sh versions   what it runs
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" != 0 ]; then exec sudo -E "$0" "$@"; fi
here="$repo/tests/newest_core"
log() { echo "[newest-core] $*" >&2; }
mirror=${LAB_MIRROR:-$(awk '/^URIs:/{print $2; exit} /^deb /{print $2; exit}' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n1)}
case "$mirror" in *debian*) ;; *) mirror=http://deb.debian.org/debian ;; esac
suite=trixie
pkgs=python3,python3-venv,python3-dev,gcc,libc6-dev,openssh-client,sshpass,git,rsync,ca-certificates,tmux
recipe=1  # bump when build_image changes
hash=$(echo "$recipe $mirror $suite $pkgs" | sha256sum | cut -c1-12)
image="localhost/gpuforge-controller:$hash"
volume=gpuforge-newest-core
mount=  # one more host folder in_container mounts at the same path

build_image() {
  podman image exists "$image" && return 0
  root=$(mktemp -d /var/tmp/gpuforge-controller.XXXXXX)
  trap 'rm -rf "${root:-}"' EXIT
  log "debootstrap $suite from $mirror (once per recipe)"
  debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror" >&2
  [ ! -f /etc/ssl/certs/ca-certificates.crt ] || cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  rm -rf "$root"/var/cache/apt/archives/*.deb
  tar -C "$root" -c . | podman import --message "gpuforge controller ($suite)" - "$image" >&2
  for old in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/gpuforge-controller); do
    [ "$old" = "$image" ] || podman rmi "$old" >/dev/null 2>&1 || true
  done
}

# In the container: the repo at its own path (the lab's inventory names absolute paths), the venv in
# the volume, the collection linked as ansible.cfg expects (.cache/collections), pip's cache kept.
in_container() {
  local pass=() v
  for v in ${!ANSIBLE_@}; do pass+=(-e "$v"); done
  podman run --rm -i --network host -v "$repo:$repo" -v "$volume:/opt/newest" -w "$repo" "${pass[@]}" \
    ${mount:+-v "$mount:$mount"} \
    -e HOME=/opt/newest/home -e PIP_CACHE_DIR=/opt/newest/pip-cache -e ANSIBLE_FORCE_COLOR=0 \
    -e PY_COLORS=0 -e ANSIBLE_NOCOLOR=1 -e PATH=/opt/newest/venv/bin:/usr/local/bin:/usr/bin:/bin \
    "$image" "$@"
}

# podman can leave a lock of a removed container allocated; a later container given the same lock number
# as the volume then fails with "would cause a deadlock; please run 'podman system renumber'". With no
# container running, renumbering is safe: do it once, say so, and go on.
renumber_if_stuck() {
  local out
  out=$(podman run --rm -v "$volume:/opt/newest" "$image" true 2>&1) && return 0
  case "$out" in
    *"would cause a deadlock"*)
      if [ -z "$(podman ps -q)" ]; then
        echo "podman: lock collision ($out); running 'podman system renumber' (no container is running)" >&2
        podman system renumber
      fi ;;
    *) echo "$out" >&2 ;;
  esac
}

# One at a time: tests/run.sh runs this script's sanity beside the lab, whose check-mode test runs `playbook`.
venv() {
  ( flock 9; venv_locked ) 9> /run/lock/gpuforge-newest-core.lock
}

venv_locked() {
  build_image
  podman volume exists "$volume" || podman volume create "$volume" >/dev/null
  renumber_if_stuck
  # The newest ansible (its collections) and then the newest ansible-core, whatever ansible pins.
  in_container sh -ec '
    mkdir -p /opt/newest/home
    [ -x /opt/newest/venv/bin/python ] || python3 -m venv /opt/newest/venv
    pip install -q --upgrade pip
    pip install -q --upgrade ansible ansible-runner pytest pytest-xdist hypothesis jmespath netaddr pyyaml jsonschema
    pip install -q --upgrade --no-deps ansible-core
    pip check >/dev/null || true' >&2
}

versions() { in_container sh -c 'python --version; ansible --version | head -1; pip list 2>/dev/null | grep -E "^ansible "'; }

case "${1:-}" in
  versions) venv; versions ;;
  # The plugins' unit tests (filters, modules, action plugins, module_utils: the code that meets ansible-core's
  # API and the controller's Python). The repository's own tests (policy, role docs, lab tooling) do not depend
  # on ansible-core, and the render.yml runs are left to the 2.19 unit stage: the lab stage runs site.yml
  # --check --diff, every role's templates and filters, on the newest core.
  unit) venv; versions; in_container python -m pytest tests/unit/plugins -q -p no:cacheprovider ;;
  sanity)
    venv; versions
    top=/tmp/gpuforge-sanity-newest
    mkdir -p "$top"
    dest=$(mount=$top in_container python tests/sanity_prep.py "$top") || exit 1
    podman run --rm --network host -v "$top:$top" -v "$volume:/opt/newest" -w "$dest" \
      -e HOME=/opt/newest/home -e PIP_CACHE_DIR=/opt/newest/pip-cache -e PATH=/opt/newest/venv/bin:/usr/bin:/bin \
      "$image" ansible-test sanity --venv --requirements --python "$(in_container python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    ;;
  playbook) shift; venv; versions; in_container ansible-playbook "$@" ;;
  *) echo "usage: $0 unit|sanity|playbook ARGS...|versions" >&2; exit 2 ;;
esac
