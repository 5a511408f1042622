#!/usr/bin/env bash
# autoforge-perfmon.patch: checked, or written again from the files here.
#
#   make-patch.sh --check
#       Checks that the patch's server/agentperf_relay.py is agentperf_relay.py
#       here, byte for byte, and that README.md's lines for wiring by hand are
#       the patch's. Needs no AutoForge checkout: test_relay.sh runs it.
#   make-patch.sh AUTOFORGE_GIT [EDITED_TREE]
#       Writes the patch again against AutoForge's BASE commit: its
#       server/agentperf_relay.py from agentperf_relay.py here, its other files
#       (FILES) as the patch has them now, or, given EDITED_TREE (an AutoForge
#       work tree at BASE with the patch applied and those files edited), as
#       they are there. AUTOFORGE_GIT: a clone or mirror of
#       github.com/AutoForgeAI/autoforge that holds BASE (read only). The commit
#       message and author are the patch's own; the output is the same for the
#       same files (no dates or hashes that vary).
# Change the relay here, never in the patch; then run this and test_relay.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PATCH=$HERE/autoforge-perfmon.patch
RELAY=$HERE/agentperf_relay.py
# AutoForge at PR #181's head, which added the PerfMon panel.
BASE=0d905b2b8537a908ee27dc1909242c197bf0ccfd
MODULE=server/agentperf_relay.py
FILES=(server/websocket.py test_agentperf_relay.py .env.example)

die() {
	echo "make-patch.sh: $*" >&2
	exit 1
}

# The new file MODULE as the patch creates it: its one hunk's lines.
relay_in_patch() {
	awk -v f="$MODULE" '
		/^diff --git / { on = ($0 == "diff --git a/" f " b/" f); body = 0; next }
		!on { next }
		/^@@ / { body = 1; next }
		body && /^\+/ { print substr($0, 2); next }
		body && /^\\ No newline/ { nonl = 1; next }
		body { exit 1 }  # a context or removed line: not a new file
	' "$PATCH"
}

if [ "${1:-}" = --check ]; then
	[ -f "$PATCH" ] || die "no $PATCH"
	grep -qx "diff --git a/$MODULE b/$MODULE" "$PATCH" || die "the patch does not create $MODULE"
	relay_in_patch >"${TMPDIR:-/tmp}/relay-in-patch.$$" || die "$MODULE in the patch is not a new file"
	if ! cmp -s "${TMPDIR:-/tmp}/relay-in-patch.$$" "$RELAY"; then
		diff -u "$RELAY" "${TMPDIR:-/tmp}/relay-in-patch.$$" | head -40 >&2 || true
		rm -f "${TMPDIR:-/tmp}/relay-in-patch.$$"
		die "the patch's $MODULE differs from agentperf_relay.py: run make-patch.sh AUTOFORGE_GIT"
	fi
	rm -f "${TMPDIR:-/tmp}/relay-in-patch.$$"
	echo "the patch's $MODULE is agentperf_relay.py"
	# README.md's lines for wiring by hand are the patch's.
	/usr/bin/python3 - "$PATCH" "$HERE/README.md" <<'PY' || die "README.md's wiring differs from the patch's"
import sys, textwrap
patch, readme = (open(f).read().splitlines() for f in sys.argv[1:])
added = [l[1:] for l in patch if l.startswith("+") and not l.startswith("+++")]
start = patch.index("+async def stream_perf_metrics(websocket: WebSocket, project_name: str, agent_manager):")
func = []
for l in patch[start:]:
    if not l.startswith("+"):
        break  # the end of the added lines
    func.append(l[1:])
while func and not func[-1].strip():
    func.pop()
blocks, block = [], None
for l in readme:
    if l.strip() == "```python":
        block = []
    elif l.strip() == "```" and block is not None:
        blocks.append(textwrap.dedent("\n".join(block)))
        block = None
    elif block is not None:
        block.append(l)
perf = next(l for l in added if "perf_task = asyncio.create_task(" in l)
bad = []
if "\n".join(func) not in blocks:
    bad.append("stream_perf_metrics")
if not any(perf.strip() == b.strip() for b in blocks):
    bad.append("the perf_task line")
for imp in ("import os", "from . import agentperf_relay"):
    if imp not in added or "`%s`" % imp not in "\n".join(readme):
        bad.append(imp)
if bad:
    sys.exit("README.md and the patch differ: " + ", ".join(bad))
print("README.md's wiring is the patch's")
PY
	exit 0
fi

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: make-patch.sh --check | AUTOFORGE_GIT [EDITED_TREE]"
src=$1
edited=${2:-}
git -C "$src" cat-file -e "$BASE^{commit}" 2>/dev/null || die "$src holds no AutoForge commit $BASE"
[ -z "$edited" ] || [ -f "$edited/${FILES[0]}" ] || die "$edited has no ${FILES[0]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --no-checkout "$src" "$work/af"
cd "$work/af"
git checkout -q --detach "$BASE"
export GIT_COMMITTER_NAME=make-patch GIT_COMMITTER_EMAIL=make-patch@invalid
export GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
# The patch as it is (message, author, date), then the files this run is given.
git -c core.hooksPath=/dev/null am -q --keep-cr "$PATCH"
if [ -n "$edited" ]; then
	for f in "${FILES[@]}"; do cp "$edited/$f" "$f"; done
fi
cp "$RELAY" "$MODULE"
git add -- "${FILES[@]}" "$MODULE"
[ -z "$(git status --porcelain --untracked-files=no | grep -v '^M  ' || true)" ] ||
	die "unexpected changes: $(git status --porcelain)"
git -c core.hooksPath=/dev/null commit -q --amend --no-edit --allow-empty
changed=$(git diff --name-only "$BASE" HEAD | sort | tr '\n' ' ')
want=$(printf '%s\n' "${FILES[@]}" "$MODULE" | sort | tr '\n' ' ')
[ "$changed" = "$want" ] || die "the patch would change $changed; only $want may change"
git format-patch -1 --stdout --zero-commit --no-signature --full-index HEAD >"$work/new.patch"
# It must apply both ways to BASE.
git checkout -q --detach "$BASE"
git apply --check "$work/new.patch" || die "the new patch does not apply with git apply"
patch -p1 --dry-run -s <"$work/new.patch" >/dev/null || die "the new patch does not apply with patch -p1"
if cmp -s "$work/new.patch" "$PATCH"; then
	echo "autoforge-perfmon.patch: unchanged"
else
	cp "$work/new.patch" "$PATCH"
	echo "autoforge-perfmon.patch: written ($(git apply --numstat "$PATCH" | awk '{a += $1; d += $2} END {print "+" a " -" d}'))"
fi
"$HERE/make-patch.sh" --check
