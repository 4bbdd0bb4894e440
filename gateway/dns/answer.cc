// DNS answer interpretation (see dns_answer.h).
#include "gateway/dns/answer.h"

#include <algorithm>
#include <string>

namespace msb::gateway::dns {
namespace {

constexpr size_t kMaxChain = 16;

// Chain walks `name`'s CNAME chain: each step finds the CNAME owned by the current name. Records
// may come in any order, so every step scans the whole (bounded) answer section. Returns the
// names, `name` first, and lowers `ttl` to the smallest CNAME TTL on the way.
std::vector<std::string> Chain(const Response& response, std::string_view name, uint32_t* ttl) {
  std::vector<std::string> chain = {std::string(name)};
  for (size_t step = 0; step < kMaxChain; ++step) {
    const ResourceRecord* next = nullptr;
    for (const ResourceRecord& rr : response.answers) {
      if (rr.type == static_cast<uint16_t>(RType::kCname) && rr.name == chain.back()) {
        next = &rr;
        break;
      }
    }
    if (next == nullptr || std::find(chain.begin(), chain.end(), next->target) != chain.end()) {
      break;  // end of chain, or a loop
    }
    *ttl = std::min(*ttl, next->ttl);
    chain.push_back(next->target);
  }
  return chain;
}

}  // namespace

std::vector<std::string> ChainNames(const Response& response, std::string_view name) {
  uint32_t ttl = UINT32_MAX;
  std::vector<std::string> chain = Chain(response, name, &ttl);
  chain.erase(chain.begin());
  return chain;
}

AnswerAddresses AddressesForName(const Response& response, std::string_view name, uint16_t qtype) {
  AnswerAddresses out;
  if (qtype != static_cast<uint16_t>(RType::kA) && qtype != static_cast<uint16_t>(RType::kAaaa)) {
    return out;
  }
  uint32_t ttl = UINT32_MAX;
  std::vector<std::string> chain = Chain(response, name, &ttl);
  bool any = false;
  for (const ResourceRecord& rr : response.answers) {
    if (rr.type != qtype || !rr.address ||
        std::find(chain.begin(), chain.end(), rr.name) == chain.end()) {
      continue;
    }
    any = true;
    ttl = std::min(ttl, rr.ttl);
    if (std::find(out.addresses.begin(), out.addresses.end(), *rr.address) == out.addresses.end()) {
      out.addresses.push_back(*rr.address);
    }
  }
  out.ttl = any ? ttl : 0;
  return out;
}

std::vector<IpAddress> AllAddresses(const Response& response) {
  std::vector<IpAddress> out;
  for (const ResourceRecord& rr : response.answers) {
    if (rr.address && std::find(out.begin(), out.end(), *rr.address) == out.end()) {
      out.push_back(*rr.address);
    }
  }
  return out;
}

}  // namespace msb::gateway::dns
