// Domain-name canonicalisation and label-aware matching for domain and suffix rules.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace msb::policy {

// CanonicalDomain lowercases ASCII, strips one trailing dot and validates: 1..253 octets, labels
// 1..63 of [a-z0-9_-] not starting or ending with '-'. Rejects empty names, whitespace, ports,
// schemes, paths, userinfo and IP literals, with a message saying which.
Result<std::string> CanonicalDomain(std::string_view name);

// CanonicalSuffix is CanonicalDomain plus: the suffix must contain a dot (`com`, `local` are too
// broad). A leading "*." or "." is NOT accepted here; the grammar strips "*." before calling.
Result<std::string> CanonicalSuffix(std::string_view suffix);

// NameHasSuffix is label-aware: "a.example.com" and "example.com" have suffix "example.com";
// "evilexample.com" does not. Both arguments must be canonical.
bool NameHasSuffix(std::string_view name, std::string_view suffix);

}  // namespace msb::policy
