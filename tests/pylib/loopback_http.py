"""The server set-up every loopback fake of crunner's tests shares.

Standard library only.  A fake adds its own options to an argparse parser,
then add_listen_args() adds --port (0: any free port), --port-file and,
with tls=True, --tls-cert/--tls-key; serve() binds 127.0.0.1, optionally
wraps the socket in TLS, prints "<name> listening on <scheme>://127.0.0.1:
<port>", writes the port to --port-file through a rename once it accepts
connections (so a test never reads half a number), and serves until
SIGINT or SIGTERM.

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
    import loopback_http
"""

import os
import signal
import ssl
import threading
from http.server import ThreadingHTTPServer


def add_listen_args(ap, tls=False):
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    if tls:
        ap.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
        ap.add_argument("--tls-key", help="PEM key of --tls-cert")


def _write_port(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def serve(handler, cfg, name, **state):
    """Serves handler on 127.0.0.1:cfg.port; the server carries cfg, a
    lock and every keyword in state as attributes for the handler."""
    server = ThreadingHTTPServer(("127.0.0.1", cfg.port), handler)
    server.daemon_threads = True
    server.cfg = cfg
    server.lock = threading.Lock()
    for key, value in state.items():
        setattr(server, key, value)
    scheme = "http"
    if getattr(cfg, "tls_cert", None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cfg.tls_cert, cfg.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    port = server.server_address[1]
    print("%s listening on %s://127.0.0.1:%d" % (name, scheme, port), flush=True)
    if cfg.port_file:
        _write_port(cfg.port_file, port)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
