// A small append-only JSON writer for X-Ray segment documents (not installed). The caller keeps the
// structure balanced; the writer handles commas, escaping and number formatting.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne::sdk::internal {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() {
    Separator();
    out_.push_back('{');
    first_.push_back(true);
  }
  void EndObject() {
    out_.push_back('}');
    first_.pop_back();
  }
  void BeginArray() {
    Separator();
    out_.push_back('[');
    first_.push_back(true);
  }
  void EndArray() {
    out_.push_back(']');
    first_.pop_back();
  }
  void Key(std::string_view key) {
    Separator();
    AppendString(key);
    out_.push_back(':');
    after_key_ = true;
  }
  void String(std::string_view s) {
    Separator();
    AppendString(s);
  }
  void Bool(bool b) {
    Separator();
    out_ += b ? "true" : "false";
  }
  void Int(int64_t v) {
    Separator();
    out_ += std::to_string(v);
  }
  void Double(double v, int precision = 17) {
    Separator();
    if (!std::isfinite(v)) {
      out_ += "0";
      return;
    }
    char buf[40];
    int n = std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    out_.append(buf, n);
  }
  // Epoch seconds with microsecond resolution, e.g. 1480615200.010000.
  void Seconds(uint64_t ns) {
    Separator();
    char buf[40];
    int n = std::snprintf(buf, sizeof(buf), "%llu.%06llu",
                          static_cast<unsigned long long>(ns / 1000000000ull),
                          static_cast<unsigned long long>((ns % 1000000000ull) / 1000ull));
    out_.append(buf, n);
  }

 private:
  void Separator() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_.push_back(',');
      first_.back() = false;
    }
  }
  void AppendString(std::string_view s) {
    out_.push_back('"');
    for (char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out_ += buf;
          } else {
            out_.push_back(c);
          }
      }
    }
    out_.push_back('"');
  }

  std::string& out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace ariadne::sdk::internal
