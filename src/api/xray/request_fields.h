// Reading X-Ray API request bodies (REST-JSON): typed field access whose errors name the field
// ("SamplingRule.Priority must be an integer"), the ApiError thrown at the request edge and turned
// into X-Ray's error form by the router, Status → X-Ray error mapping, and the offset page tokens
// of the small listings (groups, rules). Internal to src/api/xray.
//
// Threads: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace ariadne::api::xray {

using json = nlohmann::json;

inline constexpr const char* kInvalidRequest = "InvalidRequestException";

// Thrown inside request handling only (the edge), turned into an X-Ray error response.
struct ApiError {
  int status;
  std::string code;
  std::string message;
};

[[noreturn]] void Invalid(const std::string& message);
// kInvalidArgument/kAlreadyExists/kNotFound/kFailedPrecondition → 400 InvalidRequestException,
// kResourceExhausted → 400 `limit_code`, anything else → 500 InternalFailure.
[[noreturn]] void ThrowStatus(const Status& status,
                              const char* limit_code = "RuleLimitExceededException");

const json* Member(const json& j, const std::string& field);
std::optional<std::string> OptString(const json& j, const std::string& field,
                                     const std::string& path = "");
std::string ReqString(const json& j, const std::string& field, const std::string& path = "");
std::optional<int64_t> OptInt(const json& j, const std::string& field,
                              const std::string& path = "");
int64_t ReqInt(const json& j, const std::string& field, const std::string& path = "");
std::optional<double> OptDouble(const json& j, const std::string& field,
                                const std::string& path = "");
std::optional<bool> OptBool(const json& j, const std::string& field, const std::string& path = "");
// Epoch seconds from a number, a numeric string or an ISO-8601 string.
std::optional<double> OptTime(const json& j, const std::string& field,
                              const std::string& path = "");
// A required time within the range the store can hold.
double ReqTime(const json& j, const std::string& field);
// A list of strings (TraceIds, ResourceARNs...), at most `max` entries.
std::vector<std::string> ReqStringList(const json& j, const std::string& field, size_t max);

// Offset tokens of the small listings ("ariadne-page-N").
size_t ParseOffsetToken(const json& body);
std::string MakeOffsetToken(size_t offset);

}  // namespace ariadne::api::xray
