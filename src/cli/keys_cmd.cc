// `ariadne keys create|list`.
#include <cstdio>
#include <ctime>

#include "cli/commands.h"
#include "pipeline/keys.h"

namespace ariadne::cli {

int RunKeysCreate(const KeysConfig& config) {
  std::string path = KeysPath(config.data_dir, config.keys_file);
  auto key = pipeline::CreateKey(path, config.environment);
  if (!key.ok()) {
    std::fprintf(stderr, "ariadne keys create: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", key->c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "created an ingest key for environment '%s' in %s\n"
               "send it as OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=%s\n"
               "a running `ariadne serve` loads keys at start: restart it to use the new key\n",
               config.environment.c_str(), path.c_str(), key->c_str());
  return 0;
}

int RunKeysList(const KeysConfig& config) {
  std::string path = KeysPath(config.data_dir, config.keys_file);
  auto registry = pipeline::KeyRegistry::LoadFile(path);
  if (!registry.ok()) {
    std::fprintf(stderr, "ariadne keys list: %s\n",
                 std::string(registry.status().message()).c_str());
    return 1;
  }
  if (registry->empty()) {
    std::fprintf(stderr,
                 "no keys in %s: the server accepts everything into environment 'default'.\n"
                 "create one with `ariadne keys create --env NAME`\n",
                 path.c_str());
    return 0;
  }
  std::printf("%-24s %-40s %s\n", "ENVIRONMENT", "KEY", "CREATED");
  for (const pipeline::KeyEntry& entry : registry->entries()) {
    char created[32] = "-";
    if (entry.created_unix > 0) {
      time_t t = static_cast<time_t>(entry.created_unix);
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    std::printf("%-24s %-40s %s\n", entry.environment.c_str(), entry.key.c_str(), created);
  }
  return 0;
}

}  // namespace ariadne::cli
