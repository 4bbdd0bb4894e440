#!/usr/bin/python3
# Captures the first bytes a TLS client sends (its ClientHello flight) to a file: listens on
# 127.0.0.1:PORT, accepts one connection, reads until the client has been silent for 1 s (it waits
# for a ServerHello that never comes), writes what it got to OUT and closes. Used to record the
# real captures in this directory; see README.md for the client commands.
import socket
import sys

port, out = int(sys.argv[1]), sys.argv[2]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
srv.settimeout(20)
conn, _ = srv.accept()
conn.settimeout(1.0)
data = b""
try:
    while len(data) < 1 << 20:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
with open(out, "wb") as f:
    f.write(data)
conn.close()
print(f"{out}: {len(data)} bytes")
