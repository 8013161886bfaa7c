#!/usr/bin/env bash
# Throughput benchmark, from a fresh clone:  bash benchmarks/run.sh [DATA_DIR] [--quick] [--pages N] ...
# Sets up what it needs, then runs benchmarks/throughput.py (arguments passed on):
# - Debian's nginx-light (serves the pages; started and stopped by the benchmark, never as a service);
# - the project's .venv (made if missing) and news-please in its own venv, benchmarks/.venv-newsplease.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "Installing Debian's nginx-light"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
  # Debian's package may start its own service; the benchmark runs its own instance instead.
  { command -v service >/dev/null && $SUDO service nginx stop >/dev/null 2>&1; } || true
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e .
fi
if [ ! -x benchmarks/.venv-newsplease/bin/python ]; then
  echo "Installing news-please into benchmarks/.venv-newsplease"
  python3 -m venv benchmarks/.venv-newsplease
  benchmarks/.venv-newsplease/bin/python -m pip install -q news-please 2>&1 | grep -v "^WARNING: Location" || true
  benchmarks/.venv-newsplease/bin/python -c "import newsplease" 
fi
exec .venv/bin/python benchmarks/throughput.py "$@"
