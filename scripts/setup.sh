#!/usr/bin/env bash
# Make .venv with everything t2l needs: ffmpeg (apt; chromium too with --browser), torch 2.13.0, the locked dependencies,
# the package itself (editable) and, only where torchvision cannot import on this torch build,
# the import-time shim of src/t2l/compat/torchvision_shim.py.
# Idempotent: with unchanged inputs a re-run only checks a stamp and returns.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
STAMP="$VENV/.t2l-setup"
INPUTS=(pyproject.toml constraints.txt scripts/setup.sh src/t2l/compat/torchvision_shim.py)
digest=$(cat "${INPUTS[@]}" | sha256sum | cut -d' ' -f1)

# System packages: ffmpeg always; with --browser (make test) Debian's chromium, for the UI tests.
packages=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || packages+=(ffmpeg)
[ "${1:-}" != "--browser" ] || command -v chromium >/dev/null || packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
    echo "setup: installing ${packages[*]} with apt-get"
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$digest" ] && [ -x "$VENV/bin/t2l" ]; then
    echo "setup: $VENV is up to date"
    exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
# torch first and alone: an unpinned resolve would pull the multi-GB CUDA build.
"$VENV/bin/python" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null \
    || "${pip[@]}" torch==2.13.0
"${pip[@]}" -c constraints.txt -e ".[dev]"

site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
rm -f "$site/t2l_torchvision_shim.pth"
if ! err=$("$VENV/bin/python" -c "import torchvision" 2>&1); then
    if grep -q "operator torchvision::" <<<"$err"; then
        echo "setup: torchvision's compiled ops do not match this torch build; installing the import shim"
        echo "import t2l.compat.torchvision_shim as shim; shim.install()" > "$site/t2l_torchvision_shim.pth"
    else
        echo "$err" >&2
        exit 1
    fi
fi
"$VENV/bin/python" -c "import open_clip, decord, av, great_expectations, mlflow, prefect" \
    || { echo "setup: the environment does not import" >&2; exit 1; }
echo "$digest" > "$STAMP"
echo "setup: $VENV ready"
