#!/usr/bin/env bash
# Re-pin constraints.txt from the working .venv (run after changing dependencies, then commit).
set -euo pipefail
cd "$(dirname "$0")/.."
{
    echo "# Pinned versions of every dependency (scripts/lock.sh writes this file from a working .venv)."
    echo "# torch/torchvision: the CPU wheel of torch 2.13.0 and the only torchvision built for it."
    echo "fastapi<0.151"
    .venv/bin/python -m pip freeze --exclude-editable --disable-pip-version-check \
        | sed -E 's/^(torch==[0-9.]+)\+.*/\1/' | grep -v -i "^t2l"
} > constraints.txt
echo "lock: $(grep -c '==' constraints.txt) pins written to constraints.txt"
