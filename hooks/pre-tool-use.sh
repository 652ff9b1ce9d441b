# claudemesh's guard before Claude Code's file edits (PreToolUse on Edit, Write, MultiEdit and
# NotebookEdit). `claudemesh install` runs it as `exec <bash> <this file> <the claudemesh command>`.
# It asks the running daemon on its guard port (protocol in peer/daemon/guard-port.ts) and prints
# the daemon's answer for Claude Code: for a file another session holds, permissionDecision "ask"
# (or "deny"); for anything else, nothing. Bash, not Node, because a Node process alone takes
# about as long to start as the guard may take. It never stops an edit by failing: every path
# exits 0, and when the daemon cannot answer it passes and says why on stderr. When the guard port
# does not answer (an older daemon, a stale port) but the daemon's socket is there, it hands the
# tool call to `<the claudemesh command> hook PreToolUse`, which asks over the socket.
set +o posix 2>/dev/null # (POSIXLY_CORRECT) a failed redirection would end the script, not fail
export LC_ALL=C # ${#input} counts bytes
home=${CLAUDEMESH_HOME:-$HOME/.claudemesh}
limit=8388608
fallback=("$@")

pass () {
  printf 'claudemesh hook: %s, so claims were not checked; the edit goes ahead\n' "$1" >&2
  exit 0
}
# the guard port did not answer ($1 says how): ask through the Node hook if the daemon runs
by_node () {
  exec 3<&-
  [ -S "$home/daemon.sock" ] || pass "the daemon is not running ($1)"
  [ ${#fallback[@]} -gt 0 ] || pass "$1"
  if [ -n "$CLAUDEMESH_DEBUG" ] && [ "$CLAUDEMESH_DEBUG" != 0 ]; then
    printf 'claudemesh hook: %s; asking through the Node hook\n' "$1" >&2
  fi
  printf '%s' "$input" | "${fallback[@]}" hook PreToolUse
  exit 0
}

input=''
if [ -t 0 ]; then : # a terminal is a person trying it, not Claude Code
elif command -v head >/dev/null; then
  input=$(head -c $((limit + 1)); printf x) # the x keeps trailing newlines, so the length is true
  input=${input%x}
else IFS= read -r -d '' input # no head on PATH: bash alone, a byte at a time
fi
[ -n "$input" ] || exit 0 # no tool call, nothing to check
[ ${#input} -gt $limit ] && pass 'the tool call is over 8 MiB'
if ! { IFS=' ' read -r version port daemon_token hook_token < "$home/guard"; } 2>/dev/null || [ "$version" != 2 ]; then
  [ -S "$home/daemon.sock" ] || pass 'the daemon is not running'
  by_node 'the daemon has no guard port'
fi

trap '' PIPE
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || by_node "nothing answers on the guard port $port"
# the hook's token first: the daemon says nothing to a connection without it
printf '%s %s %s\n' "$hook_token" "$PPID" "${#input}" >&3 2>/dev/null || by_node "the guard port $port closed"
IFS=' ' read -r -t 1 magic protocol token <&3 || by_node "the guard port $port did not answer within 1 s"
# the tool call only to the port that answered with the daemon's token, in one write
[ "$magic $protocol $token" = "claudemesh-guard 2 $daemon_token" ] || by_node "127.0.0.1:$port is not this daemon's guard port"
printf '%s' "$input" >&3 2>/dev/null || by_node "the guard port $port closed"
IFS= read -r -t 1 out <&3 || pass 'the daemon did not answer within 1 s'
IFS= read -r -t 1 err <&3
exec 3<&-
[ -n "$out" ] && printf '%s\n' "$out"
[ -n "$err" ] && printf '%s\n' "$err" >&2
exit 0
