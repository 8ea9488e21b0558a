#!/usr/bin/env bash
# Start-up of 'oscli send /x i:1' next to bench/minsend, the smallest Go
# program sending the same datagram, built the same way and measured in
# the same hyperfine run (these machines are noisy: compare the ratio).
#
#   bench/startup.sh [RUNS] [OLD_OSCLI]
#
# With OLD_OSCLI (a binary built from an earlier commit), it is measured
# in the same run: before/after. Nothing needs to listen on port 8000.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000}
old=${2:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/oscli" .
go build -o "$dir/minsend" ./bench/minsend
cmds=("$dir/minsend" "$dir/oscli send /x i:1")
if [ -n "$old" ]; then
  cmds+=("$old send /x i:1")
fi
hyperfine -N --warmup 100 --runs "$runs" "${cmds[@]}"
