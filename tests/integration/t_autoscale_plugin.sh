#!/bin/bash
# The autoscaler's plugin host (src/autoscale/) driven through
# `crunner fleeting-probe`: a go-plugin fleeting plugin over gRPC (the
# Python fake of tests/autoscale/fakeplugin.py, Debian python3-grpcio), a
# JSON-lines plugin, the built-in static provider and plugin lookup.
. "$(dirname "$0")/lib.sh"

FAKE=$CR_SOURCE_DIR/tests/autoscale/fakeplugin.py
JSONL=$CR_SOURCE_DIR/tests/autoscale/jsonl_plugin.py
export TMPDIR=$T_DIR

# probe NAME ARGS...: runs fleeting-probe; output in $T_DIR/NAME.out/.err,
# exit status in PROBE_RC.
probe() {
	local name=$1
	shift
	PROBE_RC=0
	timeout 60 "$CRUNNER" fleeting-probe "$@" >"$T_DIR/$name.out" \
		2>"$T_DIR/$name.err" || PROBE_RC=$?
}

# calls FILE RPC: how many calls of RPC the fake logged.
calls() {
	grep -c "\"rpc\": \"$2\"" "$1" || true
}

# alive PID: the process still runs (a zombie waiting for its reaper, which
# may be slow to come once the parent is gone, counts as ended).
alive() {
	local i st
	for ((i = 0; i < 30; i++)); do
		st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
		case $st in Z*) return 1 ;; esac
		sleep 0.1
	done
	return 0
}

have_grpc=1
/usr/bin/python3 -c 'import grpc, google.protobuf.descriptor_pb2' 2>/dev/null || have_grpc=0

test_case "grpc plugin: handshake, environment, process group, health, stdio, calls"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module (Debian python3-grpcio)"
else
	printf 'PEM BYTES\n' >"$T_DIR/key"
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/g1.calls
	probe g1 --plugin "$FAKE" --username alice --key-path "$T_DIR/key" \
		--plugin-config "{\"state_file\":\"$T_DIR/g1.state\",\"max_size\":4}" \
		init increase 2 update update connect-info i-0001 heartbeat i-0001 \
		decrease i-0002 update update shutdown
	expect_eq 0 "$PROBE_RC" "probe exit status ($(cat "$T_DIR/g1.err"))"
	expect_contains "$T_DIR/g1.out" "plugin kind=grpc" "provider kind"
	expect_contains "$T_DIR/g1.out" "init id=fake/group max_size=4 version=0.1.0" "Init answer"
	expect_contains "$T_DIR/g1.out" "increase requested=2 succeeded=2" "Increase"
	expect_contains "$T_DIR/g1.out" "update 2: i-0001=creating i-0002=creating" "first Update"
	expect_contains "$T_DIR/g1.out" "update 2: i-0001=running i-0002=running" "second Update"
	expect_contains "$T_DIR/g1.out" "connect-info id=i-0001 internal=127.0.1.1:2222 external=127.0.2.1:2222 protocol=ssh port=2222 os=linux arch=amd64 user=alice password=unset key_bytes=10" "ConnectInfo"
	expect_contains "$T_DIR/g1.out" "heartbeat i-0001 ok" "Heartbeat"
	expect_contains "$T_DIR/g1.out" "decrease 1: i-0002=deleting" "Decrease"
	expect_contains "$T_DIR/g1.out" "update 2: i-0001=running i-0002=deleted" "Update after Decrease"
	expect_contains "$T_DIR/g1.out" "update 1: i-0001=running" "deleted instance gone"
	expect_contains "$T_DIR/g1.out" "shutdown ok" "Shutdown"
	# The plugin's own view: environment, process group, what it received.
	start=$(grep '"rpc": "start"' "$T_DIR/g1.calls")
	pid=$(echo "$start" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	echo "$start" | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["pgid"] == s["pid"] == s["sid"], s
e = s["env"]
assert e["FLEETING_PLUGIN_MAGIC_COOKIE"] == "crunner-interim-fleeting-cookie", e
assert e["PLUGIN_PROTOCOL_VERSIONS"] == "1", e
assert e["PLUGIN_MIN_PORT"] == "10000" and e["PLUGIN_MAX_PORT"] == "25000", e
assert e["PLUGIN_UNIX_SOCKET_DIR"].startswith(sys.argv[1] + "/crunner-plugin-"), e
assert "PLUGIN_CLIENT_CERT" not in e and "PLUGIN_MULTIPLEX_GRPC" not in e, e
' "$T_DIR" || fail "plugin environment or process group: $start"
	expect_contains "$T_DIR/g1.calls" '"rpc": "Health", "pid": '"$pid"', "request": "0a06706c7567696e"' "health check for service plugin"
	expect_eq 1 "$(calls "$T_DIR/g1.calls" StreamStdio)" "StreamStdio opened once"
	expect_contains "$T_DIR/g1.calls" "\"config\": \"{\\\"state_file\\\":\\\"$T_DIR/g1.state\\\",\\\"max_size\\\":4}\"" "Init carries plugin_config JSON as given"
	expect_contains "$T_DIR/g1.calls" '"key": "PEM BYTES\n", "username": "alice"' "Init carries Settings (key_path bytes, username)"
	# Teardown order: fleeting Shutdown, then go-plugin's controller.
	tail -n 2 "$T_DIR/g1.calls" | cut -d'"' -f4 | tr '\n' ' ' >"$T_DIR/g1.tail"
	expect_eq "Shutdown ControllerShutdown " "$(cat "$T_DIR/g1.tail")" "shutdown sequence"
	alive "$pid" && fail "plugin $pid still runs after shutdown"
	expect_contains "$T_DIR/g1.err" "plugin fakeplugin.py: fakeplugin stdout hello" "plugin stdio stream drained into the log"
	expect_contains "$T_DIR/g1.err" "fleeting schema: from the plugin's reflection (crunner.fleeting.interim.InstanceGroup)" "log says which schema"
	expect_contains "$T_DIR/g1.calls" '"rpc": "Reflection", "pid": '"$pid"', "request": {"7": "*"}' "reflection: list services"
	expect_contains "$T_DIR/g1.calls" '"request": {"4": "crunner.fleeting.interim.InstanceGroup"}' "reflection: the service's descriptors"
	expect_not_contains "$T_DIR/g1.err" "did not exit" "plugin exited on its own"
	[ -z "$(ls -d "$T_DIR"/crunner-plugin-* 2>/dev/null)" ] || fail "socket directory left behind"
fi

test_case "grpc plugin on a TCP address (go-plugin's Windows mode)"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module"
else
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/t1.calls
	FAKE_PLUGIN_NETWORK=tcp probe t1 --plugin "$FAKE" \
		--plugin-config "{\"state_file\":\"$T_DIR/t1.state\"}" init increase 1 update shutdown
	expect_eq 0 "$PROBE_RC" "probe exit status ($(cat "$T_DIR/t1.err"))"
	expect_contains "$T_DIR/t1.err" "go-plugin protocol, app version 1, tcp 127.0.0.1:" "tcp handshake"
	expect_contains "$T_DIR/t1.out" "update 1: i-0001=creating" "calls over tcp"
fi

test_case "gRPC reflection: a plugin with other field numbers and package works"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module"
else
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/r1.calls
	FAKE_PLUGIN_RENUMBER=100 FAKE_PLUGIN_PACKAGE=gitlab.fleeting.v9 \
	probe r1 --plugin "$FAKE" --username carol --key-path "$T_DIR/key" \
		--plugin-config "{\"state_file\":\"$T_DIR/r1.state\",\"max_size\":7}" \
		init increase 2 update connect-info i-0002 heartbeat i-0002 \
		decrease i-0001 update shutdown
	expect_eq 0 "$PROBE_RC" "probe exit status ($(cat "$T_DIR/r1.err"))"
	expect_contains "$T_DIR/r1.err" "fleeting schema: from the plugin's reflection (gitlab.fleeting.v9.InstanceGroup)" "schema source logged"
	expect_contains "$T_DIR/r1.out" "init id=fake/group max_size=7" "Init"
	expect_contains "$T_DIR/r1.out" "update 2: i-0001=creating i-0002=creating" "Update"
	expect_contains "$T_DIR/r1.out" "connect-info id=i-0002 internal=127.0.1.2:2222 external=127.0.2.2:2222 protocol=ssh port=2222 os=linux arch=amd64 user=carol password=unset key_bytes=10" "ConnectInfo"
	expect_contains "$T_DIR/r1.out" "decrease 1: i-0001=deleting" "Decrease"
	expect_contains "$T_DIR/r1.calls" '"key": "PEM BYTES\n", "username": "carol"' "Settings decoded by the plugin"
	expect_not_contains "$T_DIR/r1.err" "has no field for" "every field mapped"

	# Without reflection the same plugin is unreachable: the interim
	# schema's service does not exist there.
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/r2.calls
	FAKE_PLUGIN_REFLECTION=0 FAKE_PLUGIN_RENUMBER=100 FAKE_PLUGIN_PACKAGE=gitlab.fleeting.v9 \
	probe r2 --plugin "$FAKE" --plugin-config "{\"state_file\":\"$T_DIR/r2.state\"}" init shutdown
	expect_eq 1 "$PROBE_RC" "no reflection, other schema: fails"
	expect_contains "$T_DIR/r2.err" "fleeting schema: interim crunner schema (crunner.fleeting.interim.InstanceGroup, static field numbers) (the plugin offers no gRPC reflection)" "fallback logged"
	expect_contains "$T_DIR/r2.out" "init error: /crunner.fleeting.interim.InstanceGroup/Init: UNIMPLEMENTED" "interim path refused by the plugin"

	# Without reflection, a plugin of the interim schema still works.
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/r3.calls
	FAKE_PLUGIN_REFLECTION=0 probe r3 --plugin "$FAKE" \
		--plugin-config "{\"state_file\":\"$T_DIR/r3.state\"}" init increase 1 update shutdown
	expect_eq 0 "$PROBE_RC" "no reflection, interim schema ($(cat "$T_DIR/r3.err"))"
	expect_contains "$T_DIR/r3.out" "update 1: i-0001=creating" "Update"

	# A field the plugin's schema lacks is named in a warning.
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/r4.calls
	FAKE_PLUGIN_RENAME=Instance.state=status probe r4 --plugin "$FAKE" \
		--plugin-config "{\"state_file\":\"$T_DIR/r4.state\"}" init increase 1 update shutdown
	expect_contains "$T_DIR/r4.err" "its schema has no field for: state; those are neither sent nor read" "missing field warned"
	expect_contains "$T_DIR/r4.out" "update 1: i-0001=unknown" "state unread"
fi

test_case "grpc plugin crash: restarted, Init sent again, instances re-learned"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module"
else
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/g2.calls
	# Call 4 (the second Update) kills the plugin before it answers.
	probe g2 --plugin "$FAKE" \
		--plugin-config "{\"state_file\":\"$T_DIR/g2.state\",\"crash_on_call\":4}" \
		init increase 2 update update update shutdown
	expect_eq 0 "$PROBE_RC" "probe exit status ($(cat "$T_DIR/g2.err"))"
	expect_contains "$T_DIR/g2.calls" '"rpc": "crash"' "the plugin crashed"
	expect_contains "$T_DIR/g2.out" "plugin restarted count=1" "restart reported"
	expect_eq 2 "$(calls "$T_DIR/g2.calls" Init)" "Init sent to the new process"
	expect_eq 2 "$(calls "$T_DIR/g2.calls" start)" "two plugin processes"
	expect_eq 2 "$(grep -c 'update 2: i-0001=running i-0002=running' "$T_DIR/g2.out")" "instances re-learned after the crash"
	expect_contains "$T_DIR/g2.err" "died during /crunner.fleeting.interim.InstanceGroup/Update" "crash logged"
	expect_eq 1 "$(calls "$T_DIR/g2.calls" Increase)" "Increase not repeated"
fi

test_case "grpc plugin writing much to stdout: drained into the log, calls go on"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module"
else
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/g5.calls
	probe g5 --plugin "$FAKE" --call-timeout-ms 20000 \
		--plugin-config "{\"state_file\":\"$T_DIR/g5.state\",\"stdout_spam_kb\":512}" \
		init increase 1 update shutdown
	expect_eq 0 "$PROBE_RC" "probe exit status ($(tail -c 600 "$T_DIR/g5.err"))"
	expect_contains "$T_DIR/g5.out" "update 1: i-0001=creating" "calls after the output"
	expect_contains "$T_DIR/g5.err" "plugin fakeplugin.py: spam done" "the last line reached the log"
	[ "$(grep -c 'plugin fakeplugin.py: spam spam' "$T_DIR/g5.err")" -ge 5000 ] ||
		fail "spam lines missing from the log"
fi

test_case "grpc plugin that ignores shutdown: its process group is killed after the grace period"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module"
else
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/g3.calls
	probe g3 --plugin "$FAKE" --grace-ms 500 \
		--plugin-config "{\"state_file\":\"$T_DIR/g3.state\",\"ignore_shutdown\":true,\"spawn_child\":true}" \
		init shutdown
	expect_eq 0 "$PROBE_RC" "probe exit status ($(cat "$T_DIR/g3.err"))"
	pid=$(sed -n 's/^plugin kind=grpc pid=//p' "$T_DIR/g3.out")
	child=$(sed -n 's/.*"child_pid": \([0-9]*\).*/\1/p' "$T_DIR/g3.calls")
	[ -n "$child" ] || fail "the fake did not start its child"
	expect_contains "$T_DIR/g3.calls" '"rpc": "ControllerShutdown"' "controller shutdown sent"
	expect_contains "$T_DIR/g3.err" "did not exit within 500 ms; killing its process group" "kill logged"
	alive "$pid" && fail "plugin $pid survived"
	alive "$child" && fail "plugin's child $child survived the group kill"
fi

test_case "grpc plugin without Heartbeat: unsupported, not unhealthy"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module"
else
	export FAKE_PLUGIN_CALLS_LOG=$T_DIR/g4.calls
	probe g4 --plugin "$FAKE" \
		--plugin-config "{\"state_file\":\"$T_DIR/g4.state\",\"heartbeat_unimplemented\":true}" \
		init increase 1 heartbeat i-0001 connect-info i-0099 shutdown
	expect_contains "$T_DIR/g4.out" "heartbeat i-0001 unsupported" "UNIMPLEMENTED heartbeat"
	expect_contains "$T_DIR/g4.out" "connect-info error: /crunner.fleeting.interim.InstanceGroup/ConnectInfo: UNKNOWN: 'no instance i-0099'" "plugin error with grpc-message"
	expect_eq 1 "$PROBE_RC" "a failed step fails the probe"
fi

test_case "bad handshakes: clear errors, nothing left running"
if [ $have_grpc = 0 ]; then
	skip_case "/usr/bin/python3 has no grpc module"
else
	check_bad() { # mode expected-text
		export FAKE_PLUGIN_CALLS_LOG=$T_DIR/bad-$1.calls
		FAKE_PLUGIN_HANDSHAKE=$1 probe "bad-$1" --plugin "$FAKE" \
			--start-timeout-ms 3000 init
		expect_eq 1 "$PROBE_RC" "handshake $1: exit status"
		expect_contains "$T_DIR/bad-$1.err" "$2" "handshake $1: error"
		expect_not_contains "$T_DIR/bad-$1.out" "init id=" "handshake $1: no Init"
		local p
		p=$(sed -n 's/^{"rpc": "exec", "pid": \([0-9]*\).*/\1/p' "$T_DIR/bad-$1.calls")
		[ -n "$p" ] || fail "handshake $1: the fake did not run"
		alive "$p" && fail "handshake $1: plugin $p still runs"
		return 0
	}
	check_bad core2 "plugin speaks go-plugin core protocol '2', crunner speaks 1"
	check_bad netrpc "plugin speaks go-plugin protocol 'netrpc'; only grpc is supported"
	check_bad garbage "plugin handshake line has 1 fields, want at least 4"
	check_bad silent-exit "closed its output before the handshake line; plugin stderr: fake plugin giving up before the handshake"
	check_bad sleep "wrote no handshake line within 3000 ms"
	CRUNNER_FLEETING_MAGIC_COOKIE=WRONG=cookie probe bad-cookie --plugin "$FAKE" init
	expect_eq 1 "$PROBE_RC" "wrong cookie: exit status"
	expect_contains "$T_DIR/bad-cookie.err" "plugin stderr: This binary is a plugin" "wrong cookie: the plugin's own words"
fi

test_case "JSON-lines plugin: calls, crash and restart, unimplemented heartbeat"
export FAKE_PLUGIN_CALLS_LOG=$T_DIR/j1.calls
probe j1 --plugin "$JSONL" --username bob \
	--plugin-config "{\"state_file\":\"$T_DIR/j1.state\",\"crash_on_call\":4,\"heartbeat_unimplemented\":true}" \
	init increase 2 update update update connect-info vm-1 heartbeat vm-1 \
	decrease vm-2 update shutdown
expect_eq 0 "$PROBE_RC" "probe exit status ($(cat "$T_DIR/j1.err"))"
expect_contains "$T_DIR/j1.out" "plugin kind=jsonl" "provider kind"
expect_contains "$T_DIR/j1.out" "init id=jsonl/group max_size=3 version=1.0" "init"
expect_contains "$T_DIR/j1.out" "update 2: vm-1=creating vm-2=creating" "update"
expect_contains "$T_DIR/j1.out" "plugin restarted count=1" "restart after the crash"
expect_eq 2 "$(grep -c 'update 2: vm-1=running vm-2=running' "$T_DIR/j1.out")" "instances re-learned"
expect_contains "$T_DIR/j1.out" "connect-info id=vm-1 internal=10.0.0.1 external= protocol=ssh port=0 os=linux arch=arm64 user=runner password=set" "connect_info"
expect_contains "$T_DIR/j1.out" "heartbeat vm-1 unsupported" "heartbeat"
expect_contains "$T_DIR/j1.out" "decrease 1: vm-2=deleting" "decrease"
expect_contains "$T_DIR/j1.out" "update 2: vm-1=running vm-2=deleted" "update after decrease"
expect_contains "$T_DIR/j1.err" "plugin jsonl_plugin.py: jsonl plugin ready" "stderr in the log"
expect_contains "$T_DIR/j1.calls" '"settings": {"username": "bob"' "settings sent with init"
expect_eq 2 "$(grep -c '"rpc": "init", "pid": [0-9]*, "config"' "$T_DIR/j1.calls")" "init again after restart"
expect_contains "$T_DIR/j1.calls" '"rpc": "shutdown"' "shutdown sent"

test_case "a plugin that keeps crashing is restarted with a back-off"
export FAKE_PLUGIN_CALLS_LOG=$T_DIR/j2.calls
# Every process dies on its second call (the first is init).
probe j2 --plugin "$JSONL" \
	--plugin-config "{\"state_file\":\"$T_DIR/j2.state\",\"crash_every_call\":2}" \
	init update update sleep 2500 update
expect_eq 1 "$PROBE_RC" "exit status"
expect_contains "$T_DIR/j2.out" "plugin restarted count=1" "first restart at once"
expect_contains "$T_DIR/j2.out" "update error: plugin $JSONL crashed; it is started again in" "second one waits"
expect_contains "$T_DIR/j2.out" "plugin restarted count=2" "after the back-off"
expect_eq 3 "$(grep -c '"rpc": "crash"' "$T_DIR/j2.calls")" "three processes crashed"

test_case "JSON-lines plugin with a bad hello line"
printf '#!/bin/sh\necho "{\\"hello\\": 1}"\nsleep 5\n' >"$T_DIR/badhello"
chmod +x "$T_DIR/badhello"
probe badhello --plugin "$T_DIR/badhello" init
expect_eq 1 "$PROBE_RC" "exit status"
expect_contains "$T_DIR/badhello.err" 'first line is not a JSON-lines hello {"crunner_instance_group":1}' "error"

test_case "built-in static provider"
printf 'KEYDATA\n' >"$T_DIR/static.key"
probe s1 --plugin fleeting-plugin-static --username dflt \
	--plugin-config "{\"instances\":{\"a\":{\"internal_addr\":\"127.0.0.1:2222\",\"username\":\"root\",\"password\":\"pw\"},\"b\":{\"external_addr\":\"10.1.1.1\",\"key_path\":\"$T_DIR/static.key\"}}}" \
	init update connect-info a connect-info b increase 1 decrease a update update heartbeat a shutdown
expect_eq 0 "$PROBE_RC" "probe exit status ($(cat "$T_DIR/s1.err"))"
expect_contains "$T_DIR/s1.out" "plugin kind=static pid=-1" "built-in"
expect_contains "$T_DIR/s1.out" "init id=crunner/static max_size=2" "init"
expect_contains "$T_DIR/s1.out" "connect-info id=a internal=127.0.0.1:2222 external=127.0.0.1:2222 protocol= port=0 os= arch= user=root password=set key_bytes=0" "host a"
expect_contains "$T_DIR/s1.out" "connect-info id=b internal=10.1.1.1 external=10.1.1.1 protocol= port=0 os= arch= user=dflt password=unset key_bytes=8" "host b: settings username, key_path"
expect_contains "$T_DIR/s1.out" "increase requested=1 succeeded=0" "fixed pool"
expect_contains "$T_DIR/s1.out" "update 2: a=deleted b=running" "decreased host reported deleted once"
expect_contains "$T_DIR/s1.out" "update 2: a=running b=running" "then back in the pool"
expect_contains "$T_DIR/s1.out" "heartbeat a unsupported" "no heartbeat"
probe s2 --plugin static --plugin-config '{"instances":{}}' init
expect_eq 1 "$PROBE_RC" "empty pool refused"
expect_contains "$T_DIR/s2.err" "lists no hosts" "empty pool error"

test_case "plugin lookup: PATH and the installed-plugin layout"
mkdir -p "$T_DIR/bin"
ln -s "$JSONL" "$T_DIR/bin/fleeting-plugin-jsonltest"
PATH=$T_DIR/bin:$PATH probe l1 --plugin fleeting-plugin-jsonltest \
	--plugin-config "{\"state_file\":\"$T_DIR/l1.state\"}" init
expect_eq 0 "$PROBE_RC" "PATH lookup ($(cat "$T_DIR/l1.err"))"
base=$T_DIR/plugins/registry.gitlab.com/gitlab-org/fleeting/plugins/fake
for v in 1.2.0 1.10.0 2.0.0; do
	mkdir -p "$base/$v"
	# The version goes to stderr before the hello line: the probe kills the
	# plugin as soon as it has its pid, and a line written after the hello
	# could still be unwritten then.
	printf '#!/bin/sh\necho "version %s" >&2\necho "{\\"crunner_instance_group\\":1}"\nsleep 5\n' "$v" >"$base/$v/plugin"
	chmod +x "$base/$v/plugin"
done
FLEETING_PLUGIN_PATH=$T_DIR/plugins probe l2 --plugin fake:1 --start-timeout-ms 3000 --grace-ms 100 pid
expect_contains "$T_DIR/l2.err" "version 1.10.0" "constraint 1 picks the highest 1.x"
FLEETING_PLUGIN_PATH=$T_DIR/plugins probe l3 --plugin fake --start-timeout-ms 3000 --grace-ms 100 pid
expect_contains "$T_DIR/l3.err" "version 2.0.0" "no constraint picks the highest"
FLEETING_PLUGIN_PATH=$T_DIR/plugins probe l4 --plugin fake:3 init
expect_eq 1 "$PROBE_RC" "no matching version"
expect_contains "$T_DIR/l4.err" "plugin 'fake:3' not found" "lookup error"

t_finish
