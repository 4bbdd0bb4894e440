// `msb-gateway ca init|show|export`: the persistent TLS-interception CA of a state directory.
// init creates it when absent (and is idempotent), show describes it, export prints its PEM so it
// can be installed in a VM's trust store. show and export never create anything.
#include <cstdio>

#include "certs/intercept_ca.h"
#include "gateway/runner.h"
#include "gateway/tls/intercept_options.h"

namespace msb::gateway {

int CaCommand(const CliConfig& c) {
  std::string dir = c.state_dir_given ? c.tls.state_dir : tls::DefaultStateDir();
  if (dir.empty()) {
    std::fprintf(stderr,
                 "msb-gateway: ca: no state directory: give --state-dir DIR (or set "
                 "XDG_STATE_HOME or HOME)\n");
    return 2;
  }
  auto ca =
      c.ca_action == "init" ? certs::InterceptCa::LoadOrCreate(dir) : certs::InterceptCa::Load(dir);
  if (!ca.ok()) {
    std::fprintf(stderr, "msb-gateway: ca %s: %s\n", c.ca_action.c_str(), ca.error().c_str());
    return c.ca_action == "init" ? 1 : 2;
  }
  if (c.ca_action == "export") {
    std::fputs(ca.value()->cert_pem().c_str(), stdout);
    return 0;
  }
  if (c.ca_action == "init") {
    std::printf("%s\n", ca.value()->created() ? "created a new intercept CA"
                                              : "the intercept CA already exists");
  }
  std::fputs(ca.value()->Describe().c_str(), stdout);
  return 0;
}

}  // namespace msb::gateway
