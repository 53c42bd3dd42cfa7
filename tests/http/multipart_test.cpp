#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using hlsgate::http::multipart_parser;
using hlsgate::http::multipart_part;

namespace {

struct collected {
  multipart_part info;
  std::string data;
  bool ended = false;
};

/// Parses `body` fed in pieces of `chunk` bytes; returns the parts seen.
struct run_result {
  std::vector<collected> parts;
  bool feed_ok = true;
  bool finish_ok = false;
  multipart_parser::error err = multipart_parser::error::none;
  size_t max_chunk_seen = 0;
};

run_result parse(std::string_view content_type, std::string_view body, size_t chunk) {
  run_result r;
  multipart_parser::callbacks cb;
  cb.on_part_begin = [&](const multipart_part& p) {
    r.parts.push_back({p, {}, false});
    return true;
  };
  cb.on_part_data = [&](std::string_view d) {
    EXPECT_FALSE(r.parts.empty());
    if (r.parts.empty())
      return false;
    r.parts.back().data.append(d);
    r.max_chunk_seen = std::max(r.max_chunk_seen, d.size());
    return true;
  };
  cb.on_part_end = [&] {
    EXPECT_FALSE(r.parts.empty());
    if (r.parts.empty())
      return false;
    r.parts.back().ended = true;
    return true;
  };
  auto p = multipart_parser::from_content_type(content_type, std::move(cb));
  for (size_t off = 0; off < body.size() && r.feed_ok; off += chunk)
    r.feed_ok = p.feed(body.substr(off, chunk));
  r.finish_ok = p.finish();
  r.err = p.err();
  return r;
}

std::string binary_payload() {
  // CRLFs, NULs, a delimiter-lookalike (missing one char / wrong char) and
  // a bare boundary string without the leading CRLF.
  std::string s;
  for (int i = 0; i < 256; ++i)
    s.push_back(static_cast<char>(i));
  s += "\r\n\r\n--XyZ-boundar\r\n--XyZ-boundarq\r\n-XyZ-boundary--XyZ-boundary\r\n";
  s += std::string("\0\r\n\0", 4);
  for (int i = 0; i < 300; ++i)
    s.push_back(static_cast<char>((i * 7919) & 0xff));
  s += "\r\n--"; // ends with a delimiter prefix right before the real one
  return s;
}

std::string make_body(const std::string& boundary, const std::string& media) {
  std::string b;
  b += "preamble text is ignored\r\n";
  b += "--" + boundary + "\r\n";
  b += "Content-Disposition: form-data; name=\"title\"\r\n\r\n";
  b += "hello world";
  b += "\r\n--" + boundary + "\r\n";
  b += "Content-Disposition: form-data; name=\"media\"; filename=\"clip \\\"1\\\".mp4\"\r\n";
  b += "Content-Type: video/mp4\r\n\r\n";
  b += media;
  b += "\r\n--" + boundary + "\r\n";
  b += "content-disposition: form-data; name=empty\r\n\r\n";
  b += "\r\n--" + boundary + "--\r\nepilogue ignored";
  return b;
}

void expect_three_parts(const run_result& r, const std::string& media, size_t chunk) {
  SCOPED_TRACE("chunk size " + std::to_string(chunk));
  ASSERT_TRUE(r.feed_ok);
  ASSERT_TRUE(r.finish_ok) << multipart_parser::to_string(r.err);
  ASSERT_EQ(r.parts.size(), 3u);
  EXPECT_EQ(r.parts[0].info.name, "title");
  EXPECT_EQ(r.parts[0].data, "hello world");
  EXPECT_EQ(r.parts[1].info.name, "media");
  EXPECT_EQ(r.parts[1].info.filename, "clip \"1\".mp4");
  EXPECT_EQ(r.parts[1].info.content_type, "video/mp4");
  EXPECT_TRUE(r.parts[1].data == media) << "media part differs";
  EXPECT_EQ(r.parts[2].info.name, "empty");
  EXPECT_EQ(r.parts[2].data, "");
  for (auto& p : r.parts)
    EXPECT_TRUE(p.ended);
}

} // namespace

TEST(multipart, every_chunk_size_is_byte_exact) {
  const std::string boundary = "XyZ-boundary";
  const std::string media = binary_payload();
  const std::string body = make_body(boundary, media);
  const std::string ct = "multipart/form-data; boundary=" + boundary;
  std::vector<size_t> sizes;
  for (size_t n = 1; n <= 64; ++n)
    sizes.push_back(n);
  for (size_t n : {100u, 127u, 512u, 1000u, 4096u})
    sizes.push_back(n);
  sizes.push_back(body.size());
  for (size_t n : sizes)
    expect_three_parts(parse(ct, body, n), media, n);
}

TEST(multipart, large_part_is_streamed_not_buffered) {
  const std::string boundary = "b0undary";
  std::string media(3 * 1024 * 1024, '\0');
  for (size_t i = 0; i < media.size(); ++i)
    media[i] = static_cast<char>((i * 131) ^ (i >> 8));
  const std::string body = make_body(boundary, media);
  auto r = parse("multipart/form-data; boundary=" + boundary, body, 64 * 1024);
  expect_three_parts(r, media, 64 * 1024);
  // No callback delivers more than one input chunk: nothing accumulates.
  EXPECT_LE(r.max_chunk_seen, 64u * 1024u);
}

TEST(multipart, quoted_boundary_and_parameters) {
  const std::string boundary = "weird boundary:with=chars";
  const std::string media = "abc\r\ndef";
  const std::string body = make_body(boundary, media);
  const std::string ct =
      "Multipart/Form-Data; charset=utf-8; boundary=\"weird boundary:with=chars\"";
  std::string b;
  ASSERT_TRUE(multipart_parser::boundary_from_content_type(ct, b));
  EXPECT_EQ(b, boundary);
  for (size_t n : {1u, 3u, 7u, 4096u})
    expect_three_parts(parse(ct, body, n), media, n);
}

TEST(multipart, body_starting_with_delimiter_and_rfc8187_filename) {
  std::string body = "--abc\r\n"
                     "Content-Disposition: form-data; name=\"media\"; "
                     "filename=\"fallback.mp4\"; filename*=UTF-8''caf%C3%A9.mp4\r\n\r\n"
                     "DATA\r\n--abc--";
  auto r = parse("multipart/form-data; boundary=abc", body, 5);
  ASSERT_TRUE(r.finish_ok);
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].info.filename, "caf\xC3\xA9.mp4");
  EXPECT_EQ(r.parts[0].data, "DATA");
}

TEST(multipart, missing_terminator_is_an_error) {
  const std::string boundary = "abc";
  std::string body = "--abc\r\nContent-Disposition: form-data; name=\"media\"\r\n\r\npartial data";
  for (size_t n : {1u, 2u, 1000u}) {
    auto r = parse("multipart/form-data; boundary=abc", body, n);
    EXPECT_TRUE(r.feed_ok);
    EXPECT_FALSE(r.finish_ok);
    EXPECT_EQ(r.err, multipart_parser::error::truncated);
  }
  // A delimiter without the closing "--" is not an end either.
  auto r = parse("multipart/form-data; boundary=abc", body + "\r\n--abc\r\n", 4);
  EXPECT_FALSE(r.finish_ok);
}

TEST(multipart, no_boundary_is_an_error) {
  std::string b;
  EXPECT_FALSE(multipart_parser::boundary_from_content_type("multipart/form-data", b));
  EXPECT_FALSE(multipart_parser::boundary_from_content_type("text/plain; boundary=x", b));
  EXPECT_FALSE(multipart_parser::boundary_from_content_type("multipart/form-data; boundary=", b));
  EXPECT_FALSE(multipart_parser::boundary_from_content_type(
      "multipart/form-data; boundary=" + std::string(71, 'a'), b));
  auto r = parse("multipart/form-data; charset=utf-8", "--x\r\n\r\n--x--", 3);
  EXPECT_FALSE(r.feed_ok);
  EXPECT_FALSE(r.finish_ok);
  EXPECT_EQ(r.err, multipart_parser::error::no_boundary);
}

TEST(multipart, malformed_headers_are_errors) {
  const std::string ct = "multipart/form-data; boundary=abc";
  // Header line without a colon.
  auto r1 = parse(ct, "--abc\r\nnot a header\r\n\r\nx\r\n--abc--", 2);
  EXPECT_EQ(r1.err, multipart_parser::error::malformed);
  // No Content-Disposition.
  auto r2 = parse(ct, "--abc\r\nContent-Type: text/plain\r\n\r\nx\r\n--abc--", 2);
  EXPECT_EQ(r2.err, multipart_parser::error::malformed);
  // Garbage after the delimiter.
  auto r3 = parse(ct, "--abcXYZ\r\n\r\n", 1);
  EXPECT_EQ(r3.err, multipart_parser::error::malformed);
  // Unterminated quoted name.
  auto r4 =
      parse(ct, "--abc\r\nContent-Disposition: form-data; name=\"media\r\n\r\nx\r\n--abc--", 9);
  EXPECT_EQ(r4.err, multipart_parser::error::malformed);
  // Header block over the limit.
  std::string big = "--abc\r\nContent-Disposition: form-data; name=\"m\"\r\nX-Pad: " +
                    std::string(multipart_parser::max_header_bytes, 'p') + "\r\n\r\nx\r\n--abc--";
  auto r5 = parse(ct, big, 1000);
  EXPECT_EQ(r5.err, multipart_parser::error::header_too_large);
  for (auto* r : {&r1, &r2, &r3, &r4, &r5})
    EXPECT_FALSE(r->finish_ok);
}

TEST(multipart, callback_can_abort) {
  multipart_parser::callbacks cb;
  cb.on_part_data = [](std::string_view) { return false; };
  multipart_parser p("abc", std::move(cb));
  EXPECT_FALSE(
      p.feed("--abc\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\ndata\r\n--abc--"));
  EXPECT_EQ(p.err(), multipart_parser::error::aborted);
  EXPECT_FALSE(p.finish());
}
