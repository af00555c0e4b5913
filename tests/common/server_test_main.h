// ServerTestMain: the main() of a gtest binary whose tests start the real `ariadne serve`. Takes
// --ariadne=PATH (or $ARIADNE_BIN) into `*ariadne`, ignores SIGPIPE (a server that died must fail
// the test, not kill it) and runs every test.
//
//   int main(int argc, char** argv) { return ServerTestMain(argc, argv, &g_ariadne); }
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "tests/common/server_process.h"

namespace ariadne::testing {

inline int ServerTestMain(int argc, char** argv, std::string* ariadne) {
  *ariadne = AriadneBinaryFromArgs(&argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (ariadne->empty()) {
    std::fprintf(stderr, "pass --ariadne=/path/to/build/bin/ariadne\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  return RUN_ALL_TESTS();
}

}  // namespace ariadne::testing
