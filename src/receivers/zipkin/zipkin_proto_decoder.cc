// Zipkin v2 protobuf (zipkin.proto3 ListOfSpans, as `POST /api/v2/spans` with
// `Content-Type: application/x-protobuf` carries it) → ParsedSpan → SpanMapper, so both encodings
// map alike. Field numbers are those of the public zipkin-api proto definition:
//
//   ListOfSpans { repeated Span spans = 1 }
//   Span { bytes trace_id = 1; bytes parent_id = 2; bytes id = 3; Kind kind = 4; string name = 5;
//          fixed64 timestamp = 6; uint64 duration = 7; Endpoint local_endpoint = 8;
//          Endpoint remote_endpoint = 9; repeated Annotation annotations = 10;
//          map<string, string> tags = 11; bool debug = 12; bool shared = 13 }
//   Endpoint { string service_name = 1; bytes ipv4 = 2; bytes ipv6 = 3; int32 port = 4 }
//   Annotation { fixed64 timestamp = 1; string value = 2 }
//   Kind: 0 unspecified, 1 CLIENT, 2 SERVER, 3 PRODUCER, 4 CONSUMER
//
// The walk is zero-copy (strings point into the body until SpanMapper copies them). A Span whose
// bytes do not parse is left out and counted; only a ListOfSpans that does not parse fails as a
// whole. Unknown fields are skipped, as protobuf requires.
#include <arpa/inet.h>

#include <cstring>
#include <deque>
#include <string>
#include <string_view>

#include "receivers/zipkin/zipkin_decoder.h"
#include "receivers/zipkin/zipkin_span_mapper.h"

namespace ariadne::receivers::zipkin {
namespace {

using internal::Annotation;
using internal::Endpoint;
using internal::kMaxMicros;
using internal::ParsedSpan;
using internal::SpanMapper;
using internal::Tag;

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// A forward-only reader over one message's bytes.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : data_(bytes) {}

  bool done() const { return pos_ >= data_.size(); }
  size_t position() const { return pos_; }

  bool Varint(uint64_t* out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *out = value;
        return true;
      }
    }
    return false;
  }

  bool Fixed64(uint64_t* out) {
    if (data_.size() - pos_ < 8) return false;
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) {
      value = value << 8 | static_cast<uint8_t>(data_[pos_ + static_cast<size_t>(i)]);
    }
    pos_ += 8;
    *out = value;
    return true;
  }

  bool Bytes(std::string_view* out) {
    uint64_t length = 0;
    if (!Varint(&length) || length > data_.size() - pos_) return false;
    *out = data_.substr(pos_, length);
    pos_ += length;
    return true;
  }

  // The next tag: field number and wire type.
  bool Tag(uint32_t* field, uint32_t* wire) {
    uint64_t tag = 0;
    if (!Varint(&tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *wire = static_cast<uint32_t>(tag & 7);
    return true;
  }

  // Skips a field of `wire` type (groups are not valid in proto3 and fail).
  bool Skip(uint32_t wire) {
    uint64_t ignored = 0;
    std::string_view bytes;
    switch (wire) {
      case kVarint:
        return Varint(&ignored);
      case kFixed64:
        return Fixed64(&ignored);
      case kLengthDelimited:
        return Bytes(&bytes);
      case kFixed32:
        if (data_.size() - pos_ < 4) return false;
        pos_ += 4;
        return true;
      default:
        return false;
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Reads one field of the expected wire type; anything else is skipped as an unknown field would
// be (a known field number with another wire type is treated as unknown, like protobuf does).
class SpanReader {
 public:
  // Formatted IP addresses live here until the span has been mapped.
  explicit SpanReader(std::deque<std::string>* text) : text_(*text) {}

  bool Parse(std::string_view bytes, ParsedSpan* span, std::string* reason) {
    Reader r(bytes);
    std::string_view trace_id, id, parent_id;
    bool has_trace_id = false, has_id = false;
    uint64_t timestamp_micros = 0, duration_micros = 0, kind = 0;
    while (!r.done()) {
      uint32_t field = 0, wire = 0;
      if (!r.Tag(&field, &wire)) return Malformed(reason);
      bool ok = true;
      if (field == 1 && wire == kLengthDelimited) {
        ok = r.Bytes(&trace_id);
        has_trace_id = true;
      } else if (field == 2 && wire == kLengthDelimited) {
        ok = r.Bytes(&parent_id);
      } else if (field == 3 && wire == kLengthDelimited) {
        ok = r.Bytes(&id);
        has_id = true;
      } else if (field == 4 && wire == kVarint) {
        ok = r.Varint(&kind);
      } else if (field == 5 && wire == kLengthDelimited) {
        ok = r.Bytes(&span->name);
      } else if (field == 6 && wire == kFixed64) {
        ok = r.Fixed64(&timestamp_micros);
      } else if (field == 7 && wire == kVarint) {
        ok = r.Varint(&duration_micros);
      } else if ((field == 8 || field == 9) && wire == kLengthDelimited) {
        std::string_view endpoint_bytes;
        ok = r.Bytes(&endpoint_bytes);
        auto& endpoint = field == 8 ? span->local : span->remote;
        endpoint.emplace();
        if (ok && !ParseEndpoint(endpoint_bytes, field == 8 ? "local_endpoint" : "remote_endpoint",
                                 &*endpoint, reason)) {
          return false;
        }
      } else if (field == 10 && wire == kLengthDelimited) {
        std::string_view annotation_bytes;
        ok = r.Bytes(&annotation_bytes);
        if (ok) ParseAnnotation(annotation_bytes, span);
      } else if (field == 11 && wire == kLengthDelimited) {
        std::string_view entry;
        ok = r.Bytes(&entry);
        if (ok && !ParseTag(entry, span)) {
          *reason = "a tags entry is not a string → string pair";
          return false;
        }
      } else if (field == 13 && wire == kVarint) {
        uint64_t shared = 0;
        ok = r.Varint(&shared);
        span->shared = shared != 0;
      } else {
        ok = r.Skip(wire);  // debug (12) and fields this decoder does not know
      }
      if (!ok) return Malformed(reason);
    }

    if (!has_trace_id || (trace_id.size() != 8 && trace_id.size() != 16)) {
      *reason = "trace_id must be 8 or 16 bytes, got " + std::to_string(trace_id.size());
      return false;
    }
    std::memcpy(span->trace_id.bytes.data() + (16 - trace_id.size()), trace_id.data(),
                trace_id.size());
    if (span->trace_id.IsZero()) {
      *reason = "trace_id must not be all zero";
      return false;
    }
    if (!has_id || id.size() != 8) {
      *reason = "id must be 8 bytes, got " + std::to_string(id.size());
      return false;
    }
    std::memcpy(span->span_id.bytes.data(), id.data(), 8);
    if (span->span_id.IsZero()) {
      *reason = "id must not be all zero";
      return false;
    }
    if (!parent_id.empty()) {
      if (parent_id.size() != 8) {
        *reason = "parent_id must be 8 bytes, got " + std::to_string(parent_id.size());
        return false;
      }
      model::SpanId parent;
      std::memcpy(parent.bytes.data(), parent_id.data(), 8);
      if (parent != span->span_id) span->parent_span_id = parent;
    }
    switch (kind) {
      case 0:
        break;
      case 1:
        span->kind = model::SpanKind::kClient;
        break;
      case 2:
        span->kind = model::SpanKind::kServer;
        break;
      case 3:
        span->kind = model::SpanKind::kProducer;
        break;
      case 4:
        span->kind = model::SpanKind::kConsumer;
        break;
      default:
        *reason =
            "kind must be 0 to 4 (CLIENT, SERVER, PRODUCER, CONSUMER), got " + std::to_string(kind);
        return false;
    }
    if (timestamp_micros == 0 || timestamp_micros > static_cast<uint64_t>(kMaxMicros)) {
      *reason = "timestamp (epoch microseconds) is required";
      return false;
    }
    span->start_unix_nano = timestamp_micros * 1000;
    if (duration_micros > static_cast<uint64_t>(kMaxMicros) ||
        duration_micros * 1000 > UINT64_MAX - span->start_unix_nano) {
      *reason = "duration must be a number of microseconds that ends before the year 2554";
      return false;
    }
    span->duration_nano = duration_micros * 1000;
    return true;
  }

 private:
  static bool Malformed(std::string* reason) {
    *reason = "the Span message is not valid protobuf (truncated or a bad length)";
    return false;
  }

  bool ParseEndpoint(std::string_view bytes, const char* name, Endpoint* out, std::string* reason) {
    Reader r(bytes);
    while (!r.done()) {
      uint32_t field = 0, wire = 0;
      if (!r.Tag(&field, &wire)) return Malformed(reason);
      bool ok = true;
      std::string_view ip;
      if (field == 1 && wire == kLengthDelimited) {
        ok = r.Bytes(&out->service_name);
      } else if ((field == 2 || field == 3) && wire == kLengthDelimited) {
        ok = r.Bytes(&ip);
        const size_t want = field == 2 ? 4 : 16;
        if (ok && !ip.empty()) {
          if (ip.size() != want) {
            *reason = std::string(name) +
                      (field == 2 ? ".ipv4 must be 4 bytes" : ".ipv6 must be 16 bytes");
            return false;
          }
          char buffer[INET6_ADDRSTRLEN] = {};
          inet_ntop(field == 2 ? AF_INET : AF_INET6, ip.data(), buffer, sizeof(buffer));
          text_.emplace_back(buffer);
          (field == 2 ? out->ipv4 : out->ipv6) = text_.back();
        }
      } else if (field == 4 && wire == kVarint) {
        uint64_t port = 0;
        ok = r.Varint(&port);
        if (ok && port > 65535) {
          *reason = std::string(name) + ".port must be from 0 to 65535";
          return false;
        }
        out->port = static_cast<int64_t>(port);
      } else {
        ok = r.Skip(wire);
      }
      if (!ok) return Malformed(reason);
    }
    return true;
  }

  // A bad annotation is dropped and counted, as in JSON.
  static void ParseAnnotation(std::string_view bytes, ParsedSpan* span) {
    Reader r(bytes);
    uint64_t micros = 0;
    std::string_view value;
    bool has_value = false;
    while (!r.done()) {
      uint32_t field = 0, wire = 0;
      bool ok = r.Tag(&field, &wire);
      if (ok && field == 1 && wire == kFixed64) {
        ok = r.Fixed64(&micros);
      } else if (ok && field == 2 && wire == kLengthDelimited) {
        ok = r.Bytes(&value);
        has_value = ok;
      } else if (ok) {
        ok = r.Skip(wire);
      }
      if (!ok) {
        ++span->dropped_annotations;
        return;
      }
    }
    if (!has_value || micros == 0 || micros > static_cast<uint64_t>(kMaxMicros)) {
      ++span->dropped_annotations;
      return;
    }
    span->annotations.push_back(Annotation{micros * 1000, value});
  }

  // One map<string, string> entry: key = 1, value = 2.
  static bool ParseTag(std::string_view bytes, ParsedSpan* span) {
    Reader r(bytes);
    std::string_view key, value;
    while (!r.done()) {
      uint32_t field = 0, wire = 0;
      if (!r.Tag(&field, &wire)) return false;
      bool ok = true;
      if (field == 1 && wire == kLengthDelimited) {
        ok = r.Bytes(&key);
      } else if (field == 2 && wire == kLengthDelimited) {
        ok = r.Bytes(&value);
      } else {
        ok = r.Skip(wire);
      }
      if (!ok) return false;
    }
    span->tags.push_back(Tag{key, model::Value::String(value)});
    return true;
  }

  std::deque<std::string>& text_;
};

}  // namespace

Result<DecodedSpans> DecodeZipkinProto3(std::string_view body) {
  DecodedSpans out;
  SpanMapper mapper(&out.batch, /*check_all_utf8=*/true);
  Reader list(body);
  size_t ordinal = 0;
  while (!list.done()) {
    uint32_t field = 0, wire = 0;
    const size_t at = list.position();
    std::string_view span_bytes;
    bool ok = list.Tag(&field, &wire);
    if (ok && field == 1 && wire == kLengthDelimited) {
      ok = list.Bytes(&span_bytes);
      if (ok) {
        std::deque<std::string> text;  // outlives the Emit below
        SpanReader reader(&text);
        ParsedSpan span;
        std::string reason;
        if (reader.Parse(span_bytes, &span, &reason)) {
          mapper.Emit(span);
        } else {
          mapper.Reject(ordinal, reason);
        }
        ++ordinal;
      }
    } else if (ok) {
      ok = list.Skip(wire);
    }
    if (!ok) {
      return Status::InvalidArgument(
          "the body is not a protobuf zipkin.proto3.ListOfSpans (it stops making sense at byte " +
          std::to_string(at) +
          "); send ListOfSpans with Content-Type: application/x-protobuf, or JSON v2 with "
          "Content-Type: application/json");
    }
  }
  out.rejected_spans = mapper.rejected();
  out.rejection_message = mapper.RejectionMessage();
  out.invalid_utf8_replaced = mapper.invalid_utf8_replaced();
  return out;
}

}  // namespace ariadne::receivers::zipkin
