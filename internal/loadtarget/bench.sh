#!/bin/sh
# Runs wrk against loadtarget without and with the middleware (JSON to
# io.Discard, and the real sidelog handler and store), alternating
# ROUNDS times so that both see the same machine load, and prints the
# median latency, requests/s and the server's CPU time per request (it
# includes the sidelog writer goroutine's SQLite work) of each run.
#   sh internal/loadtarget/bench.sh            (ROUNDS=3 DURATION=10s CONNS=1 MWS="none discard sidelog")
set -eu
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10s} CONNS=${CONNS:-1} THREADS=${THREADS:-1}
MWS=${MWS:-none discard sidelog}
BIN=$(mktemp -d)/loadtarget
go build -o "$BIN" ./internal/loadtarget
for round in $(seq "$ROUNDS"); do
	for mw in $MWS; do
		"$BIN" -mw="$mw" -addr 127.0.0.1:8099 2>/dev/null &
		pid=$!
		until wrk -t1 -c1 -d1s http://127.0.0.1:8099/ >/dev/null 2>&1; do sleep 0.2; done # up and warm
		cpu0=$(awk '{print $14+$15}' /proc/$pid/stat)
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency http://127.0.0.1:8099/)
		cpu1=$(awk '{print $14+$15}' /proc/$pid/stat)
		kill -TERM "$pid"; wait "$pid" || true
		reqs=$(echo "$out" | awk '$2=="requests"{print $1}')
		cpu=$(awk -v t=$((cpu1 - cpu0)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1fus", t/hz*1e6/n}')
		p50=$(echo "$out" | awk '$1=="50%"{print $2}')
		p99=$(echo "$out" | awk '$1=="99%"{print $2}')
		rps=$(echo "$out" | awk '$1=="Requests/sec:"{print $2}')
		echo "round=$round mw=$mw p50=$p50 p99=$p99 rps=$rps server_cpu_per_req=$cpu"
	done
done
