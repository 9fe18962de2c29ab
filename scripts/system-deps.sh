#!/usr/bin/env bash
# Installs the system libraries safewalk needs when they are missing (Debian/Ubuntu via apt).
# Usage: [PYTHON=python3] scripts/system-deps.sh [--postgis]
set -euo pipefail

need=()
have_spatialite() {
  ldconfig -p 2>/dev/null | grep -q 'mod_spatialite\.so' || ls /usr/lib/*/mod_spatialite.so >/dev/null 2>&1
}
have_spatialite || need+=(libsqlite3-mod-spatialite)
# Debian's python3 makes no virtual environment without python3-venv (ensurepip).
python=${PYTHON:-python3}
if command -v "$python" >/dev/null && ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  need+=(python3-venv)
fi
if [[ "${1:-}" == "--postgis" ]]; then
  pgv=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
  if [[ -n "$pgv" ]] && ! ls "/usr/share/postgresql/$pgv/extension/postgis.control" >/dev/null 2>&1; then
    need+=("postgresql-$pgv-postgis-3")
  fi
fi
[[ ${#need[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "safewalk needs: ${need[*]} (no apt-get here: install them with your package manager)" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "safewalk needs: ${need[*]}; run: apt-get install ${need[*]} (as root)" >&2; exit 1
  fi
fi
echo "installing ${need[*]} ..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
