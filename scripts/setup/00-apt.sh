# Debian packages, installed in one apt transaction when any is missing.
# The list is scripts/setup/apt-packages.txt (one package per line, # comments).
apt_missing=()
while read -r pkg; do
  pkg="${pkg%%#*}"; pkg="${pkg// /}"
  [ -z "$pkg" ] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || apt_missing+=("$pkg")
done < scripts/setup/apt-packages.txt
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${apt_missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi
