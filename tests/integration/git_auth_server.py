"""A dumb-HTTP git server for t_git.sh that wants Basic auth.

Usage: git_auth_server.py DIR TOKEN_FILE DELAY
Serves DIR on a loopback port (printed as "port N" on stdout's first
line).  Every request must carry "Authorization: Basic" for user
gitlab-ci-token with the password in TOKEN_FILE (read per request, so the
test can write it after it learns the job's token); others get 401.  Each
answer waits DELAY seconds, long enough for the test to look at the
process list while git fetches.  One line per request on stderr:
"<path> auth=ok|missing|bad".
"""
import base64
import functools
import http.server
import sys
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    token_file = ""
    delay = 0.0

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        time.sleep(self.delay)
        with open(self.token_file) as f:
            token = f.read().strip()
        want = "Basic " + base64.b64encode(
            ("gitlab-ci-token:" + token).encode()).decode()
        got = self.headers.get("Authorization")
        state = "missing" if got is None else ("ok" if got == want else "bad")
        sys.stderr.write(f"{self.path} auth={state}\n")
        sys.stderr.flush()
        if state != "ok":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


def main():
    directory, token_file, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    Handler.token_file = token_file
    Handler.delay = delay
    handler = functools.partial(Handler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
