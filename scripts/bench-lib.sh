# Workloads and statistics shared by bench-overhead.sh and bench-ab.sh;
# sourced, with PIPE_LOOPS and FORKS set. Each workload runs "$@" as a
# wrapper (e.g. `agentperf run --project bench --`) and prints one number.

# Microseconds per operation of a pinned context-switch storm.
pipe() { "$@" taskset -c 1 perf bench sched pipe -l "$PIPE_LOOPS" 2>/dev/null | awk '/usecs\/op/ { print $1 }'; }
# Milliseconds for FORKS fork+exec of /bin/true from one shell.
storm() {
	local s e
	s=$(date +%s%N)
	"$@" sh -c "i=0; while [ \$i -lt $FORKS ]; do /bin/true; i=\$((i+1)); done"
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}
# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Median of the per-round ratios B_i/A_i of files A and B: robust to rounds the VM slowed as a whole.
paired() { paste "$1" "$2" | awk '{ printf "%.4f\n", $2 / $1 }' | median | awk '{ printf "%.3f", $1 }'; }
