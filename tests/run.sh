#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh machine, then runs it:
#   bash tests/run.sh [pytest arguments]
# - a virtual environment in .venv with the project and its test extras (from PyPI), and pywb in .venv-pywb;
# - the Debian packages listed in tests/debian-packages.txt (servers the tests start themselves).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# pywb pins old libraries (redis 2, brotlipy over Brotli's `brotli`), so it gets a venv of its own,
# used by `newsarchive replay --pywb-bin .venv-pywb/bin` and `check_warc.py --replay` (README)
[ -x .venv-pywb/bin/wayback ] || { python3 -m venv .venv-pywb && .venv-pywb/bin/python -m pip install -q 'pywb>=2.10,<3'; }

missing=()
while read -r package; do
  [ -z "$package" ] || [ "${package#\#}" != "$package" ] && continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done < tests/debian-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec .venv/bin/python -m pytest "$@"
