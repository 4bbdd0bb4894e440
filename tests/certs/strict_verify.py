#!/usr/bin/env python3
"""Strict client verification of a minted chain, for leaf_minter_test.

Runs a TLS handshake entirely in memory (ssl.MemoryBIO, no sockets): a server presenting
CHAIN_PEM (leaf first) with KEY_PEM, and a client that trusts only CA_PEM with
VERIFY_X509_STRICT (and VERIFY_X509_PARTIAL_CHAIN, Python 3.13's other new default) and checks
HOST (a host name, or an IP literal: then no SNI is sent and the IP SAN is checked).
Exit 0 and print "ok" on success; exit 1 with the error otherwise.
usage: strict_verify.py CA_PEM CHAIN_PEM KEY_PEM HOST
"""
import ssl
import sys


def main() -> int:
    ca, chain, key, host = sys.argv[1:5]
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain, key)
    client = ssl.create_default_context(cafile=ca)
    client.verify_flags |= ssl.VERIFY_X509_STRICT
    client.verify_flags |= getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
    bios = [ssl.MemoryBIO() for _ in range(4)]
    c = client.wrap_bio(bios[0], bios[1], server_hostname=host)
    s = server.wrap_bio(bios[2], bios[3], server_side=True)
    done = {"c": False, "s": False}
    for _ in range(50):
        for name, obj, out, peer_in in (("c", c, bios[1], bios[2]), ("s", s, bios[3], bios[0])):
            if not done[name]:
                try:
                    obj.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError as e:
                    print(f"{name}: {e}")
                    return 1
            data = out.read()
            if data:
                peer_in.write(data)
        if done["c"] and done["s"]:
            print("ok")
            return 0
    print("handshake did not finish")
    return 1


if __name__ == "__main__":
    sys.exit(main())
