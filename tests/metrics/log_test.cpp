#include "metrics/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace hlsgate::logging;

namespace {
constexpr std::time_t when = 1'700'000'000; // 2023-11-14T22:13:20Z
}

TEST(Log, PlainFieldsStayReadable) {
  EXPECT_EQ(format_line(level::info, "media expired", {{"media_id", "abc_-1"}}, when),
            "2023-11-14T22:13:20Z level=info msg=\"media expired\" media_id=abc_-1\n");
}

// An uploaded file name or a libav message must never start a line of its
// own (log forging) or carry terminal escapes.
TEST(Log, ControlCharactersCannotForgeLines) {
  const std::string hostile = "x\nlevel=error msg=\"forged\"\r\x1b[31m\x7f\x01";
  auto line = format_line(level::warn, hostile, {{"name", hostile}, {"k", "a=b"}}, when);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line.find('\x7f'), std::string::npos);
  EXPECT_NE(line.find("x\\nlevel=error msg=\\\"forged\\\"\\r\\x1b[31m\\x7f\\x01"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("k=\"a=b\""), std::string::npos) << line;
}

TEST(Log, EmptyAndQuotedValues) {
  auto line = format_line(level::debug, "", {{"a", ""}, {"b", "say \"hi\" \\"}}, when);
  EXPECT_EQ(line, "2023-11-14T22:13:20Z level=debug msg=\"\" a=\"\" b=\"say \\\"hi\\\" \\\\\"\n");
}

TEST(Log, RateLimitCountsWhatItDrops) {
  rate_limit limit{3};
  uint64_t suppressed = 99;
  int allowed = 0;
  for (int i = 0; i < 10; ++i)
    if (limit.allow(suppressed))
      ++allowed;
  // Within one second (the loop takes microseconds; a second boundary in
  // between would allow at most 3 more).
  EXPECT_GE(allowed, 3);
  EXPECT_LE(allowed, 6);
  EXPECT_EQ(suppressed, 0u);
}

TEST(Log, JsonLinesParseAndKeepTheFields) {
  auto line = format_line(level::info, "request", {{"status", "200"}, {"path", "/health"}}, when,
                          format::json);
  EXPECT_EQ(line, "{\"time\":\"2023-11-14T22:13:20Z\",\"level\":\"info\",\"msg\":\"request\","
                  "\"status\":\"200\",\"path\":\"/health\"}\n");
}

// Whatever a client sends (a path, a header) stays inside its string: one
// line, valid JSON, invalid UTF-8 replaced.
TEST(Log, JsonEscapesHostileValues) {
  const std::string hostile = "x\n\"},{\"level\":\"error\"\r\x1b\x01\\ \xff\xc3\xa9\xed\xa0\x80";
  auto line = format_line(level::warn, hostile, {{"k\"", hostile}}, when, format::json);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  EXPECT_EQ(j["level"], "warn");
  const std::string expect = "x\n\"},{\"level\":\"error\"\r\x1b\x01\\ \xef\xbf\xbd\xc3\xa9"
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd";
  EXPECT_EQ(j["msg"], expect);
  EXPECT_EQ(j["k\""], expect);
}

// Bytes that are not text, or text that viewers take as a line break or a
// terminal command (C1: NEL, CSI; U+2028/9), are escaped in both formats.
TEST(Log, NonTextBytesAreEscapedInBothFormats) {
  const std::string nasty = "a\xf8\x80\x80"
                            "b\xff\x80"
                            "c\xc2\x85"
                            "d\xc2\x9b[31m"
                            "e\xe2\x80\xa8"
                            "f\xe2\x80\xa9"
                            "g\xc3\xa9";
  auto text = format_line(level::info, "m", {{"path", nasty}}, when);
  EXPECT_NE(text.find("path=\"a\\xf8\\x80\\x80b\\xff\\x80c\\xc2\\x85d\\xc2\\x9b[31me\\xe2\\x80\\xa8"
                      "f\\xe2\\x80\\xa9g\xc3\xa9\""),
            std::string::npos)
      << text;
  auto json_line = format_line(level::info, "m", {{"path", nasty}}, when, format::json);
  for (unsigned char c : json_line)
    EXPECT_TRUE(c < 0x80 || c == 0xc3 || c == 0xa9) << "only the é stays raw: " << json_line;
  EXPECT_NE(json_line.find("\\u0085"), std::string::npos) << json_line;
  EXPECT_NE(json_line.find("\\u2028"), std::string::npos) << json_line;
  auto j = nlohmann::json::parse(json_line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json_line;
  EXPECT_EQ(j["path"], "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                       "b\xef\xbf\xbd\xef\xbf\xbd"
                       "c\xc2\x85"
                       "d\xc2\x9b[31me\xe2\x80\xa8"
                       "f\xe2\x80\xa9"
                       "g\xc3\xa9");
  // Plain UTF-8 text stays readable and unquoted.
  EXPECT_EQ(format_line(level::info, "m", {{"name", "caf\xc3\xa9"}}, when),
            "2023-11-14T22:13:20Z level=info msg=m name=caf\xc3\xa9\n");
}
