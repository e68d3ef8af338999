"$PYTHON" - "$CRUNNER" "$WORK" <<'PY'
import os, pty, re, sys
crunner, work = sys.argv[1], sys.argv[2]
def run():
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.pop("NO_COLOR", None)
        os.execv(crunner, [crunner, "exec", "--cwd", work])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, st = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(st) == 0, out
    return out.decode()
one, two = run(), run()
colour = {}
for text in (one, two):
    for name in ("alpha", "beta"):
        m = re.search(r"\x1b\[(\d+)m" + name + r" *\x1b\[0m \x1b\[2m>\x1b\[0m hello-" + name, text)
        assert m, (name, text)
        colour.setdefault(name, set()).add(m.group(1))
assert all(len(c) == 1 for c in colour.values()), colour   # stable
assert "running: alpha" in one, one                         # status line
assert re.search(r"\x1b\[\d+;30m PASS \x1b\[0m alpha", one), one
PY
