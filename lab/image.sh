#!/usr/bin/env bash
# Build the lab node image with debootstrap and import it into podman.
# The tag is a hash of this recipe (this file, image-packages.txt, the mirror), so the
# image is rebuilt only when the recipe changes. Usage: lab/image.sh  -> prints the tag.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mirror=${LAB_MIRROR:-$(awk '/^URIs:/{print $2; exit} /^deb /{print $2; exit}' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -n1)}
case "$mirror" in *debian*) ;; *) mirror=http://deb.debian.org/debian ;; esac
suite=${LAB_SUITE:-bookworm}
hash=$(cat "$here/image.sh" "$here/image-packages.txt" "$here/image-cache-packages.txt" <(echo "$mirror $suite") \
  | sha256sum | cut -c1-12)
tag="localhost/gpuforge-lab:$hash"
if podman image exists "$tag"; then
  echo "$tag"
  exit 0
fi
log() { echo "[image] $*" >&2; }
pkgs=$(grep -vE '^\s*(#|$)' "$here/image-packages.txt" | paste -sd, -)
root=$(mktemp -d /var/tmp/gpuforge-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
log "debootstrap $suite from $mirror (this takes a few minutes, once per recipe)"
debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror" >&2
# apt sources like a real Debian host (plain HTTP works without a proxy).
cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SRC
# The host's CA bundle, so HTTPS (PyPI, ...) works inside the nodes.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
fi
# Host keys are made per node at first boot, never baked into the image.
rm -f "$root"/etc/ssh/ssh_host_*
cat > "$root/etc/systemd/system/lab-ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate this node's SSH host keys (gpuforge lab)
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
chroot "$root" systemctl enable lab-ssh-hostkeys.service ssh.service >&2
# Units that make no sense in a container.
chroot "$root" systemctl mask getty@tty1.service console-getty.service \
  systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount \
  systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer >&2
# The lab admin: the login user Ansible uses (not root), passwordless sudo.
chroot "$root" useradd -m -s /bin/bash -u 1500 labadmin
echo 'labadmin ALL=(ALL) NOPASSWD:ALL' > "$root/etc/sudoers.d/labadmin"
chmod 0440 "$root/etc/sudoers.d/labadmin"
# Password logins stay possible (as on a fresh server) so ssh_trust can turn them off.
echo 'labadmin:labadmin' | chroot "$root" chpasswd
rm -f "$root/etc/machine-id" && touch "$root/etc/machine-id"
rm -rf "$root"/var/cache/apt/archives/*.deb
# Fresh package lists and the roles' packages in the apt cache (downloaded, not installed).
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" apt-get update -qq >&2
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only --no-install-recommends \
  $(grep -vE '^\s*(#|$)' "$here/image-cache-packages.txt") >&2
log "importing $tag"
tar -C "$root" -c . | podman import \
  --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL=SIGRTMIN+3' \
  --message "gpuforge lab node image ($suite)" - "$tag" >&2
podman tag "$tag" localhost/gpuforge-lab:latest
# Images of older recipes go, unless a container still uses them.
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/gpuforge-lab); do
  case "$old" in "$tag"|*:latest) ;; *) podman rmi "$old" >/dev/null 2>&1 || true ;; esac
done
echo "$tag"
