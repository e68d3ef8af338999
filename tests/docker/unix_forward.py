"""A TCP listener on 127.0.0.1 that forwards each connection to a unix
socket (the Docker engine's), so tests reach dockerd over tcp:// without
reconfiguring it.  Prints "port N" once listening; counts connections in
the file given as the third argument."""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    path, count_file = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print("port %d" % srv.getsockname()[1], flush=True)
    n = 0
    while True:
        client, _ = srv.accept()
        n += 1
        with open(count_file, "w") as f:
            f.write("%d\n" % n)
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(path)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


main()
