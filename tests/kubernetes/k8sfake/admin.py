"""The control surface for tests: a plain-HTTP server on its own loopback
port (it keeps answering while the API server is "down")."""

import http.server
import json
import threading
import urllib.parse


def make_admin(app, port, token):
    class Admin(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            if app.verbose:
                super().log_message(fmt, *args)

        def reply(self, code, obj):
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            url = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(url.query)
            if token and self.headers.get("Authorization") != \
                    "Bearer " + token:
                return self.reply(401, {"error": "admin token required"})
            path, m = url.path.rstrip("/"), self.command
            if path == "/healthz":
                return self.reply(200, {"ok": True, "port": app.port})
            if path == "/containers" and m == "GET":
                return self.reply(200, app.docker.containers())
            if path == "/pods" and m == "GET":
                return self.reply(200, app.pods_summary())
            if path == "/requests" and m == "GET":
                with app.record_lock:
                    return self.reply(200, list(app.records))
            if path == "/down" and m == "POST":
                seconds = float((q.get("seconds") or ["5"])[0])
                app.go_down(seconds)
                return self.reply(200, {"down_for": seconds})
            if path == "/up" and m == "POST":
                app.go_up()
                return self.reply(200, {"up": True})
            if path == "/compact" and m == "POST":
                app.store.compact()
                return self.reply(200, {"oldest": app.store.oldest})
            if path == "/cleanup" and m == "POST":
                return self.reply(200, app.cleanup())
            if path == "/shutdown" and m == "POST":
                self.reply(200, app.cleanup())
                threading.Thread(target=app.shutdown, daemon=True).start()
                return
            return self.reply(404, {"error": "no such admin endpoint",
                                    "path": path})

        do_GET = do_POST = handle_any

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Admin)
    srv.daemon_threads = True
    return srv
