#!/usr/bin/python3
"""Test "internet" servers for the end-to-end suites (stdlib only).

Runs in the test world's internet namespace, listening on 0.0.0.0 so that every address on that
namespace's loopback answers: the public documentation addresses the tests use AND the canary
addresses (10.x, 192.168.x, 169.254.169.254) that policy must keep the guest away from. Every
accepted connection is appended to a JSON-lines log with its local address, which is how a deny
test proves that nothing reached a canary.

Services, by port:
  80, 8080  HTTP/1.1. GET /bytes/N[?seed=S] streams N deterministic bytes (random.Random(S));
            PUT or POST (Content-Length or chunked) answers "LEN SHA256" of the body;
            GET /hello answers "hello from LOCAL_ADDR"; GET /headers the request's headers as JSON.
  7         sink-then-reply: reads until the client half-closes, then sends "LEN SHA256\n" and
            closes (proves half-close works through the gateway).
  9         echo for many connections at once (one thread, selectors; tens of thousands held);
            connections here are not logged.
"""
import hashlib
import http.server
import json
import os
import random
import socket
import socketserver
import sys
import threading

CHUNK = 1 << 20
_log_lock = threading.Lock()


def stream_bytes(n, seed):
    """Yields the deterministic content of /bytes/N?seed=S in chunks (the tests recompute it)."""
    rng = random.Random(seed)
    left = n
    while left > 0:
        step = min(CHUNK, left)
        yield rng.randbytes(step)
        left -= step


def log_connection(path, sock, port):
    try:
        local = sock.getsockname()[0]
        peer = sock.getpeername()[0]
    except OSError:
        return
    with _log_lock, open(path, "a") as f:
        f.write(json.dumps({"local": local, "port": port, "peer": peer}) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test reads results, not logs
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/headers":
            body = json.dumps([list(h) for h in self.headers.items()]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path == "/hello":
            body = ("hello from %s\n" % self.connection.getsockname()[0]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path.startswith("/bytes/"):
            try:
                n = int(path[len("/bytes/"):])
            except ValueError:
                self.send_error(400)
                return
            seed = 1
            for kv in query.split("&"):
                if kv.startswith("seed="):
                    seed = int(kv[5:])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            for chunk in stream_bytes(n, seed):
                self.wfile.write(chunk)
            return
        self.send_error(404)

    def _read_body(self, h):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return total
                left = size
                while left:
                    data = self.rfile.read(min(left, CHUNK))
                    if not data:
                        raise ConnectionError("short chunk")
                    h.update(data)
                    left -= len(data)
                total += size
                self.rfile.readline()
        left = int(self.headers.get("Content-Length", "0"))
        total = left
        while left:
            data = self.rfile.read(min(left, CHUNK))
            if not data:
                raise ConnectionError("short body")
            h.update(data)
            left -= len(data)
        return total

    def do_PUT(self):
        h = hashlib.sha256()
        total = self._read_body(h)
        body = ("%d %s\n" % (total, h.hexdigest())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT


class HttpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def server_bind(self):
        # Skip HTTPServer's getfqdn(): name resolution is not available in the test world.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        conn, addr = super().get_request()
        log_connection(self.conn_log, conn, self.server_address[1])
        return conn, addr


class HttpServer6(HttpServer):
    """The same service on one IPv6 address (v6 only: IPv4 keeps its own sockets)."""
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


class SinkReply(socketserver.BaseRequestHandler):
    def handle(self):
        h = hashlib.sha256()
        total = 0
        while True:
            data = self.request.recv(CHUNK)
            if not data:
                break
            h.update(data)
            total += len(data)
        self.request.sendall(("%d %s\n" % (total, h.hexdigest())).encode())


class SinkServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def get_request(self):
        conn, addr = super().get_request()
        log_connection(self.conn_log, conn, self.server_address[1])
        return conn, addr


def echo_forever(port):
    """Echoes every connection on one thread, so that 10,000 can be open at once."""
    import resource
    import selectors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4096)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is ls:
                try:
                    while True:
                        c, _ = ls.accept()
                        c.setblocking(False)
                        sel.register(c, selectors.EVENT_READ)
                except (BlockingIOError, OSError):
                    pass
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if data:
                try:
                    c.send(data)  # small messages: the buffer always takes them
                except OSError:
                    pass
            else:
                sel.unregister(c)
                c.close()


def udp_echo_forever(conn_log, addr, port):
    """Echoes every UDP datagram to its sender (any size up to the 64 KiB limit). Bound to one
    address, so replies come from the address the client sent to (as a connected client, and the
    gateway's relay, require); a wildcard socket would answer from the route's address."""
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(65535)
        with _log_lock, open(conn_log, "a") as f:
            f.write(json.dumps({"local": addr, "port": port, "peer": peer[0], "proto": "udp"}) +
                    "\n")
        try:
            s.sendto(data, peer)
        except OSError:
            pass


def main():
    conn_log = sys.argv[1]
    ready_file = sys.argv[2]
    servers = []
    for port in (80, 8080):
        s = HttpServer(("0.0.0.0", port), Handler)
        s.conn_log = conn_log
        servers.append(s)
    for addr in (a for a in sys.argv[3:] if ":" in a):  # the IPv6 servers
        s = HttpServer6((addr, 80), Handler)
        s.conn_log = conn_log
        servers.append(s)
    s = SinkServer(("0.0.0.0", 7), SinkReply)
    s.conn_log = conn_log
    servers.append(s)
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    threading.Thread(target=echo_forever, args=(9,), daemon=True).start()
    for addr in sys.argv[3:]:
        threading.Thread(target=udp_echo_forever, args=(conn_log, addr, 7), daemon=True).start()
    with open(ready_file, "w") as f:
        f.write(str(os.getpid()))
    threading.Event().wait()


if __name__ == "__main__":
    main()
