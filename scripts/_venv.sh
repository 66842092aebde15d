# Shared by scripts/test, scripts/demo and scripts/bench: make .venv with the given extras.
# Usage: . scripts/_venv.sh EXTRAS   (EXTRAS like "dev" or "dev,bench")
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=".venv/.installed-$1"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ setup.py -nt "$stamp" ] \
    || [ -n "$(find datastores/_native -newer "$stamp")" ]; then  # rebuild the C extension
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$1]"
    touch "$stamp"
fi
# mypy cannot see setuptools' editable finder hook (an import hook), so a user script
# type-checked with this venv's mypy found no "datastores"; a plain path in a .pth file
# it does read (tests/test_packaging.py checks it).
purelib="$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$root" > "$purelib/_datastores_checkout.pth"
export PATH="$root/.venv/bin:$PATH"
