// The audit log: one JSON object per line, one line per decision or flow event, written with a
// single write(2) each (so every event is flushed as it happens and lines never interleave).
// The schema is documented in docs/audit-log.md; bump kAuditSchemaVersion on incompatible change.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/ip_address.h"
#include "base/json_writer.h"
#include "base/status.h"
#include "policy/evaluator.h"

namespace msb::gateway {

inline constexpr int kAuditSchemaVersion = 1;

// AuditFlow identifies a flow in every record that concerns it.
struct AuditFlow {
  uint64_t id = 0;
  std::string_view proto;  // "tcp" | "udp"
  SocketAddress src;       // the guest's endpoint
  SocketAddress dst;       // the destination the guest addressed
};

// AuditRecord starts an object with the common fields: {"v":1,"ts":...,"event":...}.
class AuditRecord {
 public:
  explicit AuditRecord(std::string_view event, std::string_view timestamp = {});
  AuditRecord& Flow(const AuditFlow& flow);
  JsonWriter& json() { return json_; }
  std::string Finish() && { return json_.Finish(); }

 private:
  JsonWriter json_;
};

// AddRuleFields writes "rule" (the deciding rule's 0-based index, or null) and "rule_text" (the
// rule in canonical form, or `no_rule_text` when a default or the gateway decided).
void AddRuleFields(JsonWriter& json, const policy::Policy& policy, const policy::Decision& decision,
                   std::string_view no_rule_text);

// FlowCloseRecord starts the "flow.close" record every allowed TCP flow ends with (callers may
// add fields before emitting it).
AuditRecord FlowCloseRecord(const AuditFlow& flow, std::string_view reason, uint64_t bytes_up,
                            uint64_t bytes_down, int64_t duration_ms);

class AuditLog {
 public:
  // Open writes to `path` (appending, created 0600), to stdout for "-", or nowhere for "".
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  bool enabled() const { return fd_ >= 0; }
  void Emit(AuditRecord&& record);
  void EmitLine(std::string line);  // `line` without its newline
  uint64_t write_errors() const { return write_errors_; }

 private:
  AuditLog(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_;
  bool owned_;
  uint64_t write_errors_ = 0;
};

}  // namespace msb::gateway
