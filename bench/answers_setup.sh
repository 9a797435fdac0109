# Sourced by bench/answers.sh and bench/answers_ab.sh: the answer benchmark's database.
#   answer_links "RAPPORT --database-url URL" ACCOUNTS DIR
# loads the demo portfolio with ACCOUNTS accounts, creates the wave BENCH for every contact
# (none left out for having been surveyed lately), opens it, and writes the path of each
# personal link to DIR/paths.txt, one a line, for bench/answers.lua.
answer_links() {
  local bin=$1 accounts=$2 dir=$3
  $bin demo --accounts "$accounts" >/dev/null
  $bin wave create BENCH --exclude-days 0 >/dev/null
  $bin wave links BENCH "$dir/links.csv" >/dev/null
  tail -n +2 "$dir/links.csv" | awk -F, '{print $NF}' | sed 's#^http://127.0.0.1:8080##' >"$dir/paths.txt"
}
