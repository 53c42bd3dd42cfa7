// Durable webhooks and their deliveries, in the same SQLite file as the
// media records (its own connection; tables `webhooks` and
// `webhook_deliveries`). Used by exactly one writer, the webhooks actor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/webhook_model.hpp"
#include "media/result.hpp"

namespace hlsgate::actors {

class webhook_store {
public:
  static media::result<std::unique_ptr<webhook_store>> open(const std::string& path);
  ~webhook_store();
  webhook_store(const webhook_store&) = delete;
  webhook_store& operator=(const webhook_store&) = delete;

  media::status put_webhook(const webhook& w);
  /// Removes the endpoint and every delivery of it.
  media::status remove_webhook(const std::string& id);
  media::result<std::vector<webhook>> load_webhooks();

  /// Adds new deliveries in one transaction.
  media::status add_deliveries(const std::vector<webhook_delivery>& ds);
  /// Writes a delivery's new state; once it is finished, older finished
  /// deliveries of its endpoint beyond webhook_rules::kept_deliveries go.
  media::status update_delivery(const webhook_delivery& d);
  /// Every pending delivery, oldest first.
  media::result<std::vector<webhook_delivery>> load_pending();
  /// The endpoint's newest deliveries first (in the order they were queued),
  /// at most `limit` (bodies left out).
  media::result<std::vector<webhook_delivery>> recent(const std::string& webhook_id, size_t limit);

private:
  struct impl;
  explicit webhook_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace hlsgate::actors
