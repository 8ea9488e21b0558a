#!/usr/bin/env bash
# oscli top under a flood, each figure next to dump's from the same run
# (these machines are noisy; compare within a run).
#
#   bench/top.sh [SECONDS] [RATE] [ADDRESSES]
#
# 1. Loss: bench/flood sends RATE 20-byte messages a second for SECONDS
#    (RATE 300000 by default); loss = 1 - the receiver's count / flood's
#    sent. Receivers: dump printing text into a pipe, top printing a
#    snapshot a second into a pipe, and top's full screen in a tmux pane
#    (when tmux is installed).
# 2. Memory: the same flood going round ADDRESSES addresses (10000 by
#    default, top's --max-rows); peak RSS (VmHWM) of dump into a pipe and
#    of top (snapshots into a pipe, and full screen in tmux), read just
#    before they stop.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rate=${2:-300000}
addrs=${3:-10000}
dir=$(mktemp -d)
trap 'tmux -S "$dir/tmux.sock" kill-server 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/oscli" .
go build -o "$dir/flood" ./bench/flood
port=$((20000 + RANDOM % 20000))

# run NAME ADDRS COMMAND...: starts the receiver (COMMAND, which writes
# its summary to $dir/err and its pid to $dir/pid), floods it, reads its
# peak RSS while it still runs, waits for it, prints "loss% of sent, RSS".
run() {
  local name=$1 n=$2
  shift 2
  rm -f "$dir/ready" "$dir/err" "$dir/pid"
  "$@"
  while [ ! -s "$dir/ready" ] || [ ! -s "$dir/pid" ]; do sleep 0.05; done
  local sent pid rss got
  pid=$(cat "$dir/pid")
  if [ "$n" -gt 0 ]; then
    sent=$("$dir/flood" "$port" "$rate" "$secs" "$n" | cut -d' ' -f1)
  else
    sent=$("$dir/flood" "$port" "$rate" "$secs" | cut -d' ' -f1)
  fi
  rss=$(awk '/^VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$pid/status")
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  while ! grep -q 'packets' "$dir/err" 2>/dev/null; do sleep 0.05; done
  got=$(sed -n 's/^oscli: stopped by [^:]*: \([0-9]*\) packets.*/\1/p' "$dir/err")
  printf '%-28s %s\n' "$name" "$(python3 -c "print(f'{100*(1-$got/$sent):.3f}% of $sent lost, peak RSS $rss')")"
}

listen=(-H 127.0.0.1 -p "$port" --ready-file "$dir/ready" --timeout "$((secs + 3))s")
dump() { sh -c 'echo $$ > "$1/pid"; shift; exec "$@"' sh "$dir" "$dir/oscli" dump "${listen[@]}" 2>"$dir/err" | cat >/dev/null & }
topPipe() { sh -c 'echo $$ > "$1/pid"; shift; exec "$@"' sh "$dir" "$dir/oscli" top --interval 1s "${listen[@]}" 2>"$dir/err" | cat >/dev/null & }
topScreen() {
  printf '#!/bin/sh\necho $$ > %q/pid\nexec %q top %s 2>%q/err\n' "$dir" "$dir/oscli" "${listen[*]}" "$dir" >"$dir/screen.sh"
  chmod +x "$dir/screen.sh"
  tmux -S "$dir/tmux.sock" -f /dev/null new-session -d -x 160 -y 50 "$dir/screen.sh"
}

echo "== ${secs}s at ${rate}/s, 20-byte messages from bench/flood"
for n in 0 "$addrs"; do
  [ "$n" -gt 0 ] && echo "-- round $n addresses"
  [ "$n" -eq 0 ] && echo "-- one address (/1/fader)"
  run "dump text | pipe" "$n" dump
  run "top --interval 1s | pipe" "$n" topPipe
  if command -v tmux >/dev/null; then
    run "top, full screen in tmux" "$n" topScreen
  fi
done
