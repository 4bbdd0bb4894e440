// Leaf minting (see leaf_minter.h). Everything that is the same for every leaf (key pair, its
// encoded public key, the constant extensions, the chain) is built once in Create, so a mint is
// one X509 assembly plus one ECDSA signature.
#include "certs/leaf_minter.h"

#include <algorithm>
#include <vector>

#include "certs/fast_pubkey.h"
#include "certs/x509_build.h"
#include "certs/x509_util.h"

namespace msb::certs {
namespace {

constexpr int64_t kDay = 24 * 3600;
constexpr int64_t kMaxValidity = 397 * kDay;
constexpr int64_t kMaxBackdate = 30 * kDay;
constexpr size_t kMaxCommonName = 64;  // RFC 5280 ub-common-name

Status AddText(X509_NAME* name, int nid, const std::string& value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return Status::Error("cannot build the leaf subject: " + OpenSslErrors());
  }
  return Status::Ok();
}

}  // namespace

Status Leaf::InstallOn(SSL* ssl) const {
  if (SSL_use_cert_and_key(ssl, cert_.get(), key_.get(), chain_.get(), 1) != 1) {
    return Status::Error("cannot install the leaf for " + name_.text + ": " + OpenSslErrors());
  }
  return Status::Ok();
}

Result<std::shared_ptr<const LeafMinter>> LeafMinter::Create(std::shared_ptr<const InterceptCa> ca,
                                                             LeafOptions options, WallClock clock) {
  if (!ca) {
    return Status::Error("leaf minter needs a CA");
  }
  if (options.validity_seconds < 1 || options.validity_seconds > kMaxValidity) {
    return Status::Error("leaf validity must be between 1 second and 397 days");
  }
  if (options.backdate_seconds < 0 || options.backdate_seconds > kMaxBackdate) {
    return Status::Error("leaf backdate must be between 0 and 30 days");
  }
  std::shared_ptr<LeafMinter> m(new LeafMinter());
  m->ca_ = std::move(ca);
  m->options_ = options;
  m->clock_ = clock ? std::move(clock) : SystemWallClock();
  m->leaf_key_ = GenerateP256Key();
  if (!m->leaf_key_) {
    return Status::Error("cannot generate the leaf key: " + OpenSslErrors());
  }
  m->leaf_public_ = FastEncodingPublicKey(m->leaf_key_.get());
  m->chain_.reset(sk_X509_new_null());
  if (!m->chain_) {
    return Status::Error("cannot allocate the leaf chain: " + OpenSslErrors());
  }
  std::vector<X509*> chain = {m->ca_->cert()};
  for (const auto& issuer : m->ca_->issuers()) {
    chain.push_back(issuer.get());
  }
  for (X509* c : chain) {
    UniquePtr<X509> ref = UpRef(c);
    if (!ref || sk_X509_push(m->chain_.get(), ref.get()) <= 0) {
      return Status::Error("cannot build the leaf chain: " + OpenSslErrors());
    }
    ref.release();  // owned by the stack now
  }
  // The subject key id hashes the leaf public key: the same for every leaf of this minter.
  UniquePtr<X509> scratch(X509_new());
  if (!scratch || X509_set_pubkey(scratch.get(), m->leaf_public_.get()) != 1) {
    return Status::Error("cannot encode the leaf key: " + OpenSslErrors());
  }
  // Prime the key comparison SSL_use_cert_and_key makes on every install (it exports the legacy
  // public key to the provider once and caches it), and check the fast copy is the same key.
  if (X509_check_private_key(scratch.get(), m->leaf_key_.get()) != 1) {
    return Status::Error("leaf public key copy does not match the leaf key: " + OpenSslErrors());
  }
  m->basic_constraints_ = MakeBasicConstraints(false, -1);
  m->key_usage_ = MakeKeyUsage({KeyUsageBit::kDigitalSignature});
  m->ext_key_usage_ = MakeExtendedKeyUsage({NID_server_auth});
  m->subject_key_id_ = MakeSubjectKeyId(KeyIdOf(scratch.get()));
  m->authority_key_id_ = MakeAuthorityKeyId(m->ca_->key_id());
  if (!m->basic_constraints_ || !m->key_usage_ || !m->ext_key_usage_ || !m->subject_key_id_ ||
      !m->authority_key_id_) {
    return Status::Error("cannot build the leaf extensions: " + OpenSslErrors());
  }
  return std::shared_ptr<const LeafMinter>(std::move(m));
}

Result<std::shared_ptr<const Leaf>> LeafMinter::Mint(const ServerName& name) const {
  int64_t now = clock_();
  if (now >= ca_->not_after()) {
    return Status::Error("cannot mint a leaf for " + name.text + ": the intercept CA expired at " +
                         FormatUnixTime(ca_->not_after()));
  }
  if (now < ca_->not_before()) {
    return Status::Error("cannot mint a leaf for " + name.text +
                         ": the intercept CA is not valid until " +
                         FormatUnixTime(ca_->not_before()));
  }
  std::shared_ptr<Leaf> leaf(new Leaf());
  leaf->not_before_ = std::max(now - options_.backdate_seconds, ca_->not_before());
  leaf->not_after_ = std::min(now + options_.validity_seconds, ca_->not_after());
  leaf->minted_at_ = now;
  leaf->name_ = name;
  leaf->ca_fingerprint_ = ca_->fingerprint_sha256();
  leaf->key_ = UpRef(leaf_key_.get());
  leaf->chain_ = UpRefChain(chain_.get());
  leaf->cert_.reset(X509_new());
  X509* x = leaf->cert_.get();
  if (!x || !leaf->chain_ || X509_set_version(x, X509_VERSION_3) != 1 ||
      X509_set_issuer_name(x, X509_get_subject_name(ca_->cert())) != 1 ||
      X509_set_pubkey(x, leaf_public_.get()) != 1) {
    return Status::Error("cannot build the leaf for " + name.text + ": " + OpenSslErrors());
  }
  X509_NAME* subject = X509_get_subject_name(x);
  Status st = AddText(subject, NID_organizationName, "msb-gateway");
  if (st.ok() && name.text.size() <= kMaxCommonName) {
    st = AddText(subject, NID_commonName, name.text);
  }
  if (st.ok()) {
    st = SetRandomSerial(x);
  }
  if (st.ok()) {
    st = SetValidity(x, leaf->not_before_, leaf->not_after_);
  }
  // The subject is never empty (O is always there), so the SAN need not be critical.
  UniquePtr<X509_EXTENSION> san = MakeSubjectAltName(name, false);
  for (X509_EXTENSION* ext : {basic_constraints_.get(), key_usage_.get(), ext_key_usage_.get(),
                              subject_key_id_.get(), authority_key_id_.get(), san.get()}) {
    if (st.ok()) {
      st = AddExtension(x, ext);
    }
  }
  if (st.ok()) {
    st = SignCertificate(x, ca_->key());
  }
  if (!st.ok()) {
    return Status::Error("cannot mint a leaf for " + name.text + ": " + st.message());
  }
  // Compute OpenSSL's cached extension data now, on this thread, instead of lazily (under a lock)
  // during the first handshakes that share this leaf.
  X509_get_extension_flags(x);
  return std::shared_ptr<const Leaf>(std::move(leaf));
}

}  // namespace msb::certs
