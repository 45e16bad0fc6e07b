#!/usr/bin/env bash
# Runs every fuzz target of the module for a while each (default 60s; FUZZTIME=10s for less).
# Not part of .ci/run: `go test ./...` runs each target's seed corpus already. A failure
# leaves its input under the package's testdata/fuzz/<Target>/, to be kept as a regression
# seed once fixed.
#
#   bash test/fuzz.sh                 # every target
#   bash test/fuzz.sh FuzzParseURN    # the targets whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-60s}
filter=${1:-.}
failed=()
while IFS=: read -r file name; do
	[[ $name =~ $filter ]] || continue
	pkg=./$(dirname "$file")
	echo "== $pkg $name ($fuzztime)"
	if ! go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime"; then
		failed+=("$pkg $name")
	fi
done < <(grep -rHoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' . | sed -E 's|^\./||; s|:func |:|' | sort)
if ((${#failed[@]})); then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "every fuzz target ran $fuzztime without a failure"
