// Durable registrations of proxied streams, in the same SQLite file as the
// media records (its own connection; table `proxy_streams`). A write is one
// short statement with synchronous=FULL: durable when it returns.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/proxy_model.hpp"
#include "media/result.hpp"

namespace hlsgate::actors {

class proxy_store {
public:
  static media::result<std::unique_ptr<proxy_store>> open(const std::string& path);
  ~proxy_store();
  proxy_store(const proxy_store&) = delete;
  proxy_store& operator=(const proxy_store&) = delete;

  media::status put(const proxy_config& c);
  media::status remove(const std::string& id);
  /// Every stored stream, oldest first; a row that cannot be read is skipped (and logged).
  media::result<std::vector<proxy_config>> load();

private:
  struct impl;
  explicit proxy_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::actors
