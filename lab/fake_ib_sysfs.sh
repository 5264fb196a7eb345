#!/bin/sh
# STAND-IN /sys/class/infiniband for a lab node (lab/fake_ib.yml): `up DIR` shows DIR there, `down` undoes it.
# Where the host kernel has ib_core loaded, /sys/class/infiniband exists and DIR is bind-mounted over it.
# Elsewhere sysfs allows no new directory: /sys/class becomes a tmpfs holding a bind mount of every real
# class directory at its own path (relative links such as net/eth0 -> ../../devices/... still resolve) plus
# DIR as infiniband. In this container's mount namespace only; nothing of the host changes.
set -eu
keep=/run/gpuforge-fake-ib/sysclass
case "$1" in
up)
  dir=$2
  if mountpoint -q /sys/class/infiniband 2>/dev/null; then exit 0; fi
  if [ -d /sys/class/infiniband ]; then mount --bind "$dir" /sys/class/infiniband; exit 0; fi
  mkdir -p "$keep"
  mountpoint -q "$keep" || mount --bind /sys/class "$keep"
  mount -t tmpfs -o mode=0755,size=1m gpuforge-fake-ib /sys/class
  for entry in "$keep"/*; do
    name=${entry##*/}
    mkdir "/sys/class/$name"
    mount --bind "$entry" "/sys/class/$name"
  done
  mkdir /sys/class/infiniband
  mount --bind "$dir" /sys/class/infiniband
  ;;
down)
  if [ "$(findmnt -n -o SOURCE --mountpoint /sys/class 2>/dev/null)" = gpuforge-fake-ib ]; then
    umount -R /sys/class
  elif mountpoint -q /sys/class/infiniband 2>/dev/null; then
    umount /sys/class/infiniband
  fi
  if mountpoint -q "$keep" 2>/dev/null; then umount "$keep"; fi
  ;;
*) echo "usage: $0 up DIR | down" >&2; exit 2 ;;
esac
