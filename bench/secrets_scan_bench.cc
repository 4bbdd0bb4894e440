// secrets_scan_bench: the gateway-side cost of body-scope secret scanning, without the network:
// 256 MiB fed through secrets::BodyRewriter in 16 KiB pieces (the size of a TLS record), for
// random bytes (a '$', '%' and '\' every 256 bytes: every piece has escapes to decode) and for
// JSON-like text (escapes rare), median of 5 runs, in CPU seconds per GiB. Complements
// bench/secrets.sh, whose end-to-end figures include TLS, lwIP and the upstream.
//   build/bench/secrets_scan_bench
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "secrets/body_rewriter.h"
#include "secrets/secret_set.h"

namespace {

using msb::secrets::BodyRewriter;
using msb::secrets::ConnectionIdentity;
using msb::secrets::ConnectionPlan;

std::shared_ptr<const msb::secrets::SecretSet> Set() {
  msb::secrets::SecretsConfig config;
  for (const char* env : {"API_KEY", "OTHER_KEY"}) {
    msb::secrets::SecretSpec s;
    s.env_var = env;
    s.placeholder = msb::secrets::DefaultPlaceholder(env);
    s.allowed_hosts = {msb::HostPattern::Parse(std::string(env) == "API_KEY" ? "api.example.test"
                                                                             : "other.example.test")
                           .value()};
    s.injection = msb::secrets::Injection{true, true, false, true};
    s.source.kind = msb::secrets::SecretSource::Kind::kInline;
    s.source.inline_value = msb::secrets::SecretValue::Adopt(std::string(40, env[0]));
    config.specs.push_back(std::move(s));
  }
  return msb::secrets::SecretSet::Load(
             config, [](const std::string&) { return std::optional<std::string>(); },
             [](const std::string&) -> msb::Result<std::string> {
               return msb::Status::Error("no files");
             })
      .value();
}

double SecondsPerGiB(const ConnectionPlan& plan, const std::string& piece) {
  constexpr size_t kTotal = 256u << 20;
  std::string out;
  out.reserve(piece.size() * 2);
  BodyRewriter rw(plan);
  auto t0 = std::chrono::steady_clock::now();
  for (size_t done = 0; done < kTotal; done += piece.size()) {
    out.clear();
    if (rw.Feed({reinterpret_cast<const uint8_t*>(piece.data()), piece.size()}, &out)) {
      std::fprintf(stderr, "unexpected violation\n");
      std::exit(1);
    }
  }
  rw.Finish(&out);
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
  return d.count() * double(1u << 30) / double(kTotal);
}

}  // namespace

int main() {
  auto set = Set();
  ConnectionIdentity id;
  id.host = "api.example.test";
  id.tls_intercepted = true;
  id.pinned_names = {"api.example.test"};
  ConnectionPlan plan(set, id);  // API_KEY eligible (substituted), OTHER_KEY detected
  std::mt19937 rng(1);
  std::string random(16384, '\0');
  for (char& c : random) {
    c = static_cast<char>(rng());
  }
  std::string json;
  while (json.size() < 16384) {
    json += "{\"role\": \"user\", \"content\": \"Summarise the attached report, line by line.\"},";
  }
  json.resize(16384);
  for (auto [name, piece] : {std::pair{"random bytes", &random}, std::pair{"json text", &json}}) {
    std::vector<double> runs;
    for (int i = 0; i < 5; ++i) {
      runs.push_back(SecondsPerGiB(plan, *piece));
    }
    std::sort(runs.begin(), runs.end());
    std::printf("%-12s  %.3f s/GiB (median of 5; min %.3f, max %.3f)\n", name, runs[2], runs[0],
                runs[4]);
  }
  return 0;
}
