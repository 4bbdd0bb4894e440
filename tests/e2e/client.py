#!/usr/bin/python3
"""A small socket client run INSIDE the sandbox (`msb-gateway run -- client.py ...`), for the
behaviours curl cannot show directly: the exact errno of a refused or unreachable connect, a
half-close, a reset. It prints one result line; the test asserts on it.

  connect HOST PORT [TIMEOUT]       -> "ok" or the errno name (ECONNREFUSED, EHOSTUNREACH, ...)
  halfclose HOST PORT SIZE          -> sends SIZE bytes, shutdown(SHUT_WR), prints the reply
  reset HOST PORT                   -> starts a large download, then closes with RST; "reset"
  many HOST PORT N                  -> N simultaneous GET /hello; "ok N" when all answered
  overflow HOST PORT N              -> opens N connections to an echo service and holds them,
                                       tries one more, closes one and tries again (for up to
                                       5 s): "extra=RESULT after=RESULT" (ok or the errno name)
  hold HOST PORT N                  -> opens N connections to an echo service, echoes one
                                       message on each with all N open, prints "open N", waits
                                       for a line on stdin, closes them all, prints "closed N"
  udp HOST PORT HEX                 -> sends one datagram, prints the reply in hex, or the
                                       errno name (ECONNREFUSED when ICMP port unreachable came)
  udpecho HOST PORT SIZE,...        -> one datagram of each SIZE (random bytes) to an echo
                                       service; "ok SIZE" per size when the echo is byte-exact,
                                       else "bad SIZE", "TIMEOUT SIZE" or the errno name
  udpmany HOST PORT N               -> N sockets (N flows) at once, one datagram each to an echo
                                       service; "ok N" when every one came back
  tcpdns HOST PORT N1,N2,...        -> writes A queries for every name in ONE send on one TCP
                                       connection (pipelined), half-closes, and prints the
                                       first address of each answer in query order
  rawsyn HOST PORT                  -> hand-crafts a SYN to HOST:PORT on eth0 through a packet
                                       socket (reaching destinations the guest kernel would never
                                       route, such as 127.0.0.1) and prints the gateway's answer:
                                       "RST", "SYNACK" or "none"
  rawudp HOST PORT HEX              -> the same for one UDP datagram: "reply" (a UDP answer from
                                       HOST:PORT), "icmp" (an ICMP error) or "none"
"""
import errno
import hashlib
import random
import socket
import struct
import sys
import time


def connect(host, port, timeout):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    start = time.monotonic()
    try:
        s.connect((host, port))
        return "ok", time.monotonic() - start
    except socket.timeout:
        return "TIMEOUT", time.monotonic() - start
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno)), time.monotonic() - start
    finally:
        s.close()


def read_all(s):
    """Reads until the peer closes."""
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def send_raw_ip(dst_ip, proto, l4, gateway_mac="02:6d:73:00:00:01", iface="eth0"):
    """Sends one IPv4 packet carrying `l4` straight onto `iface` (past the guest kernel's routing)
    and returns the packet socket, ready to read the answer."""
    src_ip = socket.inet_aton("172.16.0.2")
    with open("/sys/class/net/%s/address" % iface) as f:
        src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    dst_mac = bytes.fromhex(gateway_mac.replace(":", ""))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0, src_ip,
                     dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.settimeout(0.2)
    s.send(dst_mac + src_mac + b"\x08\x00" + ip + l4)
    return s


def raw_udp(host, port, payload):
    src_ip = socket.inet_aton("172.16.0.2")
    dst_ip = socket.inet_aton(host)
    sport = random.randrange(20000, 60000)
    udp = struct.pack("!HHHH", sport, port, 8 + len(payload), 0) + payload
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    s = send_raw_ip(dst_ip, 17, udp)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[30:34] != src_ip:
            continue
        if frame[23] == 1:
            return "icmp"
        ihl = (frame[14] & 0x0F) * 4
        u = frame[14 + ihl:]
        if frame[23] == 17 and struct.unpack("!HH", u[:4]) == (port, sport):
            return "reply"
    return "none"


def raw_syn(host, port):
    src_ip = socket.inet_aton("172.16.0.2")
    dst_ip = socket.inet_aton(host)
    sport = random.randrange(20000, 60000)
    seq = random.randrange(1 << 32)
    tcp = struct.pack("!HHIIBBHHH", sport, port, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    s = send_raw_ip(dst_ip, 6, tcp)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            frame = s.recv(2048)
        except socket.timeout:
            continue
        if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        ihl = (frame[14] & 0x0F) * 4
        t = frame[14 + ihl:]
        fsport, fdport = struct.unpack("!HH", t[:4])
        if frame[26:30] != dst_ip or fsport != port or fdport != sport:
            continue
        flags = t[13]
        if flags & 0x04:
            return "RST"
        if flags & 0x12 == 0x12:
            return "SYNACK"
    return "none"


def open_many(host, port, n):
    """Opens n connections (at most 256 connecting at a time, so the listen queues are not
    flooded). Returns the sockets, or an error line."""
    import resource
    import selectors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    deadline = time.monotonic() + 120
    while len(socks) < n:
        batch = []
        for _ in range(min(256, n - len(socks))):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((host, port))
            batch.append(s)
        sel = selectors.DefaultSelector()
        for s in batch:
            sel.register(s, selectors.EVENT_WRITE)
        pending = len(batch)
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                sel.unregister(key.fileobj)
                err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    return "connect failed after %d: %s" % (len(socks), errno.errorcode.get(err))
                pending -= 1
        if pending:
            return "connect timed out after %d" % len(socks)
        socks += batch
    return socks


def overflow(host, port, n):
    socks = open_many(host, port, n)
    if isinstance(socks, str):
        return socks
    extra, _ = connect(host, port, 5)
    socks.pop().close()
    after = "none"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after, _ = connect(host, port, 5)
        if after == "ok":
            break
        time.sleep(0.1)
    for s in socks:
        s.close()
    return "extra=%s after=%s" % (extra, after)


def hold(host, port, n):
    """Opens n echo connections, echoes b"ping" on each once all are open, prints "open N",
    then leaves closing to the caller's signal on stdin. Returns the last line to print."""
    socks = open_many(host, port, n)
    if isinstance(socks, str):
        return socks
    for s in socks:
        s.setblocking(True)
        s.settimeout(30)
        s.sendall(b"ping")
    echoed = 0
    for s in socks:
        got = b""
        try:
            while len(got) < 4:  # TCP may deliver the echo in pieces
                chunk = s.recv(4 - len(got))
                if not chunk:
                    break
                got += chunk
        except OSError:  # timed out or reset: counted as not echoed
            pass
        echoed += got == b"ping"
    print("open %d echoed %d" % (len(socks), echoed), flush=True)
    sys.stdin.readline()
    for s in socks:
        s.close()
    return "closed %d" % len(socks)


def connect_rate(host, port, n):
    """n sequential connect + close; the rate in connections per second."""
    t0 = time.monotonic()
    for i in range(n):
        try:
            s = socket.create_connection((host, port), timeout=10)
        except OSError as e:
            return "connect %d failed: %s" % (i, e)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST: no TIME_WAIT piles up on either side
    return "rate %.0f" % (n / (time.monotonic() - t0))


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "connect":
        timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
        result, elapsed = connect(host, port, timeout)
        print("%s %.3f" % (result, elapsed))
    elif cmd == "halfclose":
        size = int(sys.argv[4])
        data = random.Random(7).randbytes(size)
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = read_all(s)
        s.close()
        expect = "%d %s" % (size, hashlib.sha256(data).hexdigest())
        print("match" if reply.decode().strip() == expect else "mismatch " + reply.decode())
    elif cmd == "reset":
        s = socket.create_connection((host, port), timeout=30)
        s.sendall(b"GET /bytes/1073741824 HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        while got < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print("reset" if got >= 1 << 20 else "short %d" % got)
    elif cmd == "many":
        n = int(sys.argv[4])
        socks = [socket.create_connection((host, port), timeout=30) for _ in range(n)]
        for s in socks:  # every connection is open before any request is answered
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        ok = 0
        for s in socks:
            ok += read_all(s).startswith(b"HTTP/1.1 200")
            s.close()
        print("ok %d" % ok)
    elif cmd == "overflow":
        print(overflow(host, port, int(sys.argv[4])))
    elif cmd == "rate":
        print(connect_rate(host, port, int(sys.argv[4])))
    elif cmd == "hold":
        print(hold(host, port, int(sys.argv[4])), flush=True)
    elif cmd == "udp":
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.connect((host, port))
        s.send(bytes.fromhex(sys.argv[4]))
        try:
            print(s.recv(65535).hex())
        except socket.timeout:
            print("TIMEOUT")
        except OSError as e:
            print(errno.errorcode.get(e.errno, str(e.errno)))
    elif cmd == "udpecho":
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.connect((host, port))
        for size in (int(x) for x in sys.argv[4].split(",")):
            data = random.Random(size).randbytes(size)
            try:
                s.send(data)
                print(("ok %d" if s.recv(65535) == data else "bad %d") % size, flush=True)
            except socket.timeout:
                print("TIMEOUT %d" % size, flush=True)
            except OSError as e:
                print(errno.errorcode.get(e.errno, str(e.errno)), flush=True)
    elif cmd == "udpmany":
        n = int(sys.argv[4])
        socks = []
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(5)
            s.connect((host, port))
            s.send(b"flow %d" % i)
            socks.append(s)
        good = 0
        for i, s in enumerate(socks):
            try:
                good += s.recv(100) == b"flow %d" % i
            except OSError:
                pass
        print("ok %d" % good if good == n else "only %d of %d" % (good, n))
    elif cmd == "tcpdns":
        names = sys.argv[4].split(",")
        wire = b""
        for i, name in enumerate(names):
            q = struct.pack("!HHHHHH", i + 1, 0x0100, 1, 0, 0, 0)
            for label in name.split("."):
                q += bytes([len(label)]) + label.encode()
            q += b"\0" + struct.pack("!HH", 1, 1)
            wire += struct.pack("!H", len(q)) + q
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(wire)
        s.shutdown(socket.SHUT_WR)
        data = read_all(s)
        answers = {}
        while len(data) >= 2:
            n = struct.unpack("!H", data[:2])[0]
            msg, data = data[2:2 + n], data[2 + n:]
            qid, ancount = struct.unpack("!H", msg[:2])[0], struct.unpack("!H", msg[6:8])[0]
            # the first answer's address: the last 4 bytes of the first A record
            answers[qid] = socket.inet_ntoa(msg[-4:]) if ancount else "none"
        print(" ".join(answers.get(i + 1, "missing") for i in range(len(names))))
    elif cmd == "rawsyn":
        print(raw_syn(host, port))
    elif cmd == "rawudp":
        print(raw_udp(host, port, bytes.fromhex(sys.argv[4])))
    else:
        print("unknown command " + cmd)
        sys.exit(2)


if __name__ == "__main__":
    main()
