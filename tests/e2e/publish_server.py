#!/usr/bin/python3
"""The guest side of the published-port suite: run inside the sandbox (or a guest namespace).

    publish_server.py LOG TCP_PORT UDP_PORT

TCP on TCP_PORT: each connection sends one line; "big N" is answered with N bytes of a seeded
pattern (harness.expected_sha(N)), anything else with "echo:LINE\\n"; "quit" ends the server.
UDP on UDP_PORT: each datagram is answered with "udp:" + datagram. Every connection and datagram
is appended to LOG (one JSON line each), so a test can prove a denied peer never got through. The
server gives up after 120 s whatever happens (bounded)."""
import json
import random
import select
import socket
import sys
import time

log_path, tcp_port, udp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def log(**kw):
    with open(log_path, "a") as f:
        f.write(json.dumps(kw) + "\n")


def pattern(n, seed=1):
    rng = random.Random(seed)
    left = n
    while left:
        step = min(1 << 20, left)
        yield rng.randbytes(step)
        left -= step


tcp = socket.socket()
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", tcp_port))
tcp.listen(16)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", udp_port))
log(event="ready")
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    ready, _, _ = select.select([tcp, udp], [], [], 1)
    if udp in ready:
        data, peer = udp.recvfrom(65535)
        log(event="udp", peer=peer[0], size=len(data))
        udp.sendto(b"udp:" + data, peer)
    if tcp in ready:
        c, peer = tcp.accept()
        c.settimeout(30)
        log(event="tcp", peer=peer[0])
        line = b""
        while not line.endswith(b"\n"):
            chunk = c.recv(4096)
            if not chunk:
                break
            line += chunk
        text = line.decode().strip()
        if text.startswith("big "):
            for block in pattern(int(text.split()[1])):
                c.sendall(block)
        elif text != "quit":
            c.sendall(b"echo:" + text.encode() + b"\n")
        c.close()
        if text == "quit":
            break
log(event="exit")
