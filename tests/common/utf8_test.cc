#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace ariadne::utf8 {
namespace {

TEST(Utf8Test, ValidTextPasses) {
  EXPECT_TRUE(IsValid(""));
  EXPECT_TRUE(IsValid("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(IsValid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  EXPECT_TRUE(IsValid("\xED\x9F\xBF"));  // U+D7FF, just below the surrogates
  EXPECT_EQ(Repaired("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(Utf8Test, InvalidSequencesAreDetected) {
  for (std::string bad : {
           std::string("\xB8\xFF"),          // continuation byte, then FF
           std::string("\xC0\xAF"),          // overlong '/'
           std::string("\xE0\x80\xAF"),      // overlong
           std::string("\xED\xA0\x80"),      // surrogate U+D800
           std::string("\xF4\x90\x80\x80"),  // above U+10FFFF
           std::string("\xF5\x80\x80\x80"),  // invalid lead
           std::string("abc\xE2\x82"),       // truncated at the end
           std::string("12345678\xC3"),      // truncated after an ASCII word
       }) {
    EXPECT_FALSE(IsValid(bad)) << ::testing::PrintToString(bad);
  }
}

TEST(Utf8Test, RepairReplacesMaximalSubparts) {
  std::string out;
  EXPECT_EQ(AppendRepaired("a\xB8\xFFz", &out), 2u);
  EXPECT_EQ(out, "a\xEF\xBF\xBD\xEF\xBF\xBDz");
  // A truncated 3-byte sequence is one subpart; the next character survives.
  EXPECT_EQ(Repaired("\xE2\x82x"), "\xEF\xBF\xBDx");
  // A surrogate: ED is a valid lead but A0 is outside its range, so ED, A0, 80 are three subparts.
  EXPECT_EQ(Repaired("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Repaired("ok \xC3\xA9 \xF0\x9F\x98"), "ok \xC3\xA9 \xEF\xBF\xBD");
  EXPECT_TRUE(IsValid(Repaired("\xFF\xFE\xC0\x80\xF4\x90\x80\x80 end")));
}

}  // namespace
}  // namespace ariadne::utf8
