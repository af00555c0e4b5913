#include "api/xray/request_fields.h"

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "common/time_units.h"

namespace ariadne::api::xray {

void Invalid(const std::string& message) { throw ApiError{400, kInvalidRequest, message}; }

void ThrowStatus(const Status& status, const char* limit_code) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
      throw ApiError{400, kInvalidRequest, std::string(status.message())};
    case StatusCode::kResourceExhausted:
      throw ApiError{400, limit_code, std::string(status.message())};
    default:
      throw ApiError{500, "InternalFailure", std::string(status.message())};
  }
}

const json* Member(const json& j, const std::string& field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> OptString(const json& j, const std::string& field,
                                     const std::string& path) {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (!v->is_string()) Invalid(path + field + " must be a string");
  return v->get<std::string>();
}

std::string ReqString(const json& j, const std::string& field, const std::string& path) {
  auto v = OptString(j, field, path);
  if (!v) Invalid(path + field + " is required");
  return *v;
}

std::optional<int64_t> OptInt(const json& j, const std::string& field, const std::string& path) {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>()) {
    return static_cast<int64_t>(v->get<double>());
  }
  Invalid(path + field + " must be an integer");
}

int64_t ReqInt(const json& j, const std::string& field, const std::string& path) {
  auto v = OptInt(j, field, path);
  if (!v) Invalid(path + field + " is required");
  return *v;
}

std::optional<double> OptDouble(const json& j, const std::string& field, const std::string& path) {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (!v->is_number()) Invalid(path + field + " must be a number");
  return v->get<double>();
}

std::optional<bool> OptBool(const json& j, const std::string& field, const std::string& path) {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) Invalid(path + field + " must be true or false");
  return v->get<bool>();
}

std::optional<double> OptTime(const json& j, const std::string& field, const std::string& path) {
  const json* v = Member(j, field);
  if (!v) return std::nullopt;
  if (v->is_number()) return v->get<double>();
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return d;
    std::tm tm{};
    const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest != nullptr) {
      double seconds = static_cast<double>(timegm(&tm));
      if (*rest == '.') seconds += std::strtod(rest, nullptr);
      return seconds;
    }
  }
  Invalid(path + field + " must be a timestamp (epoch seconds)");
}

double ReqTime(const json& j, const std::string& field) {
  auto v = OptTime(j, field);
  if (!v) Invalid(field + " is required");
  // Negative times mean 1970 (callers clamp them); beyond kMaxUnixSeconds nanoseconds overflow.
  if (!(*v <= static_cast<double>(kMaxUnixSeconds))) Invalid(field + " must be " + TimeRangeHint());
  return *v;
}

std::vector<std::string> ReqStringList(const json& j, const std::string& field, size_t max) {
  const json* list = Member(j, field);
  if (!list) Invalid(field + " is required");
  if (!list->is_array()) Invalid(field + " must be a list");
  if (list->size() > max) Invalid(field + " may hold at most " + std::to_string(max) + " entries");
  std::vector<std::string> out;
  for (const json& item : *list) {
    if (!item.is_string()) Invalid(field + " must be strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

size_t ParseOffsetToken(const json& body) {
  auto token = OptString(body, "NextToken");
  if (!token || token->empty()) return 0;
  const std::string prefix = "ariadne-page-";
  if (token->rfind(prefix, 0) != 0)
    Invalid("NextToken '" + *token + "' is not a token this server issued");
  try {
    return static_cast<size_t>(std::stoull(token->substr(prefix.size())));
  } catch (...) {
    Invalid("NextToken '" + *token + "' is not a token this server issued");
  }
}

std::string MakeOffsetToken(size_t offset) { return "ariadne-page-" + std::to_string(offset); }

}  // namespace ariadne::api::xray
