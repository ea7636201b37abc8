#!/bin/bash
# Adapter: holdline, for the peer benchmark harness (peers-bench, kept outside this repository).
# Each workload is a scenario file a user would write plus one `holdline run` command.
# Adapter contract: holdline.sh ACTION WORKLOAD OUTDIR
#   prepare  unmeasured: write the workload's scenario file into OUTDIR
#   run      measured: `holdline run` against $URL (the harness's echo server); exits when done
#   parse    one JSON object from holdline's result file:
#            opened, failed, sent, recv, p50_ms, p99_ms, max_ms, mean_ms, note (+ held, closed, unanswered)
#   version  holdline and node versions
# Every number comes from $PEERS_HOME/workloads.env (the harness exports PEERS_HOME, URL).
# From the repository root, after `npx tsc -p .`:
#   PEERS_RESULTS=$PWD/bench/peers/results ../shared/peers-bench/run.sh bench/peers/holdline.sh W1 3
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
: "${PEERS_HOME:?run through the harness: peers-bench/run.sh bench/peers/holdline.sh W1}"
source "$PEERS_HOME/workloads.env"
ACTION=$1 W=${2:-} OUT=${3:-}
BIN="$ROOT/bin/holdline.js"
rep() { printf "%${2}s" | tr ' ' "$1"; }

scenario() {
  case "$W" in
    # W1 hold: a 16-byte message at 0, 10 and 20 s after each open; each session closes 30 s after its open.
    W1) cat <<YAML
name: W1 hold
connect: { url: "{{wsUrl}}" }
session:
  duration: ${W1_HOLD_S}s
  messages: { send: "$(rep h "$W1_HB_BYTES")", every: ${W1_HB_INTERVAL_S}s, count: $W1_HB_COUNT }
YAML
      ;;
    # W2 echo: closed loop, send 64 bytes and wait for the echo, 5,000 times; ends after the last one.
    W2) cat <<YAML
name: W2 echo
connect: { url: "{{wsUrl}}" }
session:
  messages: { send: "$(rep x "$W2_BYTES")", await: reply, count: $W2_ROUNDS }
YAML
      ;;
    # W3 rate: a 5,000-char message every 2 s, 30 times, from each open; closes 60 s after its open.
    W3) cat <<YAML
name: W3 rate
connect: { url: "{{wsUrl}}" }
session:
  duration: $((W3_COUNT * W3_INTERVAL_S))s
  messages: { send: "$(rep x "$W3_BYTES")", every: ${W3_INTERVAL_S}s, count: $W3_COUNT }
YAML
      ;;
    *) echo "unknown workload $W" >&2; exit 2 ;;
  esac
}

case "$ACTION" in
  version) echo "holdline $(node "$BIN" --version), node $(node --version)" ;;
  prepare) scenario >"$OUT/scenario.yaml" ;;
  run)
    common=(--scenario "$OUT/scenario.yaml" --no-progress --out "$OUT/holdline")
    case "$W" in
      W1) exec node "$BIN" run "$URL" --sessions "$W1_CONNS" --connect-rate "$W1_CONNECT_RATE" "${common[@]}" ;;
      W2) exec node "$BIN" run "$URL" --sessions "$W2_CONNS" --connect-concurrency "$W2_CONNS" "${common[@]}" ;;
      W3) exec node "$BIN" run "$URL" --sessions "$W3_CONNS" --connect-rate "$W3_CONNECT_RATE" "${common[@]}" ;;
    esac ;;
  parse)
    exec node --input-type=module -e '
      import { readdirSync, readFileSync } from "node:fs";
      const dir = process.argv[1];
      const file = readdirSync(dir).find((f) => f.startsWith("run-") && f.endsWith(".json"));
      const r = JSON.parse(readFileSync(`${dir}/${file}`, "utf8"));
      const s = r.steps[0], c = s.counters, m = s.phases.message ?? {};
      const fails = Object.entries(s.failures).map(([k, n]) => `${k} ${n}`).join(", ");
      console.log(JSON.stringify({
        opened: s.established, failed: s.failed, sent: c.msgsSent, recv: c.msgsRecv,
        p50_ms: m.p50 ?? null, p99_ms: m.p99 ?? null, max_ms: m.max ?? null, mean_ms: m.mean ?? null,
        held: s.successful, closed: s.phases.close?.count ?? 0, unanswered: c.msgsUnanswered ?? 0,
        replies: m.count ?? 0, exit: r.exitCode,
        note: `HDR latency from the intended send time (or the write, if earlier); saturated=${s.generator.saturated}` + (fails ? `; failures: ${fails}` : ""),
      }));
    ' "$OUT/holdline" ;;
  *) echo "usage: holdline.sh prepare|run|parse|version W OUT" >&2; exit 2 ;;
esac
