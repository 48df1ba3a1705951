#!/usr/bin/env bash
# Create (once) the Python venv holding the pinned MLflow tracking server used by
# tests/mlflow_real.rs and benches/mlflow_registry.rs. Idempotent: an existing venv whose
# mlflow matches the pin is left alone, so CI can call this on every run.
#
#   scripts/mlflow-test-server.sh            # install if missing, print the mlflow binary path
#
# Venv location: ${MLOPS_MLFLOW_VENV:-$HOME/.cache/mlops-maturity/mlflow-venv}
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$repo_root/tests/mlflow/requirements.txt"
venv="${MLOPS_MLFLOW_VENV:-$HOME/.cache/mlops-maturity/mlflow-venv}"
python_bin="${PYTHON:-python3}"

pinned_version="$(sed -n 's/^mlflow==\([^ ]*\).*/\1/p' "$requirements")"

installed_version() {
    [ -x "$venv/bin/python" ] || return 1
    "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mlflow"))' 2>/dev/null
}

if [ "$(installed_version || true)" = "$pinned_version" ] && [ -x "$venv/bin/mlflow" ]; then
    echo "mlflow $pinned_version already installed in $venv" >&2
else
    echo "installing mlflow $pinned_version into $venv (takes a few minutes the first time)" >&2
    mkdir -p "$(dirname "$venv")"
    [ -x "$venv/bin/python" ] || "$python_bin" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
fi

echo "$venv/bin/mlflow"
