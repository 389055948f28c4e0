#!/usr/bin/env bash
# Regenerate every figure and table, or run the tests, from a clean clone.
#
#   ./run_all.sh [--profile smoke|quick|paper] [--only NN] [--from NN] [--force] [--plan]
#   ./run_all.sh test [pytest arguments]
#
# Both first bootstrap .venv from requirements.txt (only when it is missing or the pins
# changed), then execute the numbered notebooks with papermill into reports/executed/.
# --plan prints what the profile would run and how long it should take, and runs nothing.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PYTHON_BIN=${PYTHON:-$(command -v python3.11 || command -v python3)}

bootstrap() {
    local stamp
    stamp=$(cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
    if [[ -x $VENV/bin/python && "$(cat $VENV/.bootstrap-stamp 2>/dev/null)" == "$stamp" ]]; then
        return
    fi
    echo "[run_all] creating $VENV from requirements.txt (a few minutes, once)"
    "$PYTHON_BIN" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    # make lattice_utils importable from the venv (notebooks, jupyter lab, pytest)
    local site
    site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    pwd > "$site/lattice_utils_repo.pth"
    "$VENV/bin/python" -c "import lattice_utils, torch, jarvis, pyxtal, papermill" \
        || { echo "[run_all] the environment does not import; see the messages above" >&2; exit 1; }
    echo "$stamp" > "$VENV/.bootstrap-stamp"
}

usage() { sed -n '2,9p' "$0"; }

if [[ "${1:-}" == "test" ]]; then
    shift
    bootstrap
    exec "$VENV/bin/python" -m pytest "$@"
fi

PROFILE=quick ONLY="" FROM="" FORCE=False PLAN=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --profile) PROFILE="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --from) FROM="$2"; shift 2 ;;
        --force) FORCE=True; shift ;;
        --plan) PLAN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$PROFILE" in smoke|quick|paper) ;; *) echo "unknown profile $PROFILE" >&2; exit 2 ;; esac

bootstrap
if [[ $PLAN -eq 1 ]]; then
    exec "$VENV/bin/python" -m lattice_utils.plan --profile "$PROFILE"
fi
mkdir -p reports/executed
export MPLBACKEND=Agg
ran=0
for nb in notebooks/[0-9][0-9]_*.ipynb; do
    name=$(basename "$nb")
    num=${name:0:2}
    [[ -n "$ONLY" && "$num" != "$ONLY" ]] && continue
    [[ -n "$FROM" && "$num" < "$FROM" ]] && continue
    echo "[run_all] $name (profile $PROFILE)"
    start=$(date +%s)
    "$VENV/bin/papermill" "$nb" "reports/executed/$name" --cwd notebooks \
        -p profile "$PROFILE" -p force "$FORCE" --no-progress-bar --log-output \
        > "reports/executed/${name%.ipynb}.log" 2>&1 \
        || { echo "[run_all] $name failed; log: reports/executed/${name%.ipynb}.log" >&2
             tail -n 30 "reports/executed/${name%.ipynb}.log" >&2; exit 1; }
    echo "[run_all] $name done in $(( $(date +%s) - start )) s"
    ran=$((ran + 1))
done
[[ $ran -gt 0 ]] || { echo "no notebook matched" >&2; exit 2; }
echo "[run_all] figures in figures/, tables in reports/tables/, executed notebooks in reports/executed/"
