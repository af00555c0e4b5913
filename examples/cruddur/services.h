// Cruddur's backend services with mock data (no database), ported from the AWS Cloud Project
// Bootcamp's backend-flask: each Run() returns {errors, data} the way the Python services return
// their `model` dict, and the route answers `data` with 200 or `errors` with 422.
//
// Threads: stateless; call from any thread.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ariadne/sdk/tracer.h"

namespace cruddur {

struct Model {
  nlohmann::json errors;  // null when none
  nlohmann::json data;
};

// "2023-02-20T10:00:00.123456+00:00" (Python's datetime.isoformat() for an aware UTC time),
// `offset_seconds` from now.
std::string IsoTime(int64_t offset_seconds = 0);

// Opens the custom span `home-activities-mock-data` (app.now, app.result_length) with `tracer`.
nlohmann::json HomeActivities(const ariadne::sdk::Tracer& tracer);
nlohmann::json NotificationsActivities();
Model UserActivities(std::string_view user_handle);
Model SearchActivities(std::string_view term);
Model CreateActivity(std::string_view user_handle, std::string_view message, std::string_view ttl);
Model CreateReply(std::string_view user_handle, std::string_view message,
                  std::string_view activity_uuid);
nlohmann::json MessageGroups(std::string_view user_handle);
nlohmann::json Messages(std::string_view user_sender_handle, std::string_view user_receiver_handle);
Model CreateMessage(std::string_view user_sender_handle, std::string_view user_receiver_handle,
                    std::string_view message);

}  // namespace cruddur
