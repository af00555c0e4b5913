// JsonWriter: appends JSON text to a string as values are written, without building a document
// first — for large responses (a 10,000-span trace) where a DOM costs more than the data.
//
// The caller writes a well-formed sequence (Key before each object member); commas are inserted
// automatically. Strings are escaped per RFC 8259 (AppendJsonString), and bytes that are not valid
// UTF-8 become \ufffd (one per maximal invalid subpart, common/utf8.h) so the output is always
// valid UTF-8 and valid JSON, whatever was stored. Doubles that are not finite are written
// as null.
//
// Threads: one writer per thread.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ariadne {

// Appends `text` as a quoted JSON string; invalid UTF-8 bytes are written as \ufffd.
void AppendJsonString(std::string& out, std::string_view text);

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  void Key(std::string_view key) {
    Separate();
    AppendString(key);
    out_->push_back(':');
    after_key_ = true;
  }

  void String(std::string_view value) {
    Separate();
    AppendString(value);
  }
  void Int(int64_t value) {
    Separate();
    char buf[24];
    out_->append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), value).ptr - buf));
  }
  void Uint(uint64_t value) {
    Separate();
    char buf[24];
    out_->append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), value).ptr - buf));
  }
  // A string known to need no escaping (plain printable ASCII without '"' or '\\'), copied as is.
  void PlainString(std::string_view value) {
    Separate();
    out_->push_back('"');
    out_->append(value);
    out_->push_back('"');
  }
  void Double(double value);
  // A double as nlohmann::json::dump writes one: the shortest digits that read back to the same
  // double, always with a '.' or an exponent ("5.0", "0.25", "1e-05", "1.5e+20"); not finite →
  // null. For responses that used to be built with nlohmann and whose clients see float types.
  void Float(double value);
  void Bool(bool value) {
    Separate();
    out_->append(value ? "true" : "false");
  }
  void Null() {
    Separate();
    out_->append("null");
  }
  // Inserts already-valid JSON text as one value. Invalid UTF-8 in it (e.g. text stored before
  // the receivers repaired strings) is replaced by U+FFFD so the output stays valid.
  void Raw(std::string_view json);

  // Convenience: Key + value.
  void Member(std::string_view key, std::string_view value) {
    Key(key);
    String(value);
  }

 private:
  void Open(char c) {
    Separate();
    out_->push_back(c);
    first_.push_back(true);
  }
  void Close(char c) {
    out_->push_back(c);
    first_.pop_back();
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_->push_back(',');
      first_.back() = false;
    }
  }
  void AppendString(std::string_view s);

  std::string* out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace ariadne
