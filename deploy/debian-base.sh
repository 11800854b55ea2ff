#!/usr/bin/env bash
# Make a Debian bookworm base image with Python 3.11 from Debian's packages alone (for
# machines that reach Debian's mirror but no container registry), as root:
#   deploy/debian-base.sh [IMAGE]      (default localhost/taskchat-base:bookworm)
# then build with --build-arg BASE=IMAGE (compose: TASKCHAT_BASE=IMAGE).
set -euo pipefail
image="${1:-localhost/taskchat-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >/dev/null
# The apt lists and caches only make the image bigger.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "$image"
