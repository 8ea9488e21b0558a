#!/usr/bin/env bash
# Loopback throughput of oscli, each number next to a baseline measured in
# the same run (these machines are noisy; compare ratios, not absolutes).
#
#   bench/throughput.sh [SECONDS] [OLD_OSCLI]
#   RATES="300000 400000" bench/throughput.sh 5 /tmp/oscli-before
#
# 1. dump: bench/flood (an independent sendmmsg sender sharing no code with
#    oscli) floods a dump printing text or JSON into a pipe with 20-byte
#    messages at R/s; loss = 1 - dump's count / flood's sent. The baseline
#    is `oscli bench --rate R` against its own in-process plain-socket
#    receiver. With OLD_OSCLI (a binary built from an earlier commit), its
#    dump is measured in the same run, flooded the same way: before/after.
# 2. senders with batching on (--batch 64) and off (--batch 1): bench
#    --rate 0, send - from stdin, replay --no-timing.
# 3. codec, matcher and renderer ns/op and allocs/op (go test -bench).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
old=${2:-}
rates=${RATES:-50000 100000 200000 300000 400000}
bin=$(mktemp -d)/oscli
go build -o "$bin" .
flood=$(dirname "$bin")/flood
go build -o "$flood" ./bench/flood
port=$((20000 + RANDOM % 20000))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$(dirname "$bin")"' EXIT

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# dumploss BINARY FORMAT RATE: a dump of BINARY printing FORMAT into a
# pipe, flooded by this tree's bench at RATE; prints "loss% of sent".
dumploss() {
  "$1" dump -H 127.0.0.1 -p "$port" --format "$2" --ready-file "$tmp/ready" --timeout "$((secs + 3))s" \
    2>"$tmp/dump.err" | cat >/dev/null &
  while [ ! -s "$tmp/ready" ]; do sleep 0.05; done
  local sent got
  sent=$("$flood" "$port" "$3" "$secs" | cut -d' ' -f1)
  wait
  rm -f "$tmp/ready"
  got=$(sed -n 's/^oscli: \(stopped by [^:]*: \)\{0,1\}\([0-9]*\) packets.*/\2/p' "$tmp/dump.err")
  python3 -c "print(f'{100*(1-$got/$sent):.3f}% of $sent')"
}

echo "== dump loss at fixed rates (${secs}s each; 20-byte messages from bench/flood)"
header=(rate baseline "text | pipe" "json | pipe")
[ -n "$old" ] && header+=("old text" "old json")
header+=("liblo oscdump")
printf '%-8s %-20s %-20s %-20s' "${header[@]:0:4}"
[ -n "$old" ] && printf ' %-20s %-20s' "${header[4]}" "${header[5]}"
printf ' %s\n' "liblo oscdump | pipe"
for rate in $rates; do
  base=$("$bin" bench --rate "$rate" --duration "${secs}s" --json | json "'%.3f%% of %d' % (d['loss_percent'], d['sent'])")
  row=("$(dumploss "$bin" text "$rate")" "$(dumploss "$bin" json "$rate")")
  if [ -n "$old" ]; then
    row+=("$(dumploss "$old" text "$rate")" "$(dumploss "$old" json "$rate")")
  fi
  liblo="(not installed)"
  if command -v oscdump >/dev/null; then
    timeout "$((secs + 3))" oscdump -L "$port" >"$tmp/oscdump.out" 2>/dev/null &
    # Ready when oscdump prints a probe message.
    for _ in $(seq 100); do
      "$bin" send "$port" /ready 2>/dev/null
      [ -s "$tmp/oscdump.out" ] && break
      sleep 0.05
    done
    sent=$("$flood" "$port" "$rate" "$secs" | cut -d' ' -f1)
    wait
    got=$(grep -c ' /1/fader ' "$tmp/oscdump.out" || true)
    liblo=$(python3 -c "print(f'{100*(1-$got/$sent):.3f}% of $sent')")
  fi
  printf '%-8s %-20s' "$rate" "$base"
  for c in "${row[@]}"; do printf ' %-20s' "$c"; done
  printf ' %s\n' "$liblo"
done

echo
echo "== senders, msgs/s with batching off (--batch 1) and on (--batch 64)"
python3 - "$tmp" <<'PY'
import base64, sys
pkt = b"/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"
d = sys.argv[1]
open(d + "/lines.txt", "w").write("/1/fader f:0.5\n" * 500000)
open(d + "/rec.slip", "wb").write((b"\xc0" + pkt + b"\xc0") * 500000)
PY
for b in 1 64; do
  bench=$("$bin" bench --duration "${secs}s" --batch "$b" --json | json "round(d['sent_per_sec'])")
  start=$(date +%s.%N)
  "$bin" send "$port" --batch "$b" - <"$tmp/lines.txt"
  send=$(python3 -c "print(round(500000/($(date +%s.%N)-$start)))")
  replay=$("$bin" replay --no-timing --batch "$b" "$tmp/rec.slip" "$port" 2>&1 |
    sed -n 's/.*replayed \([0-9]*\) packets.* in \(.*\)$/\1 \2/p' |
    python3 -c "import sys,re; n,t=sys.stdin.read().split(); s=float(re.sub('[a-z]','',t))/(1000 if t.endswith('ms') else 1); print(round(int(n)/s))")
  echo "batch $b: bench --rate 0 $bench   send - $send   replay --no-timing $replay"
done

echo
echo "== codec, matcher, renderers"
go test -run '^$' -bench 'Encode|Decode|Match|Render' -benchmem ./internal/osc ./internal/match ./internal/format |
  grep -E '^Benchmark'
