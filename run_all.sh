#!/usr/bin/env bash
# Regenerate every figure and table, or run the tests, from a clean clone.
#
#   ./run_all.sh [--profile smoke|quick|paper] [--data auto|paper|offline] [--only NN[,NN..]] [--from NN]
#                [--force] [--plan]
#   ./run_all.sh test [pytest arguments]      (ruff check . first: a finding stops it before pytest)
#   ./run_all.sh publish [--allow-missing] | --benchmarks
#
# All three bootstrap .venv from requirements.txt (only when it is missing or the pins
# changed); the first then executes the numbered notebooks with papermill into reports/executed/
# --data: the paper's own data files in data/raw/ where present (auto, the default; paper for
# --profile paper: missing files stop the run and say what to place where) or the offline
# stand-ins only (offline). --plan prints what the profile would run and how long it should
# take, and runs nothing. A run writes only git-ignored outputs; publish copies the last run's
# results page, report and light figures (reports/site/, from notebook 99) into docs/ and the
# headline into README.md, for a commit.
set -euo pipefail
# a relative LATTICE_OUTPUT_DIR or LATTICE_DATA_DIR names a folder under the one the user ran from:
# made absolute before the cd below, so every notebook (run in notebooks/) sees the same folder
for var in LATTICE_OUTPUT_DIR LATTICE_DATA_DIR; do
    if [[ -n "${!var:-}" ]]; then export "$var=$(realpath -m -- "${!var}")"; fi
done
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
    # lattice_utils installed from this checkout as environment.yml does it (editable: notebooks,
    # jupyter lab and pytest import the code as it stands)
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    "$VENV/bin/python" -c "import lattice_utils, torch, jarvis, pyxtal, papermill" \
        || { echo "[run_all] the environment does not import; see the messages above" >&2; exit 1; }
    echo "$stamp" > "$VENV/.bootstrap-stamp"
}

# the comment block at the top of this file, however long it grows
usage() { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; }

if [[ "${1:-}" == "test" ]]; then
    shift
    bootstrap
    # lint first (ruff, configured in pyproject.toml: the package, tests, benchmarks and notebooks)
    "$VENV/bin/ruff" check . \
        || { status=$?; echo "[run_all] lint failed (ruff check .); see the findings above" >&2; exit $status; }
    echo "[run_all] lint passed (ruff check .)"
    exec "$VENV/bin/python" -m pytest "$@"
fi
if [[ "${1:-}" == "publish" ]]; then
    shift
    bootstrap
    exec "$VENV/bin/python" -m lattice_utils.repro.publish "$@"
fi

# the value of an option, or a message naming the option when it has none
value_of() {
    if [[ $# -lt 2 || -z "$2" || "$2" == --* ]]; then
        echo "option $1 needs a value" >&2; usage >&2; exit 2
    fi
    printf '%s' "$2"
}

PROFILE=quick DATA="" ONLY="" FROM="" FORCE=False PLAN=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --profile) PROFILE=$(value_of "$@"); shift 2 ;;
        --data) DATA=$(value_of "$@"); shift 2 ;;
        --only) ONLY=$(value_of "$@"); shift 2 ;;
        --from) FROM=$(value_of "$@"); shift 2 ;;
        --force) FORCE=True; shift ;;
        --plan) PLAN=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
# --only 4 means 04; --only 01,02,05 runs those three
ONLY_LIST=()
if [[ -n "$ONLY" ]]; then
    IFS=, read -r -a ONLY_LIST <<< "$ONLY"
    for i in "${!ONLY_LIST[@]}"; do
        [[ ${ONLY_LIST[$i]} =~ ^[0-9]$ ]] && ONLY_LIST[$i]=0${ONLY_LIST[$i]}
    done
fi
[[ $FROM =~ ^[0-9]$ ]] && FROM=0$FROM
case "$PROFILE" in smoke|quick|paper) ;; *) echo "unknown profile $PROFILE (use smoke, quick or paper)" >&2; exit 2 ;; esac
[[ -z "$DATA" ]] && { [[ $PROFILE == paper ]] && DATA=paper || DATA=auto; }
case "$DATA" in auto|paper|offline) ;; *) echo "unknown data source $DATA (use auto, paper or offline)" >&2; exit 2 ;; esac

# the notebooks to run, checked before anything is installed or executed
NOTEBOOKS=()
NUMBERS=()
for nb in notebooks/[0-9][0-9]_*.ipynb; do
    name=$(basename "$nb")
    num=${name:0:2}
    NUMBERS+=("$num")
    if [[ ${#ONLY_LIST[@]} -gt 0 && " ${ONLY_LIST[*]} " != *" $num "* ]]; then continue; fi
    [[ -n "$FROM" && "$num" < "$FROM" ]] && continue
    NOTEBOOKS+=("$nb")
done
# --from and --only name notebooks that exist (--from 1a or 19 would otherwise compare as text
# and quietly run only the last notebook)
for want in "${ONLY_LIST[@]}" ${FROM:+"$FROM"}; do
    if [[ ! $want =~ ^[0-9][0-9]$ || " ${NUMBERS[*]} " != *" $want "* ]]; then
        echo "no notebook numbered '$want'; the notebooks are numbered ${NUMBERS[*]}" >&2
        exit 2
    fi
done
if [[ ${#NOTEBOOKS[@]} -eq 0 ]]; then
    echo "no notebook matched${ONLY:+ --only $ONLY}${FROM:+ --from $FROM}; the notebooks are" \
         "numbered ${NUMBERS[*]}" >&2
    exit 2
fi

bootstrap
if [[ $PLAN -eq 1 ]]; then
    exec "$VENV/bin/python" -m lattice_utils.repro.plan --profile "$PROFILE"
fi
# which of the paper's data files are in data/raw/, and what each changes
"$VENV/bin/python" -m lattice_utils.data.sources --data "$DATA"
# outputs go where lattice_utils.core.paths puts them (LATTICE_OUTPUT_DIR, default: the checkout)
OUT=${LATTICE_OUTPUT_DIR:-.}
EXECUTED=$OUT/reports/executed
mkdir -p "$EXECUTED"
export MPLBACKEND=Agg
# expected seconds per notebook (its last run at this profile, else the plan's rates): progress lines
declare -A EXPECT
while read -r nbname seconds _; do EXPECT[$nbname]=$seconds; done \
    < <("$VENV/bin/python" -m lattice_utils.repro.plan --profile "$PROFILE" --executed "$EXECUTED" \
            --estimates "${NOTEBOOKS[@]}" 2>/dev/null || true)
left=0
for nb in "${NOTEBOOKS[@]}"; do left=$(( left + ${EXPECT[$(basename "$nb")]:-60} )); done
minutes() { local s=$1; (( s < 60 )) && echo "${s} s" || echo "$(( (s + 30) / 60 )) min"; }
echo "[run_all] ${#NOTEBOOKS[@]} notebooks, about $(minutes $left) (from the last runs and the plan)"
PROGRESS_EVERY=${RUN_ALL_PROGRESS_S:-60}
pid=""
# an interrupted run_all stops its notebook too
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; echo "[run_all] interrupted" >&2; exit 130' INT TERM
for nb in "${NOTEBOOKS[@]}"; do
    name=$(basename "$nb")
    log="$EXECUTED/${name%.ipynb}.log"
    record="$EXECUTED/${name%.ipynb}.commit"
    rm -f "$record"
    # the code this notebook executes, read just before it starts (as its NotebookRun stamps its
    # tables); recorded beside its executed copy when it finishes, so that a published copy names the
    # commit of its own run, not that of a later run of other notebooks
    nb_commit=$("$VENV/bin/python" -c "from lattice_utils.core.provenance import git_commit; print(git_commit())")
    expect=${EXPECT[$name]:-60}
    # the data switch goes to the notebooks that have the parameter
    data_args=()
    grep -q '"data_source = ' "$nb" && data_args=(-p data_source "$DATA")
    echo "[run_all] $name (profile $PROFILE${data_args:+, data $DATA}; about $(minutes "$expect"))"
    start=$(date +%s)
    "$VENV/bin/papermill" "$nb" "$EXECUTED/$name" --cwd notebooks \
        -p profile "$PROFILE" -p force "$FORCE" "${data_args[@]}" --no-progress-bar --log-output \
        > "$log" 2>&1 &
    pid=$!
    # while it runs: elapsed, what is left, and the notebook's last output line (its log)
    next=$PROGRESS_EVERY
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        elapsed=$(( $(date +%s) - start ))
        if (( elapsed >= next )) && kill -0 "$pid" 2>/dev/null; then
            next=$(( next + PROGRESS_EVERY ))
            remaining=$(( left - elapsed )); (( remaining < 0 )) && remaining=0
            last=$(grep -v -e 'Cell [0-9]*---' -e '^[[:space:]]*$' "$log" 2>/dev/null | tail -n 1 | cut -c1-90 || true)
            echo "[run_all]   ${name%.ipynb}: $(minutes "$elapsed") so far, about $(minutes "$remaining") left in the run${last:+ | $last}"
        fi
    done
    if ! wait "$pid"; then
        echo "[run_all] $name failed; log: $log" >&2
        # a missing data file is one message, not a traceback
        if grep -q "DataUnavailableError: " "$log"; then
            grep -m1 -o "DataUnavailableError: .*" "$log" | sed 's/^DataUnavailableError: /[run_all] /' >&2
        else
            tail -n 30 "$log" >&2
        fi
        exit 1
    fi
    printf '%s\n' "$nb_commit" > "$record.tmp" && mv "$record.tmp" "$record"
    left=$(( left - expect )); (( left < 0 )) && left=0
    echo "[run_all] $name done in $(minutes $(( $(date +%s) - start )))"
done
echo "[run_all] figures in $OUT/figures/, tables in $OUT/reports/tables/, executed notebooks in $EXECUTED/;" \
     "./run_all.sh publish copies the results page into docs/"
