// Test helpers for the HTTP/1.1 codec (h1_test_util.h).
#include "tests/gateway/http/h1_test_util.h"

#include <algorithm>

namespace msb::gateway::http::h1test {
namespace {

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    auto u = static_cast<uint8_t>(c);
    if (u >= 0x20 && u < 0x7F && c != '\\') {
      out.push_back(c);
    } else {
      out.append("\\x").push_back(kDigits[u >> 4]);
      out.push_back(kDigits[u & 0xF]);
    }
  }
  return out;
}

const char* BodyName(BodyKind b) {
  switch (b) {
    case BodyKind::kNone:
      return "none";
    case BodyKind::kContentLength:
      return "length";
    case BodyKind::kChunked:
      return "chunked";
    case BodyKind::kUntilClose:
      return "until-close";
  }
  return "?";
}

}  // namespace

std::string DumpHeaders(const std::vector<Header>& headers) {
  std::string out;
  for (const Header& h : headers) {
    out.append(" [").append(Hex(h.name)).append("=").append(Hex(h.value)).append("]");
  }
  return out;
}

std::string Dump(const RequestHead& h) {
  return "request " + Hex(h.method) + " " + Hex(h.target) + " 1." +
         std::to_string(h.version_minor) +
         " form=" + std::to_string(static_cast<int>(h.target_form)) +
         " authority=" + Hex(h.authority) + " body=" + BodyName(h.body) + "/" +
         std::to_string(h.content_length) + " keep_alive=" + std::to_string(h.keep_alive) +
         " expect=" + std::to_string(h.expect_continue) +
         " connect=" + std::to_string(h.is_connect) + " upgrade=" + std::to_string(h.is_upgrade) +
         DumpHeaders(h.headers);
}

std::string Dump(const ResponseHead& h) {
  return "response 1." + std::to_string(h.version_minor) + " " + std::to_string(h.status) + " " +
         Hex(h.reason) + " body=" + BodyName(h.body) + "/" + std::to_string(h.content_length) +
         " keep_alive=" + std::to_string(h.keep_alive) + " interim=" + std::to_string(h.interim) +
         " tunnel=" + std::to_string(h.starts_tunnel) + DumpHeaders(h.headers);
}

void Recorder::OnRequestHead(RequestHead&& head) {
  in_body_ = false;
  log.push_back(Dump(head));
  requests.push_back(std::move(head));
}

void Recorder::OnResponseHead(ResponseHead&& head) {
  in_body_ = false;
  log.push_back(Dump(head));
  responses.push_back(std::move(head));
}

void Recorder::OnBody(std::span<const uint8_t> data) {
  std::string_view piece(reinterpret_cast<const char*>(data.data()), data.size());
  if (!in_body_) {
    in_body_ = true;
    log.emplace_back("body ");
    bodies.emplace_back();
  }
  if (keep_bodies) {
    log.back().append(Hex(piece));
    bodies.back().append(piece);
  }
  ++body_calls;
  largest_body_call = std::max(largest_body_call, data.size());
  body_bytes += data.size();
}

void Recorder::OnTrailers(std::vector<Header>&& t) {
  in_body_ = false;
  log.push_back("trailers" + DumpHeaders(t));
  trailers.push_back(std::move(t));
}

void Recorder::OnMessageEnd() {
  in_body_ = false;
  log.emplace_back("end");
  ++messages_ended;
  if (pause_parser != nullptr) {
    pause_parser->Pause();
  }
}

FeedResult FeedSplit(H1Parser* parser, std::string_view input, const std::vector<size_t>& cuts,
                     size_t* consumed, bool finish) {
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  size_t pos = 0;
  FeedResult r;
  for (size_t end : ends) {
    end = std::max(end, pos);
    while (true) {
      r = parser->Feed(Bytes(input.substr(pos, end - pos)));
      pos += r.consumed;
      if (r.status == FeedStatus::kPaused) {
        parser->Resume();
        continue;
      }
      if (r.status != FeedStatus::kNeedMore) {
        *consumed = pos;
        return r;
      }
      break;
    }
  }
  *consumed = pos;
  if (finish) {
    r = parser->Finish();
  }
  return r;
}

Outcome Run(H1Parser::Kind kind, std::string_view input, const std::vector<size_t>& cuts,
            const std::vector<std::string>& methods, bool finish) {
  Recorder rec;
  H1Parser parser(kind, &rec);
  if (kind == H1Parser::Kind::kResponse) {
    for (const std::string& m : methods) {
      bool upgrade = m == "UPGRADE";
      if (!parser.ExpectResponseTo(upgrade ? "GET" : m, upgrade)) {
        break;
      }
    }
  }
  Outcome out;
  FeedResult r = FeedSplit(&parser, input, cuts, &out.consumed, finish);
  out.status = r.status;
  out.error = r.error;
  if (r.status == FeedStatus::kError) {
    out.consumed = 0;  // unspecified on error
  }
  out.log = std::move(rec.log);
  return out;
}

H1Error RequestError(std::string_view input) {
  return Run(H1Parser::Kind::kRequest, input).error;
}

H1Error ResponseError(std::string_view input, std::string_view method) {
  return Run(H1Parser::Kind::kResponse, input, {}, {std::string(method)}).error;
}

}  // namespace msb::gateway::http::h1test
