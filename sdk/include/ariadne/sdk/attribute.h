// AttributeValue: a typed attribute value (string, bool, int64, double) as accepted by the span API
// and as stored in finished spans.
//
// Ownership: an AttributeValue that holds a string *borrows* it (a string_view). The span API
// copies the characters into the span's own storage before it returns, so callers may pass
// temporaries. Values read back from a finished SpanData point into that SpanData and live as long
// as it does.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace ariadne::sdk {

enum class AttributeType : uint8_t { kString, kBool, kInt64, kDouble };

class AttributeValue {
 public:
  AttributeValue() : type_(AttributeType::kString), str_{"", 0} {}
  AttributeValue(bool v) : type_(AttributeType::kBool), b_(v) {}  // NOLINT: implicit on purpose
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) AttributeValue(T v)
      : type_(AttributeType::kInt64), i_(static_cast<int64_t>(v)) {}  // NOLINT
  template <std::floating_point T>
  AttributeValue(T v) : type_(AttributeType::kDouble), d_(static_cast<double>(v)) {}  // NOLINT
  AttributeValue(std::string_view v)                                                  // NOLINT
      : type_(AttributeType::kString), str_{v.data(), static_cast<uint32_t>(v.size())} {}
  AttributeValue(const char* v) : AttributeValue(std::string_view(v)) {}         // NOLINT
  AttributeValue(const std::string& v) : AttributeValue(std::string_view(v)) {}  // NOLINT

  AttributeType type() const { return type_; }
  bool is_string() const { return type_ == AttributeType::kString; }
  std::string_view string_value() const { return {str_.data, str_.size}; }
  bool bool_value() const { return b_; }
  int64_t int_value() const { return i_; }
  double double_value() const { return d_; }

  // Human-readable rendering (for X-Ray annotations and debugging).
  std::string ToString() const;

  friend bool operator==(const AttributeValue& a, const AttributeValue& b);

 private:
  friend class SpanData;
  struct StrRef {
    const char* data;
    uint32_t size;
  };
  AttributeType type_;
  union {
    bool b_;
    int64_t i_;
    double d_;
    StrRef str_;
  };
};

// One attribute as passed to the API (borrowed key and value).
struct KeyValueArg {
  std::string_view key;
  AttributeValue value;
};

}  // namespace ariadne::sdk
