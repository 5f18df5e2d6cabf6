#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image, with the zip
# unpacked in $ROOT/source. It makes the grader's virtual environment $ROOT/venv (outside the
# source, so the student's code can still run the interpreter while the source is hidden from
# it) and, unless DATA_ROOT names one, downloads MNIST into $ROOT/source/data.
#
#   AUTOGRADER_ROOT  the root of the layout (default /autograder; a test lays it out elsewhere)
#   PYTHON           the interpreter to build the venv from (default: the first Python >= 3.11 found)
#   DATA_ROOT        a folder that already holds MNIST/raw: nothing is downloaded
# pip's own settings (PIP_INDEX_URL, a pip.conf, a local wheel cache) apply as usual.
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"

find_python() {
    local py
    for py in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
        if command -v "$py" >/dev/null 2>&1 &&
            "$py" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            command -v "$py"
            return 0
        fi
    done
    return 1
}

if ! PY="$(find_python)"; then
    # Gradescope's Ubuntu images: python3 lacks venv (24.04), or is older than 3.11 (22.04).
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q python3-venv python3-pip || true
        PY="$(find_python)" || { apt-get install -y -q python3.11 python3.11-venv || true; }
    fi
    PY="$(find_python)" || { echo "setup.sh: the grader needs Python >= 3.11 with its venv module" >&2; exit 1; }
fi

echo "setup.sh: $("$PY" --version) from $PY"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$SOURCE/requirements.txt"

if [ -z "${DATA_ROOT:-}" ]; then
    "$VENV/bin/python" - "$SOURCE/data" <<'EOF'
import sys

from torchvision.datasets import MNIST

for train in (True, False):
    MNIST(sys.argv[1], train=train, download=True)
EOF
fi
echo "setup.sh: ready"
