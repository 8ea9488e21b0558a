#!/usr/bin/env bash
# oscli tap on loopback, each number next to a baseline from the same run
# (these machines are noisy; compare within a run).
#
#   bench/tap.sh [SECONDS]
#   RATES="200000 300000" bench/tap.sh 5
#
# 1. Loss: bench/flood (an independent sendmmsg sender) floods 20-byte
#    messages at R/s; the receiver is `oscli dump --format json > /dev/null`.
#    Baseline: flood → dump. Through tap: flood → tap (printing text into a
#    pipe) → dump. loss = 1 - the receiver's count / flood's sent; tap's own
#    count (what it printed) is shown too.
# 2. Added round-trip latency: `oscli bench TARGET --rate R` against
#    `oscli dump --echo`, straight and through tap (which prints into a
#    pipe), p50 and p99 of each, in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rates=${RATES:-100000 200000 300000}
lrate=${LATENCY_RATE:-10000}
bin=$(mktemp -d)/oscli
go build -o "$bin" .
flood=$(dirname "$bin")/flood
go build -o "$flood" ./bench/flood
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$(dirname "$bin")"' EXIT

# listen NAME ARGS...: runs oscli ARGS in the background, stdout into a
# pipe, with --ready-file and stderr in $tmp/NAME.err; sets $addr to where
# it listens and $pid to its process.
listen() {
  local name=$1
  shift
  rm -f "$tmp/$name.ready"
  "$bin" "$@" --ready-file "$tmp/$name.ready" 2>"$tmp/$name.err" > >(cat >/dev/null) &
  pid=$!
  while [ ! -s "$tmp/$name.ready" ]; do sleep 0.02; done
  addr=$(sed 's,^udp://,,' "$tmp/$name.ready")
}
count() { sed -n 's/^oscli: \(stopped by [^:]*: \)\{0,1\}\([0-9]*\) packets.*/\2/p' "$tmp/$1.err"; }
pct() { python3 -c "print(f'{100*(1-$1/$2):.3f}%')"; }

echo "== loss at fixed rates (${secs}s each; 20-byte messages from bench/flood)"
printf '%-8s %-28s %-28s %s\n' rate "flood → dump" "flood → tap | pipe → dump" "tap printed"
for rate in $rates; do
  listen recv dump -H 127.0.0.1 -p 0 --format json --timeout "$((secs + 4))s"
  sent=$("$flood" "${addr##*:}" "$rate" "$secs" | cut -d' ' -f1)
  wait "$pid"
  base="$(pct "$(count recv)" "$sent") of $sent"

  listen recv dump -H 127.0.0.1 -p 0 --format json --timeout "$((secs + 5))s"
  recv=$addr recv_pid=$pid
  listen tap tap 127.0.0.1:0 "$recv" --timeout "$((secs + 3))s"
  sent=$("$flood" "${addr##*:}" "$rate" "$secs" | cut -d' ' -f1)
  wait "$pid" "$recv_pid"
  through="$(pct "$(count recv)" "$sent") of $sent"
  printf '%-8s %-28s %-28s %s\n' "$rate" "$base" "$through" "$(pct "$(count tap)" "$sent") lost"
  grep -h 'to udp://\|dropped by the kernel' "$tmp/tap.err" | sed 's/^/         /' || true
done

echo
echo "== round trips at ${lrate}/s for ${secs}s: bench → dump --echo, straight and through tap"
lat() { python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"p50 {d['p50_us']:.1f}µs  p99 {d['p99_us']:.1f}µs  lost {d['loss_percent'] or 0:.3f}%\")"; }
listen echo dump -H 127.0.0.1 -p 0 --echo --format json
echo_addr=$addr echo_pid=$pid
listen tap tap 127.0.0.1:0 "$echo_addr"
tap_addr=$addr tap_pid=$pid
for round in 1 2; do
  printf 'straight   %s\n' "$("$bin" bench "$echo_addr" --rate "$lrate" --duration "${secs}s" --json | lat)"
  printf 'through tap %s\n' "$("$bin" bench "$tap_addr" --rate "$lrate" --duration "${secs}s" --json | lat)"
done
kill -TERM "$tap_pid" "$echo_pid"
wait "$tap_pid" "$echo_pid" || true
