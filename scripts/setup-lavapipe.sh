#!/usr/bin/env bash
# Optional: installs lavapipe (Mesa's llvmpipe Vulkan driver) so that Dawn can run the WebGPU
# backend on a second CPU driver besides SwiftShader. Not part of scripts/setup.sh or the tests.
#
# Debian 12's own Mesa 22.3 is rejected by Dawn ("shaderUniform*ArrayDynamicIndexing required"),
# so mesa-vulkan-drivers (25.x) comes from bookworm-backports, beside the existing Debian source.
# Idempotent: the suite is added once, packages are installed only when missing.
# Afterwards: VK_ICD_FILENAMES=<the path printed last> selects lavapipe.
set -euo pipefail

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

SOURCES=/etc/apt/sources.list.d/bookworm-backports.sources

installed() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | grep -q "install ok installed${2:-}"; }

if [ ! -f "$SOURCES" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "setup-lavapipe: adding the bookworm-backports suite ($SOURCES)"
  $SUDO tee "$SOURCES" >/dev/null <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  $SUDO apt-get update -qq
fi

# mesa-vulkan-drivers from backports has a version 25.x (or later); Debian 12's is 22.3.
if ! installed libvulkan1 || ! installed mesa-vulkan-drivers ' 2[5-9]'; then
  echo "setup-lavapipe: installing mesa-vulkan-drivers and libvulkan1 from bookworm-backports"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi

# Mesa 25 names it lvp_icd.json; older packagings added the architecture (lvp_icd.x86_64.json).
ICD=""
for f in /usr/share/vulkan/icd.d/lvp_icd.json /usr/share/vulkan/icd.d/lvp_icd."$(uname -m)".json; do
  [ -f "$f" ] && ICD="$f" && break
done
if [ -z "$ICD" ]; then
  echo "setup-lavapipe: no lvp_icd*.json under /usr/share/vulkan/icd.d after the install" >&2
  exit 1
fi
echo "setup-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
echo "$ICD"
