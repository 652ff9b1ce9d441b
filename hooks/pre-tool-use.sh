# claudemesh's guard before Claude Code's file edits (PreToolUse on Edit, Write, MultiEdit and
# NotebookEdit). `claudemesh install` runs it as `exec bash <this file> <the claudemesh command>`.
# It asks the running daemon on its guard port (protocol in peer/daemon/guard-port.ts) and prints
# the daemon's answer for Claude Code: for a file another session holds, permissionDecision "ask"
# (or "deny"); for anything else, nothing. Bash, not Node, because a Node process alone takes
# about as long to start as the guard may take. It never stops an edit by failing: every path
# exits 0, and when the daemon cannot answer it passes and says why on stderr. With no guard port
# but a daemon socket (an older daemon), it hands over to `<the claudemesh command> hook PreToolUse`.
home=${CLAUDEMESH_HOME:-$HOME/.claudemesh}
limit=8388608
pass () {
  printf 'claudemesh hook: %s, so claims were not checked; the edit goes ahead\n' "$1" >&2
  exit 0
}

if ! { IFS=' ' read -r version port daemon_token hook_token < "$home/guard"; } 2>/dev/null || [ "$version" != 1 ]; then
  if [ -S "$home/daemon.sock" ] && [ $# -gt 0 ]; then exec "$@" hook PreToolUse; fi
  pass 'the daemon is not running'
fi

export LC_ALL=C # ${#input} counts bytes
input=''
if [ -t 0 ]; then : # a terminal is a person trying it, not Claude Code
elif command -v head >/dev/null; then input=$(head -c $((limit + 1)))
else IFS= read -r -d '' input # no head on PATH: bash alone, a byte at a time
fi
[ ${#input} -gt $limit ] && pass 'the tool call is over 8 MiB'
trap '' PIPE
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || pass "the daemon is not running (nothing answers on its guard port $port)"
# the daemon speaks first, with the secret only it and this user can read: nothing goes to a stranger
IFS=' ' read -r -t 1 magic protocol token <&3
[ "$magic $protocol $token" = "claudemesh-guard 1 $daemon_token" ] || pass "127.0.0.1:$port is not this daemon's guard port"
printf '%s %s %s\n%s' "$hook_token" "$PPID" "${#input}" "$input" >&3 2>/dev/null || pass 'the daemon closed its guard port'
IFS= read -r -t 1 out <&3 || pass 'the daemon did not answer within 1 s'
IFS= read -r -t 1 err <&3
exec 3<&-
[ -n "$out" ] && printf '%s\n' "$out"
[ -n "$err" ] && printf '%s\n' "$err" >&2
exit 0
