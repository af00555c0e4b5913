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
#include <type_traits>

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

// A string literal. Literals have static storage duration, so a span may keep the pointer instead
// of copying the characters; the consteval constructor rejects anything that is not a constant
// (a runtime char array does not compile: pass std::string_view(buf) for those).
class LiteralString {
 public:
  template <size_t N>
  consteval LiteralString(const char (&s)[N]) : data_(s), size_(N - 1) {}  // NOLINT: implicit
  constexpr std::string_view view() const { return {data_, size_}; }

 private:
  const char* data_;
  size_t size_;
};

// Keys and names that are not literals (std::string, std::string_view, const char*): copied.
template <typename K>
concept RuntimeString = std::convertible_to<const K&, std::string_view> && !std::is_array_v<K>;

// One attribute as passed to the API (borrowed key and value).
struct KeyValueArg {
  std::string_view key;
  AttributeValue value;
};

}  // namespace ariadne::sdk
