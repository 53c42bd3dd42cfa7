// check_framing: RFC 9112 §6 request framing, strictly.
#include "http/framing.hpp"

#include <gtest/gtest.h>

using namespace hlsgate::http;

namespace {
using sv = std::vector<std::string_view>;
}

TEST(framing, plain_cases_are_fine) {
  EXPECT_EQ(check_framing(11, {}, {}), framing_verdict::ok);
  EXPECT_EQ(check_framing(10, {}, {}), framing_verdict::ok);
  EXPECT_EQ(check_framing(11, {}, sv{"0"}), framing_verdict::ok);
  EXPECT_EQ(check_framing(10, {}, sv{"1234"}), framing_verdict::ok);
  EXPECT_EQ(check_framing(11, sv{"chunked"}, {}), framing_verdict::ok);
  EXPECT_EQ(check_framing(11, sv{"Chunked"}, {}), framing_verdict::ok);
  EXPECT_EQ(check_framing(11, sv{" CHUNKED\t"}, {}), framing_verdict::ok);
}

TEST(framing, transfer_encoding_variants_are_refused) {
  for (std::string_view te : {"xchunked", "identity", "chunked;q=1", "gzip, chunked",
                              "chunked, chunked", "chunked,", "", "chunk", "chunked x"}) {
    EXPECT_EQ(check_framing(11, sv{te}, {}), framing_verdict::bad_transfer_encoding) << te;
  }
  EXPECT_EQ(check_framing(11, sv{"chunked", "chunked"}, {}),
            framing_verdict::bad_transfer_encoding);
  EXPECT_EQ(check_framing(11, sv{"identity", "chunked"}, {}),
            framing_verdict::bad_transfer_encoding);
}

TEST(framing, transfer_encoding_on_http10_is_refused) {
  EXPECT_EQ(check_framing(10, sv{"chunked"}, {}), framing_verdict::bad_transfer_encoding);
}

TEST(framing, transfer_encoding_with_content_length_is_refused) {
  EXPECT_EQ(check_framing(11, sv{"chunked"}, sv{"5"}), framing_verdict::bad_transfer_encoding);
  EXPECT_EQ(check_framing(11, sv{"identity"}, sv{"5"}), framing_verdict::bad_transfer_encoding);
}

TEST(framing, content_length_must_be_one_plain_number) {
  for (std::string_view cl :
       {"", "-1", "+1", "1.0", "0x10", "5, 5", "5 5", "abc", "99999999999999999999"}) {
    EXPECT_EQ(check_framing(11, {}, sv{cl}), framing_verdict::bad_content_length) << cl;
  }
  EXPECT_EQ(check_framing(11, {}, sv{"5", "5"}), framing_verdict::bad_content_length);
  EXPECT_EQ(check_framing(11, {}, sv{"5", "6"}), framing_verdict::bad_content_length);
}
