#!/usr/bin/python3
"""HTTPS servers of the test "internet" for the TLS-interception suites (Debian's python3-h2 for
HTTP/2, the stdlib for the rest).

  tls_servers.py CERT_DIR REQUEST_LOG READY_FILE

Listens on 0.0.0.0 (every address of the internet namespace's loopback answers):
  443   ALPN h2 and http/1.1 (h2 preferred)
  8443  ALPN http/1.1 only (and clients that send no ALPN)
  9443  ALPN h2 only: a client that cannot speak h2 fails the handshake
  3128  a plain HTTP CONNECT proxy (no TLS): tunnels to any host:port it can resolve
The certificate is chosen by SNI: CERT_DIR/<sni>.pem when it exists (the broken certificates of
pki.py), else CERT_DIR/default.pem (every good test name and IP).

Every request is appended to REQUEST_LOG as JSON: {"sni", "alpn", "proto", "method", "path",
"authority", "host", "local", "headers"}, which is how a test proves that the server a guest
tried to reach through a spoofed name or a fronted Host header received nothing.

Endpoints (both protocols): /hello; /bytes/N[?seed=S]; PUT/POST anything -> "LEN SHA256";
/headers -> the request's headers as JSON; /trailers -> body "ok" then trailers
grpc-status: 0 and grpc-message: done (h2; h1 sends them as chunked trailers);
/sse?n=N&ms=M -> N server-sent events M ms apart, chunked, each flushed as it is produced.
"""
import hashlib
import json
import os
import select
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection
import h2.events

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import servers  # noqa: E402  (the plain-HTTP handler and the deterministic byte streams)

_lock = threading.Lock()


class Log:
    def __init__(self, path):
        self.path = path

    def write(self, entry):
        with _lock, open(self.path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def parse_query(query):
    out = {}
    for kv in query.split("&"):
        if "=" in kv:
            k, v = kv.split("=", 1)
            out[k] = v
    return out


# --- HTTP/1.1 ------------------------------------------------------------------------------------

class Handler(servers.Handler):
    """servers.Handler plus logging and the TLS-suite endpoints."""

    def parse_request(self):
        ok = super().parse_request()
        if ok:
            sock = self.connection
            self.server.log.write({
                "sni": getattr(sock, "msb_sni", None), "alpn": sock.selected_alpn_protocol(),
                "proto": "h1", "method": self.command, "path": self.path,
                "authority": self.headers.get("Host"), "host": self.headers.get_all("Host"),
                "local": sock.getsockname()[0], "headers": [list(h) for h in self.headers.items()]})
        return ok

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/sse":
            q = parse_query(query)
            n, ms = int(q.get("n", "5")), int(q.get("ms", "200"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                event = ("data: event %d at %.3f\n\n" % (i, time.time())).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
                time.sleep(ms / 1000.0)
            self.wfile.write(b"0\r\n\r\n")
            return
        if path == "/trailers":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "grpc-status, grpc-message")
            self.end_headers()
            self.wfile.write(b"2\r\nok\r\n0\r\ngrpc-status: 0\r\ngrpc-message: done\r\n\r\n")
            return
        super().do_GET()


class H1Server:
    """Just what BaseHTTPRequestHandler needs from a server object."""

    def __init__(self, log):
        self.log = log
        self.server_name, self.server_port = "test", 443


# --- HTTP/2 --------------------------------------------------------------------------------------

class H2Conn:
    def __init__(self, sock, log):
        self.sock = sock
        self.log = log
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding="utf-8"))
        self.requests = {}  # stream id -> {"headers", "hash", "size"}
        self.sending = {}   # stream id -> {"chunks": iterator, "buf": bytes, "trailers": list}

    def run(self):
        self.conn.initiate_connection()
        self.flush()
        while True:
            timeout = 0.05 if self.sending else 30
            # Records OpenSSL already decrypted are invisible to select(): read them first.
            r = self.sock.pending() > 0 or select.select([self.sock], [], [], timeout)[0]
            if r:
                try:
                    data = self.sock.recv(65536)
                except (ssl.SSLError, OSError):
                    return
                if not data:
                    return
                for event in self.conn.receive_data(data):
                    if not self.handle(event):
                        self.flush()
                        return
            self.pump()
            self.flush()

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def handle(self, e):
        if isinstance(e, h2.events.RequestReceived):
            headers = dict(e.headers)
            self.requests[e.stream_id] = {"headers": e.headers, "hash": hashlib.sha256(),
                                          "size": 0}
            self.log.write({
                "sni": getattr(self.sock, "msb_sni", None),
                "alpn": self.sock.selected_alpn_protocol(), "proto": "h2",
                "method": headers.get(":method"), "path": headers.get(":path"),
                "authority": headers.get(":authority"),
                "host": [v for k, v in e.headers if k == "host"],
                "local": self.sock.getsockname()[0], "headers": [list(h) for h in e.headers]})
        elif isinstance(e, h2.events.DataReceived):
            req = self.requests.get(e.stream_id)
            if req is not None:
                req["hash"].update(e.data)
                req["size"] += len(e.data)
            self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        elif isinstance(e, h2.events.StreamEnded):
            self.respond(e.stream_id)
        elif isinstance(e, h2.events.StreamReset):
            self.sending.pop(e.stream_id, None)
        elif isinstance(e, h2.events.ConnectionTerminated):
            return False
        return True

    def respond(self, sid):
        req = self.requests.pop(sid, None)
        if req is None:
            return
        headers = dict(req["headers"])
        method, path = headers.get(":method"), headers.get(":path", "/")
        path, _, query = path.partition("?")
        trailers = None
        if method in ("PUT", "POST"):
            chunks = iter([("%d %s\n" % (req["size"], req["hash"].hexdigest())).encode()])
            length = None
        elif path == "/hello":
            chunks = iter([("hello from %s\n" % self.sock.getsockname()[0]).encode()])
            length = None
        elif path == "/headers":
            chunks = iter([json.dumps([list(h) for h in req["headers"]]).encode()])
            length = None
        elif path == "/trailers":
            chunks = iter([b"ok"])
            length = None
            trailers = [("grpc-status", "0"), ("grpc-message", "done")]
        elif path.startswith("/bytes/"):
            n = int(path[len("/bytes/"):])
            seed = int(parse_query(query).get("seed", "1"))
            chunks = servers.stream_bytes(n, seed)
            length = n
        else:
            self.conn.send_headers(sid, [(":status", "404")], end_stream=True)
            return
        resp = [(":status", "200")]
        if length is not None:
            resp.append(("content-length", str(length)))
        self.conn.send_headers(sid, resp)
        self.sending[sid] = {"chunks": chunks, "buf": b"", "trailers": trailers}

    def pump(self):
        for sid in list(self.sending):
            s = self.sending[sid]
            while True:
                if not s["buf"]:
                    s["buf"] = next(s["chunks"], None)
                    if s["buf"] is None:
                        if s["trailers"]:
                            self.conn.send_headers(sid, s["trailers"], end_stream=True)
                        else:
                            self.conn.end_stream(sid)
                        del self.sending[sid]
                        break
                window = min(self.conn.local_flow_control_window(sid),
                             self.conn.max_outbound_frame_size)
                if window <= 0:
                    break
                piece, s["buf"] = s["buf"][:window], s["buf"][window:]
                self.conn.send_data(sid, piece)
                self.flush()


# --- CONNECT proxy -------------------------------------------------------------------------------

def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def proxy_conn(client, log):
    client.settimeout(30)
    try:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            data = client.recv(4096)
            if not data:
                return
            head += data
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, target = line.split()[:2]
        log.write({"proto": "connect", "method": method, "authority": target,
                   "local": client.getsockname()[0]})
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        upstream.settimeout(None)
        client.settimeout(None)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        t = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
        t.start()
        pipe(client, upstream)
        t.join(30)
        upstream.close()
    except (OSError, ValueError):
        pass
    finally:
        client.close()


def serve_proxy(log):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", 3128))
    ls.listen(256)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=proxy_conn, args=(c, log), daemon=True).start()


# --- TLS listeners -------------------------------------------------------------------------------

def make_contexts(cert_dir, alpn):
    def ctx_for(base):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(base + ".pem", base + ".key")
        ctx.set_alpn_protocols(alpn)
        return ctx

    default = ctx_for(os.path.join(cert_dir, "default"))
    by_name = {}
    for f in os.listdir(cert_dir):
        if f.endswith(".example.test.pem"):
            by_name[f[:-4]] = ctx_for(os.path.join(cert_dir, f[:-4]))

    def on_sni(sslobj, name, _ctx):
        sslobj.msb_sni = name
        if name in by_name:
            sslobj.context = by_name[name]
    default.sni_callback = on_sni
    for c in by_name.values():
        c.sni_callback = on_sni
    return default


def serve(port, ctx, log, conn_log, h2_only):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1024)
    while True:
        raw, addr = ls.accept()
        servers.log_connection(conn_log, raw, port)
        threading.Thread(target=handle, args=(raw, addr, ctx, log, h2_only), daemon=True).start()


def handle(raw, addr, ctx, log, h2_only):
    raw.settimeout(30)
    try:
        sock = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        return
    try:
        if sock.selected_alpn_protocol() == "h2":
            H2Conn(sock, log).run()
        elif h2_only:
            pass  # an h2-only server: nothing for a client that cannot speak it
        else:
            Handler(sock, addr, H1Server(log))
    except (ssl.SSLError, OSError, ConnectionError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    cert_dir, req_log, ready = sys.argv[1], sys.argv[2], sys.argv[3]
    conn_log = req_log + ".connections"
    log = Log(req_log)
    for port, alpn in ((443, ["h2", "http/1.1"]), (8443, ["http/1.1"]), (9443, ["h2"])):
        ctx = make_contexts(cert_dir, alpn)
        threading.Thread(target=serve, args=(port, ctx, log, conn_log, alpn == ["h2"]),
                         daemon=True).start()
    threading.Thread(target=serve_proxy, args=(log,), daemon=True).start()
    time.sleep(0.2)
    with open(ready, "w") as f:
        f.write(str(os.getpid()))
    threading.Event().wait()


if __name__ == "__main__":
    main()
