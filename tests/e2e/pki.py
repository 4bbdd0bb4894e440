"""Test certificates for the end-to-end TLS suites (python3-cryptography): a test CA the gateway
is told to trust (--tls-upstream-ca-cert), server certificates signed by it for the test world's
names, and deliberately broken ones (expired, self-signed, wrong name, no serverAuth, signed by a
CA nobody trusts) so each upstream-verification failure can be produced on demand."""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "msb-gateway e2e")])


def _write(path, cert, key):
    with open(path + ".pem", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(path + ".key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def make_ca(path, cn):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - 30 * DAY).not_valid_after(NOW + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write(path, cert, key)
    return cert, key


def make_leaf(path, ca, names, ips=(), not_before=None, not_after=None, server_auth=True,
              self_signed=False, cn=None):
    """A server certificate for `names`/`ips`, signed by `ca` (a (cert, key) pair) unless
    self_signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(cn or (names[0] if names else ips[0]))
    issuer_cert, issuer_key = (None, key) if self_signed else ca
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    eku = [ExtendedKeyUsageOID.SERVER_AUTH] if server_auth else [ExtendedKeyUsageOID.CLIENT_AUTH]
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(subject if self_signed else issuer_cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(not_before or NOW - DAY).not_valid_after(not_after or NOW + 30 * DAY)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.SubjectAlternativeName(sans), critical=False)
         .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False))
    if not self_signed:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_cert.public_key()), critical=False)
    cert = b.sign(issuer_key, hashes.SHA256())
    _write(path, cert, key)
    return cert, key


def build(directory, good_names, good_ips):
    """Writes the test PKI into `directory`: ca.pem (trusted by the gateway), default.{pem,key}
    (every good name and IP), one certificate per broken case keyed by its SNI, and
    rogue-ca.pem (trusted by nobody)."""
    os.makedirs(directory, exist_ok=True)
    ca = make_ca(os.path.join(directory, "ca"), "msb-gateway e2e test CA")
    rogue = make_ca(os.path.join(directory, "rogue-ca"), "rogue CA nobody trusts")
    make_leaf(os.path.join(directory, "default"), ca, good_names, good_ips)
    make_leaf(os.path.join(directory, "expired.example.test"), ca, ["expired.example.test"],
              not_before=NOW - 10 * DAY, not_after=NOW - DAY)
    make_leaf(os.path.join(directory, "selfsigned.example.test"), None,
              ["selfsigned.example.test"], self_signed=True)
    make_leaf(os.path.join(directory, "wrongname.example.test"), ca, ["somebody-else.example.test"])
    make_leaf(os.path.join(directory, "noserverauth.example.test"), ca,
              ["noserverauth.example.test"], server_auth=False)
    make_leaf(os.path.join(directory, "untrusted.example.test"), rogue, ["untrusted.example.test"])
    return os.path.join(directory, "ca.pem")
