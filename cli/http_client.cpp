#include "cli/http_client.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace hlsgate::cli {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr size_t chunk_bytes = 256 * 1024;
constexpr uint64_t reply_limit = 64ull << 20;

/// Runs one asynchronous operation to completion (the timeouts of
/// beast::tcp_stream apply only to asynchronous operations).
template <class Start> beast::error_code run(net::io_context& ioc, Start&& start) {
  beast::error_code result = net::error::would_block;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

bool clean_header_value(const std::string& v) {
  return std::none_of(v.begin(), v.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

/// What is sent after the header, in order (the file between prefix and suffix).
struct body_plan {
  std::string prefix;
  std::FILE* file = nullptr;
  uint64_t file_bytes = 0;
  std::string suffix;
  uint64_t total() const { return prefix.size() + file_bytes + suffix.size(); }
};

std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout)
    return "timed out";
  return ec.message();
}

template <class Stream>
response exchange(net::io_context& ioc, Stream& stream, beast::tcp_stream& tcp,
                  std::chrono::seconds timeout, bhttp::request<bhttp::empty_body>& req,
                  body_plan& body, const progress_fn& progress) {
  response out;
  bhttp::request_serializer<bhttp::empty_body> sr{req};
  tcp.expires_after(timeout);
  auto ec = run(ioc, [&](auto h) { bhttp::async_write_header(stream, sr, std::move(h)); });
  uint64_t sent = 0;
  const uint64_t total = body.total();
  auto send = [&](const char* data, size_t n) {
    tcp.expires_after(timeout);
    ec = run(ioc, [&](auto h) { net::async_write(stream, net::buffer(data, n), std::move(h)); });
    sent += n;
    if (!ec && progress)
      progress(sent, total);
    return !ec;
  };
  if (!ec && !body.prefix.empty())
    send(body.prefix.data(), body.prefix.size());
  if (!ec && body.file != nullptr) {
    std::vector<char> chunk(chunk_bytes);
    uint64_t left = body.file_bytes;
    while (!ec && left > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      const size_t got = std::fread(chunk.data(), 1, want, body.file);
      if (got == 0) {
        out.error = "the file became shorter while it was being sent";
        return out;
      }
      left -= got;
      send(chunk.data(), got);
    }
  }
  if (!ec && !body.suffix.empty())
    send(body.suffix.data(), body.suffix.size());
  const auto write_error = ec;
  // A server refuses an upload (401, 413, ...) before reading its body and
  // closes: the refusal may already be waiting even when a write failed.
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(reply_limit);
  tcp.expires_after(timeout);
  ec = run(ioc, [&](auto h) { bhttp::async_read(stream, buf, parser, std::move(h)); });
  if (ec) {
    out.error = describe(write_error ? write_error : ec);
    return out;
  }
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  return out;
}

response perform(const endpoint& where, std::chrono::seconds timeout, const std::string& method,
                 const std::string& target, const header_list& headers, body_plan& body,
                 const std::string& content_type, const progress_fn& progress) {
  response out;
  for (auto& [name, value] : headers)
    if (!clean_header_value(value)) {
      out.error = "a header value (" + name + ") contains control characters";
      return out;
    }
  bhttp::request<bhttp::empty_body> req{bhttp::string_to_verb(method), where.base_path + target,
                                        11};
  const bool default_port = where.port == (where.tls ? 443 : 80);
  std::string host =
      where.host.find(':') != std::string::npos ? "[" + where.host + "]" : where.host;
  if (!default_port)
    host += ":" + std::to_string(where.port);
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "hlsgate-cli");
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::connection, "close");
  for (auto& [name, value] : headers)
    req.set(name, value);
  if (body.total() > 0 || method == "POST") {
    req.set(bhttp::field::content_length, std::to_string(body.total()));
    if (!content_type.empty())
      req.set(bhttp::field::content_type, content_type);
  }

  net::io_context ioc;
  tcp::resolver resolver{ioc};
  tcp::resolver::results_type endpoints;
  beast::error_code ec;
  {
    ec = run(ioc, [&](auto h) {
      resolver.async_resolve(where.host, std::to_string(where.port),
                             [&endpoints, h = std::move(h)](beast::error_code e,
                                                            tcp::resolver::results_type r) mutable {
                               endpoints = std::move(r);
                               h(e);
                             });
    });
  }
  if (ec) {
    out.error = "cannot resolve " + where.host + ": " + describe(ec);
    return out;
  }
  beast::tcp_stream tcp_plain{ioc};
  if (!where.tls) {
    tcp_plain.expires_after(timeout);
    ec = run(ioc, [&](auto h) { tcp_plain.async_connect(endpoints, std::move(h)); });
    if (ec) {
      out.error = "cannot connect to " + host + ": " + describe(ec);
      return out;
    }
    return exchange(ioc, tcp_plain, tcp_plain, timeout, req, body, progress);
  }
  ssl::context ctx{ssl::context::tls_client};
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
  auto& tcp = beast::get_lowest_layer(stream);
  beast::error_code addr_ec;
  net::ip::make_address(where.host, addr_ec);
  if (addr_ec) // SNI names hosts, not addresses (RFC 6066 §3)
    SSL_set_tlsext_host_name(stream.native_handle(), where.host.c_str());
  stream.set_verify_callback(ssl::host_name_verification(where.host));
  tcp.expires_after(timeout);
  ec = run(ioc, [&](auto h) { tcp.async_connect(endpoints, std::move(h)); });
  if (!ec) {
    tcp.expires_after(timeout);
    ec = run(ioc, [&](auto h) { stream.async_handshake(ssl::stream_base::client, std::move(h)); });
  }
  if (ec) {
    out.error = "cannot connect to " + host + ": " + describe(ec);
    return out;
  }
  return exchange(ioc, stream, tcp, timeout, req, body, progress);
}

} // namespace

http_client::http_client(endpoint where, std::chrono::seconds io_timeout)
    : where_(std::move(where)), timeout_(io_timeout) {}

response http_client::request(const std::string& method, const std::string& target,
                              const header_list& headers, const std::string& body) {
  body_plan plan;
  plan.prefix = body;
  return perform(where_, timeout_, method, target, headers, plan,
                 body.empty() ? std::string{} : "application/json", {});
}

response http_client::upload(const std::string& target, const header_list& headers,
                             const std::string& path, const std::string& field,
                             const progress_fn& progress) {
  response out;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    out.error = "not a regular file";
    return out;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::fopen(path.c_str(), "rb"),
                                                       &std::fclose};
  if (!file) {
    out.error = "cannot open the file";
    return out;
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    out.error = "cannot read the file size";
    return out;
  }
  std::string boundary = "hlsgate-cli-";
  static constexpr char hex[] = "0123456789abcdef";
  std::random_device rd;
  for (int i = 0; i < 24; ++i)
    boundary.push_back(hex[rd() & 15]);
  auto frame = multipart_for(field, std::filesystem::path{path}.filename().string(), boundary);
  body_plan plan;
  plan.prefix = std::move(frame.prefix);
  plan.file = file.get();
  plan.file_bytes = size;
  plan.suffix = std::move(frame.suffix);
  return perform(where_, timeout_, "POST", target, headers, plan, frame.content_type, progress);
}

multipart_frame multipart_for(const std::string& field, const std::string& filename,
                              const std::string& boundary) {
  std::string name;
  for (char c : filename) {
    const auto u = static_cast<unsigned char>(c);
    name.push_back(u < 0x20 || u == 0x7f || c == '"' || c == '\\' ? '_' : c);
  }
  if (name.empty())
    name = "upload";
  multipart_frame f;
  f.prefix = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field +
             "\"; filename=\"" + name + "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
  f.suffix = "\r\n--" + boundary + "--\r\n";
  f.content_type = "multipart/form-data; boundary=" + boundary;
  return f;
}

} // namespace hlsgate::cli
