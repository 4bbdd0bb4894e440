// CaBuilder: internal to certs/ (not for other modules). The one friend of InterceptCa that
// validates a certificate/key pair and fills an InterceptCa, shared by intercept_ca.cc (FromFiles,
// FromPem) and ca_state.cc (Load, LoadOrCreate), which must also record where the CA came from.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "certs/intercept_ca.h"

namespace msb::certs {

class CaBuilder {
 public:
  // FromPem validates (see InterceptCa::FromFiles) with `cert_what`/`key_what` naming the sources
  // in messages and records the paths and `created` flag as given.
  static Result<std::shared_ptr<const InterceptCa>> FromPem(
      std::string_view cert_pem, std::string_view key_pem, const std::string& cert_what,
      const std::string& key_what, int64_t now, const std::string& cert_path,
      const std::string& key_path, bool created);

  // FromFiles reads both files (capped at 1 MiB each) and calls FromPem with the paths.
  static Result<std::shared_ptr<const InterceptCa>> FromFiles(const std::string& cert_path,
                                                              const std::string& key_path,
                                                              int64_t now, bool created);

 private:
  static Status CheckCa(X509* cert, const std::string& what);
  static std::vector<std::string> StrictWarnings(X509* cert, const std::string& what);
};

}  // namespace msb::certs
