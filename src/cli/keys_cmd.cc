// `ariadne keys create|list|revoke`, and the read key of the API-calling commands.
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "cli/commands.h"
#include "pipeline/keys.h"

namespace ariadne::cli {

std::string ApiKeyFrom(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("ARIADNE_KEY");
  return env != nullptr ? std::string(env) : std::string();
}

int RunKeysCreate(const KeysConfig& config) {
  std::optional<pipeline::KeyRole> role = pipeline::ParseKeyRole(config.role);
  if (!role) {
    std::fprintf(stderr, "ariadne keys create: --role must be ingest, read or admin\n");
    return 2;
  }
  if (*role == pipeline::KeyRole::kIngest && config.environment.empty()) {
    std::fprintf(stderr,
                 "ariadne keys create: an ingest key needs --env NAME (the environment its spans "
                 "go to)\n");
    return 2;
  }
  std::string path = KeysPath(config.data_dir, config.keys_file);
  auto key = pipeline::CreateKey(path, *role, config.environment);
  if (!key.ok()) {
    std::fprintf(stderr, "ariadne keys create: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", key->c_str());
  std::fflush(stdout);
  const std::string scope = config.environment.empty() ? std::string("every environment")
                                                       : "environment '" + config.environment + "'";
  std::fprintf(stderr, "created a %s key for %s in %s\n", config.role.c_str(), scope.c_str(),
               path.c_str());
  std::fprintf(stderr,
               "the key is shown only now (the file keeps its hash): store it somewhere safe\n");
  if (*role == pipeline::KeyRole::kIngest) {
    std::fprintf(stderr, "send it as OTEL_EXPORTER_OTLP_HEADERS=x-honeycomb-team=%s\n",
                 key->c_str());
  } else {
    std::fprintf(stderr,
                 "use it as `Authorization: Bearer KEY`, ARIADNE_KEY=KEY for the CLI, or log in "
                 "to the web UI with it\n");
  }
  std::fprintf(stderr,
               "a running `ariadne serve` loads keys at start: restart it to use the new key\n");
  return 0;
}

int RunKeysList(const KeysConfig& config) {
  std::string path = KeysPath(config.data_dir, config.keys_file);
  auto registry = pipeline::KeyRegistry::LoadFileMigrating(path);
  if (!registry.ok()) {
    std::fprintf(stderr, "ariadne keys list: %s\n",
                 std::string(registry.status().message()).c_str());
    return 1;
  }
  if (registry->empty()) {
    std::fprintf(stderr,
                 "no keys in %s: the server is open (it accepts everything into environment "
                 "'default' and serves every trace to anyone who reaches it).\n"
                 "create keys with `ariadne keys create --role ingest|read|admin [--env NAME]`\n",
                 path.c_str());
    return 0;
  }
  std::printf("%-12s %-16s %-7s %-24s %s\n", "ID", "PREFIX", "ROLE", "ENVIRONMENT", "CREATED");
  for (const pipeline::KeyEntry& entry : registry->entries()) {
    char created[32] = "-";
    if (entry.created_unix > 0) {
      time_t t = static_cast<time_t>(entry.created_unix);
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    std::string prefix = entry.prefix.empty() ? "-" : entry.prefix + "...";
    std::printf("%-12s %-16s %-7s %-24s %s\n", entry.id.c_str(), prefix.c_str(),
                std::string(pipeline::KeyRoleName(entry.role)).c_str(),
                entry.environment.empty() ? "(all)" : entry.environment.c_str(), created);
  }
  return 0;
}

int RunKeysRevoke(const KeysConfig& config) {
  std::string path = KeysPath(config.data_dir, config.keys_file);
  auto removed = pipeline::RevokeKey(path, config.id_or_prefix);
  if (!removed.ok()) {
    std::fprintf(stderr, "ariadne keys revoke: %s\n",
                 std::string(removed.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr,
               "revoked %s key %s (%s…)\n"
               "a running `ariadne serve` loads keys at start: restart it to stop accepting it\n",
               std::string(pipeline::KeyRoleName(removed->role)).c_str(), removed->id.c_str(),
               removed->prefix.c_str());
  return 0;
}

}  // namespace ariadne::cli
