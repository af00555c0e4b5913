#include "services.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace cruddur {

namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 24 * kHour;

std::string NewUuid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

bool Blank(std::string_view s) { return s.empty(); }

}  // namespace

std::string IsoTime(int64_t offset_seconds) {
  const auto now = std::chrono::system_clock::now() + std::chrono::seconds(offset_seconds);
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

nlohmann::json HomeActivities(const ariadne::sdk::Tracer& tracer) {
  ariadne::sdk::Span span = tracer.StartSpan("home-activities-mock-data");
  ariadne::sdk::Scope scope = span.Activate();
  const std::string now = IsoTime();
  span.SetAttribute("app.now", now);
  nlohmann::json results = nlohmann::json::array();
  results.push_back({
      {"uuid", "68f126b0-1ceb-4a33-88be-d90fa7109eee"},
      {"handle", "Andrew Brown"},
      {"message", "Cloud is very fun!"},
      {"created_at", IsoTime(-2 * kDay)},
      {"expires_at", IsoTime(5 * kDay)},
      {"likes_count", 5},
      {"replies_count", 1},
      {"reposts_count", 0},
      {"replies",
       {{{"uuid", "26e12864-1c26-5c3a-9658-97a10f8fea67"},
         {"reply_to_activity_uuid", "68f126b0-1ceb-4a33-88be-d90fa7109eee"},
         {"handle", "Worf"},
         {"message", "This post has no honor!"},
         {"likes_count", 0},
         {"replies_count", 0},
         {"reposts_count", 0},
         {"created_at", IsoTime(-2 * kDay)}}}},
  });
  results.push_back({{"uuid", "66e12864-8c26-4c3a-9658-95a10f8fea67"},
                     {"handle", "Worf"},
                     {"message", "I am out of prune juice"},
                     {"created_at", IsoTime(-7 * kDay)},
                     {"expires_at", IsoTime(9 * kDay)},
                     {"likes_count", 0},
                     {"replies_count", 0},
                     {"reposts_count", 0},
                     {"replies", nlohmann::json::array()}});
  results.push_back(
      {{"uuid", "248959df-3079-4947-b847-9e0892d1bab4"},
       {"handle", "Garek"},
       {"message",
        "My dear doctor, I am just simple tailor. Can I not leave my mark in this world?"},
       {"created_at", IsoTime(-1 * kHour)},
       {"expires_at", IsoTime(12 * kHour)},
       {"likes_count", 0},
       {"replies_count", 0},
       {"reposts_count", 0},
       {"replies", nlohmann::json::array()}});
  span.SetAttribute("app.result_length", static_cast<int64_t>(results.size()));
  return results;
}

nlohmann::json NotificationsActivities() {
  nlohmann::json results = nlohmann::json::array();
  results.push_back({
      {"uuid", "68f126b0-1ceb-4a33-88be-d90fa7109eee"},
      {"handle", "coco"},
      {"message", "I am white unicorn"},
      {"created_at", IsoTime(-2 * kDay)},
      {"expires_at", IsoTime(5 * kDay)},
      {"likes_count", 5},
      {"replies_count", 1},
      {"reposts_count", 0},
      {"replies",
       {{{"uuid", "26e12864-1c26-5c3a-9658-97a10f8fea67"},
         {"reply_to_activity_uuid", "68f126b0-1ceb-4a33-88be-d90fa7109eee"},
         {"handle", "Worf"},
         {"message", "This post has no honor!"},
         {"likes_count", 0},
         {"replies_count", 0},
         {"reposts_count", 0},
         {"created_at", IsoTime(-2 * kDay)}}}},
  });
  return results;
}

Model UserActivities(std::string_view user_handle) {
  Model m;
  if (Blank(user_handle)) {
    m.errors = {"blank_user_handle"};
    return m;
  }
  m.data = nlohmann::json::array();
  m.data.push_back({{"uuid", "248959df-3079-4947-b847-9e0892d1bab4"},
                    {"handle", std::string(user_handle)},
                    {"message", "Cloud is fun!"},
                    {"created_at", IsoTime(-1 * kDay)},
                    {"expires_at", IsoTime(31 * kDay)},
                    {"likes_count", 0},
                    {"replies_count", 0},
                    {"reposts_count", 0},
                    {"replies", nlohmann::json::array()}});
  return m;
}

Model SearchActivities(std::string_view term) {
  Model m;
  if (Blank(term)) {
    m.errors = {"search_blank"};
    return m;
  }
  m.data = nlohmann::json::array();
  m.data.push_back({{"uuid", "248959df-3079-4947-b847-9e0892d1bab4"},
                    {"handle", "Andrew Brown"},
                    {"message", "Cloud is fun!"},
                    {"created_at", IsoTime()},
                    {"expires_at", IsoTime(30 * kDay)},
                    {"likes_count", 0},
                    {"replies_count", 0},
                    {"reposts_count", 0},
                    {"replies", nlohmann::json::array()}});
  return m;
}

Model CreateActivity(std::string_view user_handle, std::string_view message, std::string_view ttl) {
  Model m;
  nlohmann::json errors = nlohmann::json::array();
  int64_t ttl_offset = 0;
  if (ttl == "30-days") {
    ttl_offset = 30 * kDay;
  } else if (ttl == "7-days") {
    ttl_offset = 7 * kDay;
  } else if (ttl == "3-days") {
    ttl_offset = 3 * kDay;
  } else if (ttl == "1-day") {
    ttl_offset = kDay;
  } else if (ttl == "12-hours") {
    ttl_offset = 12 * kHour;
  } else if (ttl == "3-hours") {
    ttl_offset = 3 * kHour;
  } else if (ttl == "1-hour") {
    ttl_offset = kHour;
  } else {
    errors.push_back("ttl_blank");
  }
  if (Blank(user_handle)) errors.push_back("user_handle_blank");
  if (Blank(message)) {
    errors.push_back("message_blank");
  } else if (message.size() > 280) {
    errors.push_back("message_exceed_max_chars");
  }
  if (!errors.empty()) {
    m.errors = errors;
    m.data = {{"handle", std::string(user_handle)}, {"message", std::string(message)}};
    return m;
  }
  m.data = {{"uuid", NewUuid()},
            {"display_name", "Andrew Brown"},
            {"handle", std::string(user_handle)},
            {"message", std::string(message)},
            {"created_at", IsoTime()},
            {"expires_at", IsoTime(ttl_offset)},
            {"likes_count", 0},
            {"replies_count", 0},
            {"reposts_count", 0},
            {"replies", nlohmann::json::array()}};
  return m;
}

Model CreateReply(std::string_view user_handle, std::string_view message,
                  std::string_view activity_uuid) {
  Model m;
  nlohmann::json errors = nlohmann::json::array();
  if (Blank(user_handle)) errors.push_back("user_handle_blank");
  if (Blank(activity_uuid)) errors.push_back("activity_uuid_blank");
  if (Blank(message)) {
    errors.push_back("message_blank");
  } else if (message.size() > 1024) {
    errors.push_back("message_exceed_max_chars");
  }
  if (!errors.empty()) {
    m.errors = errors;
    m.data = {{"handle", std::string(user_handle)}, {"message", std::string(message)}};
    return m;
  }
  m.data = {{"uuid", NewUuid()},
            {"display_name", "Andrew Brown"},
            {"handle", std::string(user_handle)},
            {"message", std::string(message)},
            {"created_at", IsoTime()},
            {"reply_to_activity_uuid", std::string(activity_uuid)},
            {"likes_count", 0},
            {"replies_count", 0},
            {"reposts_count", 0}};
  return m;
}

nlohmann::json MessageGroups(std::string_view user_handle) {
  nlohmann::json results = nlohmann::json::array();
  results.push_back({{"uuid", "24b95582-9e7b-4e0a-9ad1-639773ab7552"},
                     {"display_name", "Andrew Brown"},
                     {"handle", "andrewbrown"},
                     {"created_at", IsoTime()}});
  results.push_back({{"uuid", "417c360e-c4e6-4fce-873b-d2d71469b4ac"},
                     {"display_name", "Worf"},
                     {"handle", "worf"},
                     {"created_at", IsoTime()}});
  return results;
}

nlohmann::json Messages(std::string_view user_sender_handle,
                        std::string_view user_receiver_handle) {
  nlohmann::json results = nlohmann::json::array();
  results.push_back({{"uuid", "4e81c06a-db0f-4281-b4cc-98208537772a"},
                     {"display_name", "Andrew Brown"},
                     {"handle", "Andrew Brown"},
                     {"message", "Cloud is fun!"},
                     {"created_at", IsoTime()}});
  results.push_back({{"uuid", "66e12864-8c26-4c3a-9658-95a10f8fea67"},
                     {"display_name", "Andrew Brown"},
                     {"handle", "Andrew Brown"},
                     {"message", "This platform is great!"},
                     {"created_at", IsoTime()}});
  return results;
}

Model CreateMessage(std::string_view user_sender_handle, std::string_view user_receiver_handle,
                    std::string_view message) {
  Model m;
  nlohmann::json errors = nlohmann::json::array();
  if (Blank(user_sender_handle)) errors.push_back("user_sender_handle_blank");
  if (Blank(user_receiver_handle)) errors.push_back("user_reciever_handle_blank");
  if (Blank(message)) {
    errors.push_back("message_blank");
  } else if (message.size() > 1024) {
    errors.push_back("message_exceed_max_chars");
  }
  if (!errors.empty()) {
    m.errors = errors;
    m.data = {{"display_name", "Andrew Brown"},
              {"handle", std::string(user_sender_handle)},
              {"message", std::string(message)}};
    return m;
  }
  m.data = {{"uuid", NewUuid()},
            {"display_name", "Andrew Brown"},
            {"handle", std::string(user_sender_handle)},
            {"message", std::string(message)},
            {"created_at", IsoTime()}};
  return m;
}

}  // namespace cruddur
