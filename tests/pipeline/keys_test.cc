#include "pipeline/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace ariadne::pipeline {
namespace {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/ariadne-keys-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

KeyRegistry TwoKeys() {
  KeyRegistry registry;
  EXPECT_TRUE(registry.Add({"key-prod", "prod", 0}).ok());
  EXPECT_TRUE(registry.Add({"key-dev", "dev", 0}).ok());
  return registry;
}

TEST(KeyRegistryTest, WithoutKeysEveryRequestGoesToDefault) {
  KeyRegistry registry;
  auto env = registry.Authenticate(std::nullopt, std::nullopt);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env, "default");
  auto with_key = registry.Authenticate("whatever", std::nullopt);
  ASSERT_TRUE(with_key.ok());
  EXPECT_EQ(*with_key, "default");
}

TEST(KeyRegistryTest, MissingKeyIsUnauthenticatedInHoneycombWords) {
  KeyRegistry registry = TwoKeys();
  for (auto team : {std::optional<std::string_view>(), std::optional<std::string_view>("  ")}) {
    auto env = registry.Authenticate(team, std::nullopt);
    ASSERT_FALSE(env.ok());
    EXPECT_EQ(env.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(env.status().message().substr(0, 33), "missing 'x-honeycomb-team' header");
  }
}

TEST(KeyRegistryTest, UnknownKeyIsUnauthenticated) {
  auto env = TwoKeys().Authenticate("nope", std::nullopt);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(env.status().message().find("unknown API key"), std::string::npos);
}

TEST(KeyRegistryTest, HoneycombTeamHeaderSelectsTheEnvironment) {
  KeyRegistry registry = TwoKeys();
  EXPECT_EQ(*registry.Authenticate("key-prod", std::nullopt), "prod");
  EXPECT_EQ(*registry.Authenticate(" key-dev ", std::nullopt), "dev");
}

TEST(KeyRegistryTest, BearerTokenSelectsTheEnvironment) {
  KeyRegistry registry = TwoKeys();
  EXPECT_EQ(*registry.Authenticate(std::nullopt, "Bearer key-dev"), "dev");
  EXPECT_EQ(*registry.Authenticate(std::nullopt, "bearer  key-prod"), "prod");
  EXPECT_FALSE(registry.Authenticate(std::nullopt, "Basic a2V5LWRldg==").ok());
  // The Honeycomb header wins when both are present.
  EXPECT_EQ(*registry.Authenticate("key-prod", "Bearer key-dev"), "prod");
}

TEST(KeyRegistryTest, MissingFileIsAnEmptyRegistry) {
  TempDir dir;
  auto registry = KeyRegistry::LoadFile(dir.File("absent.json"));
  ASSERT_TRUE(registry.ok());
  EXPECT_TRUE(registry->empty());
}

TEST(KeyRegistryTest, MalformedFileIsAnErrorThatNamesTheFile) {
  TempDir dir;
  std::ofstream(dir.File("keys.json")) << "{\"keys\": [{\"key\": 5}]}";
  auto registry = KeyRegistry::LoadFile(dir.File("keys.json"));
  ASSERT_FALSE(registry.ok());
  EXPECT_NE(registry.status().message().find(dir.File("keys.json")), std::string::npos);
  std::ofstream(dir.File("bad.json")) << "not json";
  EXPECT_FALSE(KeyRegistry::LoadFile(dir.File("bad.json")).ok());
}

TEST(KeyRegistryTest, CreateKeyAppendsAFreshKeyThatLoadsBack) {
  TempDir dir;
  std::string path = dir.File("sub/keys.json");
  auto first = CreateKey(path, "prod");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = CreateKey(path, "dev");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_EQ(first->rfind("aik_", 0), 0u);
  EXPECT_EQ(first->size(), 36u);

  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  auto registry = KeyRegistry::LoadFile(path);
  ASSERT_TRUE(registry.ok());
  ASSERT_EQ(registry->entries().size(), 2u);
  EXPECT_GT(registry->entries()[0].created_unix, 0);
  EXPECT_EQ(*registry->Authenticate(*first, std::nullopt), "prod");
  EXPECT_EQ(*registry->Authenticate(*second, std::nullopt), "dev");
}

TEST(KeyRegistryTest, GeneratedKeysAreDistinct) {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.insert(GenerateKey());
  EXPECT_EQ(keys.size(), 100u);
}

TEST(KeyRegistryTest, BadEnvironmentNamesAreRefused) {
  TempDir dir;
  EXPECT_FALSE(CreateKey(dir.File("keys.json"), "").ok());
  EXPECT_FALSE(CreateKey(dir.File("keys.json"), "has space").ok());
  EXPECT_FALSE(CreateKey(dir.File("keys.json"), std::string(65, 'a')).ok());
  EXPECT_TRUE(CreateKey(dir.File("keys.json"), "staging-2.eu_west").ok());
}

TEST(KeyRegistryTest, OneKeyCannotNameTwoEnvironments) {
  KeyRegistry a = TwoKeys();
  Status again = a.Add({"key-prod", "dev", 0});
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(a.Add({"key-prod", "prod", 0}).ok());
  EXPECT_EQ(a.entries().size(), 2u);
  // Merging another file's keys keeps both files' keys usable.
  KeyRegistry b;
  ASSERT_TRUE(b.Add({"key-test", "test", 0}).ok());
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(*a.Authenticate("key-test", std::nullopt), "test");
  EXPECT_EQ(*a.Authenticate("key-prod", std::nullopt), "prod");
}

TEST(KeyRegistryTest, FileHoldsHashesOnlyAndRolesRoundTrip) {
  TempDir dir;
  std::string path = dir.File("keys.json");
  auto read = CreateKey(path, KeyRole::kRead, "");
  auto admin = CreateKey(path, KeyRole::kAdmin, "prod");
  ASSERT_TRUE(read.ok() && admin.ok());
  EXPECT_EQ(read->rfind("ark_", 0), 0u);
  EXPECT_EQ(admin->rfind("aak_", 0), 0u);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(*read), std::string::npos);
  EXPECT_EQ(text.find(*admin), std::string::npos);
  auto registry = KeyRegistry::LoadFile(path);
  ASSERT_TRUE(registry.ok());
  auto reader = registry->Lookup(*read);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->role, KeyRole::kRead);
  EXPECT_EQ(reader->environment, "");
  auto boss = registry->Lookup(*admin);
  ASSERT_TRUE(boss.ok());
  EXPECT_EQ(boss->role, KeyRole::kAdmin);
  EXPECT_EQ(boss->environment, "prod");
  // Read and admin keys do not ingest.
  EXPECT_EQ(registry->Authenticate(*read, std::nullopt).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_FALSE(registry->Lookup("ark_nope").ok());
}

TEST(KeyRegistryTest, PlainTextFileIsMigratedToHashes) {
  TempDir dir;
  std::string path = dir.File("keys.json");
  std::ofstream(path) << R"({"keys": [{"key": "old-plain-key-1", "environment": "prod",)"
                      << R"( "created_unix": 5}]})";
  auto registry = KeyRegistry::LoadFileMigrating(path);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  EXPECT_EQ(*registry->Authenticate("old-plain-key-1", std::nullopt), "prod");
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("old-plain-key-1"), std::string::npos) << text;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto reloaded = KeyRegistry::LoadFile(path);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(*reloaded->Authenticate("old-plain-key-1", std::nullopt), "prod");
  EXPECT_EQ(reloaded->entries()[0].created_unix, 5);
}

TEST(KeyRegistryTest, RevokeByIdOrPrefix) {
  TempDir dir;
  std::string path = dir.File("keys.json");
  auto first = CreateKey(path, KeyRole::kRead, "");
  auto second = CreateKey(path, KeyRole::kIngest, "prod");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(RevokeKey(path, "nothing").status().code(), StatusCode::kNotFound);
  auto removed = RevokeKey(path, first->substr(0, 12));
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->role, KeyRole::kRead);
  auto registry = KeyRegistry::LoadFile(path);
  ASSERT_TRUE(registry.ok());
  EXPECT_FALSE(registry->Lookup(*first).ok());
  ASSERT_TRUE(registry->Lookup(*second).ok());
  ASSERT_TRUE(RevokeKey(path, registry->entries()[0].id).ok());
  EXPECT_TRUE(KeyRegistry::LoadFile(path)->empty());
}

}  // namespace
}  // namespace ariadne::pipeline
