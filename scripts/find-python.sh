#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or fail naming what was tried.
# Order: $PYTHON, python3.13, python3.12, python3, then pyenv's installed versions
# (lowest >= 3.12 first: the version the lock is tested on). pyenv shims of versions
# that are installed but not selected fail when run, so every candidate is executed.
set -u
check='import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'
tried=()
try() {
    local cand=$1
    tried+=("$cand")
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "$check" >/dev/null 2>&1; then
        "$cand" -c 'import sys; print(sys.executable)'
        exit 0
    fi
}
[ -n "${PYTHON:-}" ] && try "$PYTHON"
for name in python3.13 python3.12 python3; do try "$name"; done
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
if [ -d "$root/versions" ]; then
    for dir in $(ls -1 "$root/versions" | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -t. -k1,1n -k2,2n -k3,3n); do
        try "$root/versions/$dir/bin/python3"
    done
fi
echo "error: no Python >= 3.12 found. Tried: ${tried[*]}" >&2
echo "Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
exit 1
