// ServerFixture: the gtest fixture of tests that start the real server. Each test gets a temp
// directory of its own (`dir_`, named after the test and this process, removed afterwards) and a
// `server_` slot; when the test failed, the server's stderr is printed before it is stopped, so a
// red run says what the server saw.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "tests/common/server_process.h"

namespace ariadne::testing {

class ServerFixture : public ::testing::Test {
 protected:
  // `prefix` names the directory: <tmp>/ariadne-<prefix>-<pid>-<test name>.
  explicit ServerFixture(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ariadne-" + prefix_ + "-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "data");
  }

  void TearDown() override {
    if (HasFailure() && server_.running()) {
      std::ifstream log(server_.stderr_path());
      std::cerr << "server stderr:\n" << log.rdbuf() << "\n";
    }
    if (server_.running()) server_.Stop(SIGTERM);
    std::filesystem::remove_all(dir_);
  }

  std::string DataDir() const { return (dir_ / "data").string(); }

  std::filesystem::path dir_;
  ServerProcess server_;

 private:
  std::string prefix_;
};

}  // namespace ariadne::testing
