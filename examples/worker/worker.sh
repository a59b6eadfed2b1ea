#!/usr/bin/env bash
# A demo publisher for redis-push-daemon: advances one task from 0 to 100 %
# in steps, the way a real worker reports progress:
#   SET RA_D_<id> {"status":"running","progress":N}
#   PUBLISH RA_SC_<id> {"status":"update"}
# and at the end
#   SET RA_D_<id> {"status":"done","progress":100,...}
#   PUBLISH RA_SC_<id> {"status":"done"}
#
# Usage: worker.sh [options] TASK_ID
#   -h HOST     Redis host (default 127.0.0.1)
#   -p PORT     Redis port (default 6379)
#   -s SOCKET   Redis unix socket (wins over host/port)
#   -a PASS     Redis password (or REDISCLI_AUTH in the environment)
#   -n DB       Redis database number (default 0)
#   -P PREFIX   key/channel prefix (default RA_)
#   -d SECONDS  delay between steps (default 1; fractions allowed)
#   -k STEP     percent per step (default 10)
#   -e SECONDS  expiry of the final data key (default none)
set -euo pipefail

host=127.0.0.1 port=6379 socket="" db=0 prefix=RA_ delay=1 step=10 expire=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&$(( ${1:-0} ? 2 : 1 )); exit "${1:-0}"; }
[ "${1:-}" = --help ] && usage 0
while getopts "h:p:s:a:n:P:d:k:e:" opt; do
    case $opt in
        h) host=$OPTARG ;;
        p) port=$OPTARG ;;
        s) socket=$OPTARG ;;
        a) export REDISCLI_AUTH=$OPTARG ;;
        n) db=$OPTARG ;;
        P) prefix=$OPTARG ;;
        d) delay=$OPTARG ;;
        k) step=$OPTARG ;;
        e) expire=$OPTARG ;;
        *) usage 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage 2
id=$1
[[ $id =~ ^[A-Za-z0-9_]+$ ]] || { echo "worker.sh: invalid task id: $id" >&2; exit 2; }
[[ $step =~ ^[0-9]+$ && $step -ge 1 ]] || { echo "worker.sh: -k needs a positive integer" >&2; exit 2; }

cli=(redis-cli -n "$db")
if [ -n "$socket" ]; then cli+=(-s "$socket"); else cli+=(-h "$host" -p "$port"); fi
key="${prefix}D_$id" channel="${prefix}SC_$id"

# SET first, then PUBLISH: a watch woken by the message reads the key.
publish() { # publish STATUS DATA_JSON [SET options...]
    local status=$1 data=$2
    shift 2
    "${cli[@]}" SET "$key" "$data" "$@" >/dev/null
    "${cli[@]}" PUBLISH "$channel" "{\"status\":\"$status\"}" >/dev/null
}

progress=0
while [ "$progress" -lt 100 ]; do
    publish update "{\"status\":\"running\",\"progress\":$progress}"
    echo "task $id: $progress %"
    sleep "$delay"
    progress=$((progress + step))
done
extra=()
[ -n "$expire" ] && extra=(EX "$expire")
publish done "{\"status\":\"done\",\"progress\":100,\"finished_at\":\"$(date -u +%FT%TZ)\"}" "${extra[@]}"
echo "task $id: done"
