#!/usr/bin/env bash
# Mutation testing: mutmut mutates the modules listed in pyproject.toml ([tool.mutmut] only_mutate) and runs
# the fast tests listed there against each mutant. Prints the score per module and every surviving mutant,
# and fails when fewer than MUTATION_MIN_SCORE percent are killed.
#   ./scripts/mutation.sh                 # everything, from scratch (about 25 minutes on 2 cores)
#   ./scripts/mutation.sh 'grader.judge.*'  # only these mutants, reusing the last run's results
#   .venv/bin/mutmut show NAME            # the diff of one mutant
set -euo pipefail
cd "$(dirname "$0")/.."

children="${MUTATION_CHILDREN:-2}"
min_score="${MUTATION_MIN_SCORE:-95}"

if [ "$#" -eq 0 ]; then
    # mutmut keeps results between runs; a full run starts clean so nothing stale is counted.
    rm -rf mutants
fi
start=$(date +%s)
# Every mutant's pytest session copies one database migrated here, instead of migrating its own.
migrated=$(mktemp -d)
trap 'rm -rf "$migrated"' EXIT
TFGRADE_SECRET_KEY=mutation TFGRADE_DATA_DIR="$migrated/data" .venv/bin/tfgrade migrate >/dev/null
export TFGRADE_TEST_MIGRATED_SQLITE_DIR="$migrated/data"
# The service tests run on the embedded SQLite alone: the logic under test is the same on PostgreSQL.
TFGRADE_TEST_BACKENDS=sqlite nice -n "${MUTATION_NICE:-15}" .venv/bin/mutmut run --max-children "$children" "$@" >mutants.log 2>&1 || {
    tail -n 40 mutants.log
    exit 1
}
mv mutants.log mutants/run.log
echo "mutmut run took $(($(date +%s) - start)) s"

.venv/bin/mutmut results --all true >mutants/results.txt
# A name is module.x_function__mutmut_N (methods: module.xǁClassǁmethod__mutmut_N).
awk -F': ' -v min="$min_score" '
    {
        name = $1; gsub(/^ +/, "", name)
        module = name; sub(/\.x[_ǁ].*$/, "", module)
        status = $2
        if (status == "not checked") { unchecked++; next }
        total[module]++
        if (status == "killed" || status == "timeout") { killed[module]++; all_killed++ }
        else { survivors = survivors "  " status ": " name "\n" }
        count++
    }
    END {
        printf "%-32s %7s %7s %7s\n", "module", "mutants", "killed", "score"
        for (m in total) printf "%-32s %7d %7d %6.1f%%\n", m, total[m], killed[m], 100 * killed[m] / total[m] | "sort"
        close("sort")
        score = 100 * all_killed / count
        printf "%-32s %7d %7d %6.1f%%\n", "all", count, all_killed, score
        if (unchecked) printf "(%d mutants not checked in this run)\n", unchecked
        if (survivors != "") printf "\nnot killed:\n%s", survivors
        if (score < min) { printf "\nscore %.1f%% is below %s%%\n", score, min; exit 1 }
    }
' mutants/results.txt
