# Sourced by scripts/control-plane and scripts/keystone: the test services they run as plain background
# processes (no systemd here), one pid file and log per service under $state, started and stopped the same
# way. The sourcing script sets set_name (for messages and the lock), state, run, log, timeout and the
# services array, and defines is_up NAME and start; then it calls services_main "$@".

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

running() { [[ -s "$run/$1.pid" ]] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

# Each service in a session of its own, so that stop ends it and the workers it forked as one process group.
launch() {
  local name=$1; shift
  running "$name" && return
  say "starting $name"
  # Not holding the lock's descriptor (9), which would keep the lock taken for as long as the service runs.
  setsid "$@" >>"$log/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$run/$name.pid"
}

wait_up() {
  local deadline=$((SECONDS + timeout)) name
  for name in "$@"; do
    until is_up "$name"; do
      running "$name" || fail "$name exited (see $log/$name.log)"
      (( SECONDS < deadline )) || fail "$name did not come up within ${timeout}s (see $log/$name.log)"
      sleep 0.2
    done
  done
}

# TERM to every service's process group at once (oslo.service and gunicorn shut down gracefully on it), KILL
# to what is left after 10 s. Every service, or only those named.
stop() {
  local name pids=()
  for name in "${@:-${services[@]}}"; do
    [[ " ${services[*]} " == *" $name "* ]] || fail "no service $name (services: ${services[*]})"
    if running "$name"; then
      say "stopping $name"
      pids+=("$(cat "$run/$name.pid")")
      kill -TERM -- "-${pids[-1]}" 2>/dev/null || true
    fi
  done
  local deadline=$((SECONDS + 10)) pid
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  for name in "${@:-${services[@]}}"; do rm -f "$run/$name.pid"; done
}

status() {
  local name down=0
  for name in "${services[@]}"; do
    if is_up "$name"; then echo "$name: up"; else echo "$name: down"; down=1; fi
  done
  return "$down"
}

# One start or stop at a time (test files may start the services concurrently).
exclusively() {
  mkdir -p "$state"
  exec 9>"$state/$set_name.lock"
  flock -w "$timeout" 9 || fail "another start or stop has held $state/$set_name.lock for ${timeout}s"
  "$@"
}

services_main() {
  case ${1:-} in
    start) exclusively start ;;
    stop) shift; exclusively stop "$@" ;;
    status) status ;;
    *) echo "usage: $0 start|stop [SERVICE...]|status" >&2; exit 2 ;;
  esac
}
