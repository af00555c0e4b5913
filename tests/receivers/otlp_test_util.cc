#include "otlp_test_util.h"

#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace ariadne::receivers::otlp::testing {
namespace {

namespace pb_trace = ::opentelemetry::proto::trace::v1;
namespace pb_common = ::opentelemetry::proto::common::v1;

class Gen {
 public:
  Gen(uint64_t seed, const GeneratorOptions& options) : rng_(seed), options_(options) {}

  ExportTraceServiceRequest Request() {
    ExportTraceServiceRequest req;
    int resources = Int(0, 3);
    for (int r = 0; r < resources; ++r) {
      auto* rs = req.add_resource_spans();
      if (Chance(0.75)) {
        auto* res = rs->mutable_resource();
        Attributes(res->mutable_attributes(), Int(0, 4));
        if (Chance(0.3)) res->set_dropped_attributes_count(Int(1, 1000));
        if (Chance(0.1)) res->add_entity_refs()->set_type("service");
        MaybeUnknown(res);
      }
      if (Chance(0.5)) rs->set_schema_url("https://opentelemetry.io/schemas/1." + Text(2));
      int scopes = Int(0, 3);
      for (int s = 0; s < scopes; ++s) {
        auto* ss = rs->add_scope_spans();
        if (Chance(0.7)) {
          auto* scope = ss->mutable_scope();
          if (Chance(0.9)) scope->set_name(Text(12));
          if (Chance(0.6)) scope->set_version("1." + std::to_string(Int(0, 20)));
          Attributes(scope->mutable_attributes(), Int(0, 2));
          if (Chance(0.2)) scope->set_dropped_attributes_count(Int(1, 5));
          MaybeUnknown(scope);
        }
        if (Chance(0.3)) ss->set_schema_url("https://example.com/s/" + Text(3));
        int spans = Int(0, 5);
        for (int i = 0; i < spans; ++i) Span(ss->add_spans());
        MaybeUnknown(ss);
      }
      MaybeUnknown(rs);
    }
    MaybeUnknown(&req);
    return req;
  }

  void Span(pb_trace::Span* span) {
    span->set_trace_id(Id(16));
    span->set_span_id(Id(8));
    double p = Uniform();
    if (p < 0.3) {
      // root: no parent
    } else if (p < 0.4) {
      span->set_parent_span_id(std::string(8, '\0'));  // all-zero parent = root
    } else if (options_.invalid_ids && p < 0.45) {
      span->set_parent_span_id(Bytes(Int(1, 7)));
    } else {
      span->set_parent_span_id(Id(8, /*allow_invalid=*/false));
    }
    if (Chance(0.3)) span->set_trace_state("congo=t61rcWkgMzE,rojo=" + Text(4));
    if (Chance(0.95)) span->set_name(Text(20));
    span->set_kind(static_cast<pb_trace::Span::SpanKind>(Chance(0.05) ? Int(6, 9) : Int(0, 5)));
    uint64_t start = 1700000000000000000ull + static_cast<uint64_t>(Int(0, 1 << 30)) * 997;
    span->set_start_time_unix_nano(start);
    if (Chance(0.95)) span->set_end_time_unix_nano(start + static_cast<uint64_t>(Int(0, 1 << 30)));
    Attributes(span->mutable_attributes(), Int(0, 8));
    if (Chance(0.2)) span->set_dropped_attributes_count(Int(1, 100));
    int events = Chance(0.4) ? Int(1, 3) : 0;
    for (int i = 0; i < events; ++i) {
      auto* e = span->add_events();
      e->set_time_unix_nano(start + static_cast<uint64_t>(Int(0, 1000000)));
      if (Chance(0.9)) e->set_name(Text(10));
      Attributes(e->mutable_attributes(), Int(0, 3));
      if (Chance(0.2)) e->set_dropped_attributes_count(Int(1, 9));
      MaybeUnknown(e);
    }
    if (Chance(0.1)) span->set_dropped_events_count(Int(1, 50));
    int links = Chance(0.3) ? Int(1, 2) : 0;
    for (int i = 0; i < links; ++i) {
      auto* l = span->add_links();
      l->set_trace_id(Id(16, /*allow_invalid=*/Chance(0.5)));
      l->set_span_id(Id(8, /*allow_invalid=*/Chance(0.5)));
      if (Chance(0.3)) l->set_trace_state("k=" + Text(3));
      Attributes(l->mutable_attributes(), Int(0, 2));
      if (Chance(0.2)) l->set_dropped_attributes_count(Int(1, 9));
      if (Chance(0.5)) l->set_flags(static_cast<uint32_t>(Int(0, 0x3FF)));
      MaybeUnknown(l);
    }
    if (Chance(0.1)) span->set_dropped_links_count(Int(1, 50));
    if (Chance(0.6)) {
      auto* st = span->mutable_status();
      st->set_code(static_cast<pb_trace::Status::StatusCode>(Chance(0.05) ? 5 : Int(0, 2)));
      if (Chance(0.5)) st->set_message(Text(15));
      MaybeUnknown(st);
    }
    if (Chance(0.7)) span->set_flags(static_cast<uint32_t>(Chance(0.1) ? rng_() : Int(0, 0x3FF)));
    MaybeUnknown(span);
    if (options_.unknown_fields && Chance(0.15)) {
      // A known field number with the wrong wire type: libprotobuf keeps it as unknown.
      auto* unknown = span->GetReflection()->MutableUnknownFields(span);
      switch (Int(0, 3)) {
        case 0:
          unknown->AddVarint(5, 42);
          break;  // name as varint
        case 1:
          unknown->AddLengthDelimited(7, "not fixed64");
          break;  // start time as LEN
        case 2:
          unknown->AddFixed32(1, 7);
          break;  // trace id as fixed32
        default:
          unknown->AddFixed64(9, 1);
          break;  // attribute as fixed64
      }
    }
  }

  void Attributes(google::protobuf::RepeatedPtrField<KeyValue>* out, int n) {
    for (int i = 0; i < n; ++i) {
      auto* kv = out->Add();
      kv->set_key(Chance(0.5) ? Pick({"http.method", "service.name", "db.statement", "k"})
                              : Text(10));
      if (Chance(0.95)) Value(kv->mutable_value(), 0);
      if (options_.profiles_fields && Chance(0.02)) kv->set_key_strindex(Int(1, 9));
      MaybeUnknown(kv);
    }
  }

  void Value(AnyValue* v, int depth) {
    int choice = Int(0, depth < 3 ? 9 : 6);
    switch (choice) {
      case 0:
        v->set_string_value(Text(16));
        break;
      case 1:
        v->set_bool_value(Chance(0.5));
        break;
      case 2:
        v->set_int_value(Chance(0.2) ? -static_cast<int64_t>(rng_() >> 1)
                                     : static_cast<int64_t>(rng_() >> Int(1, 63)));
        break;
      case 3:
        v->set_double_value(Double());
        break;
      case 4:
        v->set_bytes_value(Bytes(Int(0, 12)));
        break;
      case 5:
        if (options_.profiles_fields && Chance(0.1)) v->set_string_value_strindex(Int(1, 5));
        break;  // otherwise empty
      case 6:
        v->set_string_value("");
        break;
      case 7: {
        auto* arr = v->mutable_array_value();
        int n = Int(0, 4);
        for (int i = 0; i < n; ++i) Value(arr->add_values(), depth + 1);
        MaybeUnknown(arr);
        break;
      }
      default: {
        auto* kvl = v->mutable_kvlist_value();
        int n = Int(0, 3);
        for (int i = 0; i < n; ++i) {
          auto* kv = kvl->add_values();
          kv->set_key(Text(6));
          if (Chance(0.9)) Value(kv->mutable_value(), depth + 1);
        }
        break;
      }
    }
    MaybeUnknown(v);
  }

  // Unknown field numbers (100+) of every wire type libprotobuf keeps, groups excluded.
  void MaybeUnknown(google::protobuf::Message* m) {
    if (!options_.unknown_fields || !Chance(0.1)) return;
    auto* unknown = m->GetReflection()->MutableUnknownFields(m);
    int n = Int(1, 3);
    for (int i = 0; i < n; ++i) {
      int number = Int(100, 5000);
      switch (Int(0, 3)) {
        case 0:
          unknown->AddVarint(number, rng_() >> Int(0, 63));
          break;
        case 1:
          unknown->AddFixed32(number, static_cast<uint32_t>(rng_()));
          break;
        case 2:
          unknown->AddFixed64(number, rng_());
          break;
        default:
          unknown->AddLengthDelimited(number, Bytes(Int(0, 20)));
          break;
      }
    }
  }

  std::string Id(size_t size, bool allow_invalid = true) {
    if (allow_invalid && options_.invalid_ids && Chance(0.06)) {
      if (Chance(0.5)) return std::string(size, '\0');  // all zero
      static const int kWrong[] = {0, 1, 7, 9, 15, 17, 32};
      size_t n;
      do n = kWrong[Int(0, 6)];
      while (n == size);
      return Bytes(n);
    }
    std::string id = Bytes(size);
    id[Int(0, static_cast<int>(size) - 1)] = static_cast<char>(Int(1, 255));  // never all zero
    return id;
  }

  std::string Bytes(int n) {
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rng_());
    return out;
  }

  // Valid UTF-8 with characters that need JSON escaping.
  std::string Text(int max_pieces) {
    static const char* kPieces[] = {"a",
                                    "b",
                                    "z",
                                    "Q",
                                    "0",
                                    "7",
                                    " ",
                                    "-",
                                    "/",
                                    ".",
                                    "_",
                                    "\"",
                                    "\\",
                                    "\n",
                                    "\t",
                                    "\x01",
                                    "\x1f",
                                    "\xc3\xa9",
                                    "\xe6\x97\xa5",
                                    "\xf0\x9f\x99\x82",
                                    "{",
                                    "}",
                                    ","};
    std::string out;
    int n = Int(0, max_pieces);
    for (int i = 0; i < n; ++i) {
      out += Chance(0.7) ? kPieces[Int(0, 9)] : kPieces[Int(0, 22)];
    }
    return out;
  }

  double Double() {
    switch (Int(0, 7)) {
      case 0:
        return std::numeric_limits<double>::quiet_NaN();
      case 1:
        return std::numeric_limits<double>::infinity();
      case 2:
        return -std::numeric_limits<double>::infinity();
      case 3:
        return static_cast<double>(Int(-1000, 1000));
      case 4:
        return 0.1 * Int(-100, 100);
      case 5:
        return std::ldexp(Uniform(), Int(-1000, 1000));
      default:
        return Uniform() * 1e6 - 5e5;
    }
  }

  const char* Pick(std::initializer_list<const char*> options) {
    return options.begin()[Int(0, static_cast<int>(options.size()) - 1)];
  }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return Uniform() < p; }

 private:
  std::mt19937_64 rng_;
  GeneratorOptions options_;
};

// --- independent expectations ---

bool AllZero(const std::string& s) { return s.find_first_not_of('\0') == std::string::npos; }

bool SpanIdsValid(const pb_trace::Span& span) {
  if (span.trace_id().size() != 16 || AllZero(span.trace_id())) return false;
  if (span.span_id().size() != 8 || AllZero(span.span_id())) return false;
  return span.parent_span_id().empty() || span.parent_span_id().size() == 8;
}

bool LinkIdsValid(const pb_trace::Span::Link& link) {
  return link.trace_id().size() == 16 && !AllZero(link.trace_id()) && link.span_id().size() == 8 &&
         !AllZero(link.span_id());
}

void QuoteJson(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out += kAlphabet[(v >> (6 * k)) & 63];
  }
  if (in.size() - i == 1) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string Unbase64(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      continue;
    acc = acc << 6 | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string Hex(const std::string& bytes, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

void RenderExpected(const AnyValue& v, std::string& out) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      QuoteJson(out, v.string_value());
      break;
    case AnyValue::kBoolValue:
      out += v.bool_value() ? "true" : "false";
      break;
    case AnyValue::kIntValue:
      out += std::to_string(v.int_value());
      break;
    case AnyValue::kDoubleValue: {
      double d = v.double_value();
      if (std::isnan(d)) {
        out += "\"NaN\"";
      } else if (std::isinf(d)) {
        out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      } else {
        char buf[64];
        auto res = std::to_chars(buf, buf + sizeof(buf), d);
        out.append(buf, res.ptr);
      }
      break;
    }
    case AnyValue::kBytesValue:
      out += "\"" + Base64(v.bytes_value()) + "\"";
      break;
    case AnyValue::kArrayValue: {
      out += '[';
      for (int i = 0; i < v.array_value().values_size(); ++i) {
        if (i) out += ',';
        RenderExpected(v.array_value().values(i), out);
      }
      out += ']';
      break;
    }
    case AnyValue::kKvlistValue: {
      out += '{';
      for (int i = 0; i < v.kvlist_value().values_size(); ++i) {
        if (i) out += ',';
        const auto& kv = v.kvlist_value().values(i);
        QuoteJson(out, kv.key());
        out += ':';
        RenderExpected(kv.value(), out);
      }
      out += '}';
      break;
    }
    default:
      out += "null";
      break;
  }
}

void ExpectValue(const AnyValue& expected, const model::Value& actual, const std::string& where) {
  using model::ValueType;
  switch (expected.value_case()) {
    case AnyValue::kStringValue:
      EXPECT_EQ(actual.type, ValueType::kString) << where;
      EXPECT_EQ(actual.str, expected.string_value()) << where;
      break;
    case AnyValue::kBoolValue:
      ASSERT_EQ(actual.type, ValueType::kBool) << where;
      EXPECT_EQ(actual.bool_value, expected.bool_value()) << where;
      break;
    case AnyValue::kIntValue:
      ASSERT_EQ(actual.type, ValueType::kInt) << where;
      EXPECT_EQ(actual.int_value, expected.int_value()) << where;
      break;
    case AnyValue::kDoubleValue:
      ASSERT_EQ(actual.type, ValueType::kDouble) << where;
      if (std::isnan(expected.double_value())) {
        EXPECT_TRUE(std::isnan(actual.double_value)) << where;
      } else {
        EXPECT_EQ(actual.double_value, expected.double_value()) << where;
      }
      break;
    case AnyValue::kBytesValue:
      EXPECT_EQ(actual.type, ValueType::kBytes) << where;
      EXPECT_EQ(actual.str, expected.bytes_value()) << where;
      break;
    case AnyValue::kArrayValue:
      EXPECT_EQ(actual.type, ValueType::kArray) << where;
      EXPECT_EQ(actual.str, ExpectedValueJson(expected)) << where;
      break;
    case AnyValue::kKvlistValue:
      EXPECT_EQ(actual.type, ValueType::kKvList) << where;
      EXPECT_EQ(actual.str, ExpectedValueJson(expected)) << where;
      break;
    default:  // unset or Profiles-only strindex
      EXPECT_EQ(actual.type, ValueType::kEmpty) << where;
      break;
  }
}

void ExpectAttributes(const google::protobuf::RepeatedPtrField<KeyValue>& expected,
                      const model::SpanBatch& batch, model::Range range, const std::string& where) {
  ASSERT_EQ(range.count, static_cast<uint32_t>(expected.size())) << where << " attribute count";
  ASSERT_LE(range.end(), batch.attributes.size()) << where;
  for (int i = 0; i < expected.size(); ++i) {
    const model::KeyValue& kv = batch.attributes[range.begin + i];
    std::string at = where + " attribute " + std::to_string(i);
    EXPECT_EQ(kv.key, expected[i].key()) << at;
    ExpectValue(expected[i].value(), kv.value, at);
  }
}

template <typename Id>
std::string IdBytes(const Id& id) {
  return std::string(id.AsStringView());
}

}  // namespace

ExportTraceServiceRequest RandomRequest(uint64_t seed, const GeneratorOptions& options) {
  return Gen(seed, options).Request();
}

std::string ExpectedValueJson(const AnyValue& value) {
  std::string out;
  RenderExpected(value, out);
  return out;
}

ExportTraceServiceRequest RealisticRequest() {
  ExportTraceServiceRequest req;
  auto add_str = [](auto* attrs, const std::string& k, const std::string& v) {
    auto* kv = attrs->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  };
  auto* rs = req.add_resource_spans();
  rs->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  auto* res = rs->mutable_resource();
  add_str(res->mutable_attributes(), "service.name", "backend-flask");
  add_str(res->mutable_attributes(), "telemetry.sdk.language", "python");
  auto* pid = res->add_attributes();
  pid->set_key("process.pid");
  pid->mutable_value()->set_int_value(4242);
  res->set_dropped_attributes_count(1);
  auto* ss = rs->add_scope_spans();
  ss->set_schema_url("https://opentelemetry.io/schemas/1.20.0");
  auto* scope = ss->mutable_scope();
  scope->set_name("opentelemetry.instrumentation.flask");
  scope->set_version("0.41b0");
  add_str(scope->mutable_attributes(), "scope.attr", "yes");
  scope->set_dropped_attributes_count(2);
  const std::string trace_id("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c",
                             16);
  for (int i = 0; i < 4; ++i) {
    auto* span = ss->add_spans();
    span->set_trace_id(trace_id);
    span->set_span_id(std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1", 7) + static_cast<char>(0x70 + i));
    if (i > 0) span->set_parent_span_id(std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x70", 8));
    span->set_trace_state("rojo=00f067aa0ba902b7");
    span->set_name(i == 0 ? "GET /api/activities/home"
                          : "db.query \"select\" #" + std::to_string(i));
    span->set_kind(i == 0 ? pb_trace::Span::SPAN_KIND_SERVER : pb_trace::Span::SPAN_KIND_CLIENT);
    span->set_start_time_unix_nano(1544712660000000000ull + i * 1000);
    span->set_end_time_unix_nano(1544712661000000000ull + i * 1000);
    add_str(span->mutable_attributes(), "http.method", "GET");
    add_str(span->mutable_attributes(), "http.url", "https://example.com/api?q=\"x\"\n");
    auto* code = span->add_attributes();
    code->set_key("http.status_code");
    code->mutable_value()->set_int_value(-200 + 400 * (i % 2));
    auto* ok = span->add_attributes();
    ok->set_key("ok");
    ok->mutable_value()->set_bool_value(i % 2 == 0);
    auto* ratio = span->add_attributes();
    ratio->set_key("ratio");
    ratio->mutable_value()->set_double_value(0.25 * i);
    auto* raw = span->add_attributes();
    raw->set_key("raw");
    raw->mutable_value()->set_bytes_value(std::string("\x00\xff\x10", 3));
    auto* arr = span->add_attributes();
    arr->set_key("tags");
    auto* av = arr->mutable_value()->mutable_array_value();
    av->add_values()->set_string_value("a");
    av->add_values()->set_int_value(1);
    av->add_values()->set_bool_value(true);
    auto* nested = av->add_values()->mutable_kvlist_value()->add_values();
    nested->set_key("k");
    nested->mutable_value()->set_string_value("v");
    auto* empty = span->add_attributes();
    empty->set_key("empty");
    empty->mutable_value();
    span->set_dropped_attributes_count(3);
    auto* ev = span->add_events();
    ev->set_time_unix_nano(1544712660500000000ull);
    ev->set_name("exception");
    add_str(ev->mutable_attributes(), "exception.message", "boom");
    ev->set_dropped_attributes_count(1);
    span->set_dropped_events_count(4);
    auto* link = span->add_links();
    link->set_trace_id(std::string(15, '\x11') + "\x12");
    link->set_span_id(std::string(7, '\x22') + "\x23");
    link->set_trace_state("link=1");
    add_str(link->mutable_attributes(), "link.kind", "follows");
    link->set_dropped_attributes_count(5);
    link->set_flags(0x301);
    span->set_dropped_links_count(6);
    span->mutable_status()->set_code(i == 3 ? pb_trace::Status::STATUS_CODE_ERROR
                                            : pb_trace::Status::STATUS_CODE_OK);
    if (i == 3) span->mutable_status()->set_message("upstream timed out");
    span->set_flags(0x101);
  }
  // A resource without a Resource message, with one scope without an InstrumentationScope.
  auto* bare = req.add_resource_spans()->add_scope_spans()->add_spans();
  bare->set_trace_id(std::string(16, '\x01'));
  bare->set_span_id(std::string(8, '\x02'));
  bare->set_name("bare");
  // And a second scope under it with a span that has only ids.
  auto* second = req.mutable_resource_spans(1)->add_scope_spans();
  second->mutable_scope()->set_name("second");
  auto* minimal = second->add_spans();
  minimal->set_trace_id(std::string(16, '\x03'));
  minimal->set_span_id(std::string(8, '\x04'));
  return req;
}

void ExpectMatches(const ExportTraceServiceRequest& expected, const DecodedRequest& decoded,
                   const std::string& context) {
  const model::SpanBatch& batch = decoded.batch;
  ASSERT_EQ(batch.resources.size(), static_cast<size_t>(expected.resource_spans_size())) << context;
  size_t scope_index = 0, span_index = 0;
  uint64_t rejected = 0;
  for (int r = 0; r < expected.resource_spans_size(); ++r) {
    const auto& rs = expected.resource_spans(r);
    const model::Resource& resource = batch.resources[r];
    std::string rwhere = context + " resource " + std::to_string(r);
    ExpectAttributes(rs.resource().attributes(), batch, resource.attributes, rwhere);
    EXPECT_EQ(resource.dropped_attributes_count, rs.resource().dropped_attributes_count())
        << rwhere;
    EXPECT_EQ(resource.schema_url, rs.schema_url()) << rwhere;
    for (const auto& ss : rs.scope_spans()) {
      ASSERT_LT(scope_index, batch.scopes.size()) << rwhere;
      const model::Scope& scope = batch.scopes[scope_index];
      std::string swhere = context + " scope " + std::to_string(scope_index);
      EXPECT_EQ(scope.name, ss.scope().name()) << swhere;
      EXPECT_EQ(scope.version, ss.scope().version()) << swhere;
      EXPECT_EQ(scope.schema_url, ss.schema_url()) << swhere;
      EXPECT_EQ(scope.dropped_attributes_count, ss.scope().dropped_attributes_count()) << swhere;
      ExpectAttributes(ss.scope().attributes(), batch, scope.attributes, swhere);
      for (const auto& pspan : ss.spans()) {
        if (!SpanIdsValid(pspan)) {
          ++rejected;
          continue;
        }
        ASSERT_LT(span_index, batch.spans.size()) << context << " too few spans";
        const model::Span& span = batch.spans[span_index];
        std::string where = context + " span " + std::to_string(span_index);
        EXPECT_EQ(span.resource_index, static_cast<uint32_t>(r)) << where;
        EXPECT_EQ(span.scope_index, scope_index) << where;
        EXPECT_EQ(IdBytes(span.trace_id), pspan.trace_id()) << where;
        EXPECT_EQ(IdBytes(span.span_id), pspan.span_id()) << where;
        EXPECT_EQ(IdBytes(span.parent_span_id),
                  pspan.parent_span_id().empty() ? std::string(8, '\0') : pspan.parent_span_id())
            << where;
        EXPECT_EQ(span.trace_state, pspan.trace_state()) << where;
        EXPECT_EQ(span.name, pspan.name()) << where;
        int kind = pspan.kind();
        EXPECT_EQ(static_cast<int>(span.kind), kind >= 0 && kind <= 5 ? kind : 0) << where;
        int code = pspan.status().code();
        EXPECT_EQ(static_cast<int>(span.status_code), code >= 0 && code <= 2 ? code : 0) << where;
        EXPECT_EQ(span.status_message, pspan.status().message()) << where;
        EXPECT_EQ(span.start_time_unix_nano, pspan.start_time_unix_nano()) << where;
        EXPECT_EQ(span.end_time_unix_nano, pspan.end_time_unix_nano()) << where;
        EXPECT_EQ(span.flags, pspan.flags()) << where;
        EXPECT_EQ(span.dropped_attributes_count, pspan.dropped_attributes_count()) << where;
        EXPECT_EQ(span.dropped_events_count, pspan.dropped_events_count()) << where;
        ExpectAttributes(pspan.attributes(), batch, span.attributes, where);
        ASSERT_EQ(span.events.count, static_cast<uint32_t>(pspan.events_size())) << where;
        ASSERT_LE(span.events.end(), batch.events.size()) << where;
        for (int e = 0; e < pspan.events_size(); ++e) {
          const auto& pe = pspan.events(e);
          const model::Event& event = batch.events[span.events.begin + e];
          std::string ewhere = where + " event " + std::to_string(e);
          EXPECT_EQ(event.time_unix_nano, pe.time_unix_nano()) << ewhere;
          EXPECT_EQ(event.name, pe.name()) << ewhere;
          EXPECT_EQ(event.dropped_attributes_count, pe.dropped_attributes_count()) << ewhere;
          ExpectAttributes(pe.attributes(), batch, event.attributes, ewhere);
        }
        uint32_t bad_links = 0;
        uint32_t link_out = 0;
        for (int l = 0; l < pspan.links_size(); ++l) {
          const auto& pl = pspan.links(l);
          if (!LinkIdsValid(pl)) {
            ++bad_links;
            continue;
          }
          ASSERT_LT(link_out, span.links.count) << where;
          const model::Link& link = batch.links[span.links.begin + link_out++];
          std::string lwhere = where + " link " + std::to_string(l);
          EXPECT_EQ(IdBytes(link.trace_id), pl.trace_id()) << lwhere;
          EXPECT_EQ(IdBytes(link.span_id), pl.span_id()) << lwhere;
          EXPECT_EQ(link.trace_state, pl.trace_state()) << lwhere;
          EXPECT_EQ(link.flags, pl.flags()) << lwhere;
          EXPECT_EQ(link.dropped_attributes_count, pl.dropped_attributes_count()) << lwhere;
          ExpectAttributes(pl.attributes(), batch, link.attributes, lwhere);
        }
        EXPECT_EQ(span.links.count, link_out) << where;
        EXPECT_EQ(span.dropped_links_count, pspan.dropped_links_count() + bad_links) << where;
        ++span_index;
      }
      ++scope_index;
    }
  }
  EXPECT_EQ(batch.scopes.size(), scope_index) << context;
  EXPECT_EQ(batch.spans.size(), span_index) << context;
  EXPECT_EQ(decoded.rejected_spans, rejected) << context;
  EXPECT_EQ(decoded.rejection_message.empty(), rejected == 0) << context;
}

std::string ToOtlpJson(const ExportTraceServiceRequest& request, bool enum_names,
                       bool uppercase_ids) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = !enum_names;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(request, &json, options);
  EXPECT_TRUE(status.ok()) << status.ToString();
  nlohmann::json doc = nlohmann::json::parse(json);
  // OTLP: ids are hex, not base64.
  std::function<void(nlohmann::json&)> patch = [&](nlohmann::json& node) {
    if (node.is_object()) {
      for (auto& [key, value] : node.items()) {
        if ((key == "traceId" || key == "spanId" || key == "parentSpanId") && value.is_string()) {
          value = Hex(Unbase64(value.get<std::string>()), uppercase_ids);
        } else {
          patch(value);
        }
      }
    } else if (node.is_array()) {
      for (auto& element : node) patch(element);
    }
  };
  patch(doc);
  return doc.dump();
}

void ExpectStructurallySound(const model::SpanBatch& batch) {
  auto range_ok = [](model::Range r, size_t size) { return r.end() <= size && r.begin <= size; };
  for (const auto& r : batch.resources) {
    EXPECT_TRUE(range_ok(r.attributes, batch.attributes.size()));
  }
  for (const auto& s : batch.scopes) EXPECT_TRUE(range_ok(s.attributes, batch.attributes.size()));
  for (const auto& e : batch.events) EXPECT_TRUE(range_ok(e.attributes, batch.attributes.size()));
  for (const auto& l : batch.links) EXPECT_TRUE(range_ok(l.attributes, batch.attributes.size()));
  for (const auto& span : batch.spans) {
    EXPECT_LT(span.resource_index, batch.resources.size());
    EXPECT_LT(span.scope_index, batch.scopes.size());
    EXPECT_TRUE(range_ok(span.attributes, batch.attributes.size()));
    EXPECT_TRUE(range_ok(span.events, batch.events.size()));
    EXPECT_TRUE(range_ok(span.links, batch.links.size()));
    EXPECT_FALSE(span.trace_id.IsZero());
    EXPECT_FALSE(span.span_id.IsZero());
  }
}

}  // namespace ariadne::receivers::otlp::testing
