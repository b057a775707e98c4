# Sourced by the project's scripts: messages prefixed with the script's set_name, and Debian packages
# installed only when missing.

say() { printf '%s: [%3d s] %s\n' "$set_name" "$SECONDS" "$*" >&2; }
fail() { say "ERROR: $*"; exit 1; }

# Installs the Debian packages of those named that are not installed yet.
install_missing() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if (( ${#missing[@]} > 0 )); then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || fail "apt-get install ${missing[*]} failed"
  fi
}
