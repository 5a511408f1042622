# Where the CPU oracle's cgroup hierarchies are mounted, from
# /proc/self/mountinfo; sourced by lib.sh and run.sh.

# cgroup_mount v1 CONTROLLER | cgroup_mount v2: the mount point of the cgroup-v1
# hierarchy that holds CONTROLLER, or of the cgroup-v2 hierarchy (the first
# such mount); nothing when there is none.
cgroup_mount() {
	# A mountinfo line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...]
	# - FSTYPE SOURCE SUPER_OPTIONS; a v1 hierarchy names its controllers
	# in the super options ("rw,cpu,cpuacct").
	awk -v want="$1" -v ctl="${2:-}" '{
		for (i = 7; i < NF && $i != "-"; i++)
			;
		fs = $(i + 1)
		if ((want == "v2" && fs == "cgroup2") ||
		    (want == "v1" && fs == "cgroup" && index("," $(i + 3) ",", "," ctl ","))) {
			print $5
			exit
		}
	}' /proc/self/mountinfo
}
