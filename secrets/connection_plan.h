// ConnectionPlan: which secrets may be substituted on one connection, and what happens to the
// placeholders of the others. Built once per intercepted (or plain-HTTP) connection from the
// connection's identity and the SecretSet snapshot current at its start.
//
// A secret is ELIGIBLE when every gate holds (docs/secrets.md):
//   1. `identity.host` (the SNI; the CONNECT authority's host in a CONNECT tunnel; the Host
//      header's host on plain HTTP) matches one of its allowed_hosts;
//   2. for a matching pattern other than `*`: the guest's destination IP is pinned to exactly that
//      host (identity.pinned_names holds it), or the connection is a CONNECT tunnel (the proxy is
//      what the guest dialled; the SNI is tied to the server by upstream verification only), or
//      the host is host.microsandbox.internal dialled at the gateway's address (host_alias);
//   3. the connection is intercepted TLS, unless the secret sets require_tls_identity false.
// (Gate 4, every request's authority equal to the SNI, is enforced by the HTTP relays for every
// request whatever the secrets.)
// A placeholder of an eligible secret is replaced in the scopes its Injection enables and passes
// unchanged elsewhere. Every other secret is INELIGIBLE with its effective action: the secret's
// own on_violation, else the set's; a passthrough whose host list does not cover identity.host
// falls back to the set's action (and to block-and-log when that is also such a passthrough).
// A placeholder shared with an eligible secret is never ineligible. On plain HTTP (not
// tls_intercepted) a secret whose gates 1 and 2 hold but which requires TLS identity is not
// eligible and not a violation either: its placeholder passes unchanged to its own host.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "secrets/secret_set.h"

namespace msb::secrets {

struct ConnectionIdentity {
  std::string host;  // lowercase host name or canonical IP text, no port; "" when unknown
  bool tls_intercepted = false;
  bool connect_tunnel = false;            // inside a CONNECT the guest sent to a proxy
  bool host_alias = false;                // host.microsandbox.internal at the gateway's own address
  std::vector<std::string> pinned_names;  // names the destination IP is pinned to
};

class ConnectionPlan {
 public:
  struct Entry {
    const Secret* secret;  // points into `set`
    bool eligible;
    ViolationAction action;  // ineligible: the effective action (kPassthrough = no detection)
  };

  ConnectionPlan(std::shared_ptr<const SecretSet> set, const ConnectionIdentity& identity);

  const std::vector<Entry>& entries() const { return entries_; }
  const SecretSet& set() const { return *set_; }
  // The snapshot itself, for engines that share ownership of it (ResponseScrubber).
  const std::shared_ptr<const SecretSet>& shared_set() const { return set_; }
  const ConnectionIdentity& identity() const { return identity_; }
  // Nothing to substitute and nothing to detect: the relays skip every scan.
  bool inert() const { return inert_; }
  // Some eligible secret injects into bodies (a request body may change length).
  bool rewrites_bodies() const { return rewrites_bodies_; }
  // Some secret was eligible here (responses are scrubbed of values only on such connections).
  bool any_eligible() const { return any_eligible_; }

 private:
  std::shared_ptr<const SecretSet> set_;
  ConnectionIdentity identity_;
  std::vector<Entry> entries_;
  bool inert_ = true;
  bool rewrites_bodies_ = false;
  bool any_eligible_ = false;
};

}  // namespace msb::secrets
