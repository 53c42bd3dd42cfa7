// media_registry: public id -> media actor. Spawns an actor per upload
// (after a probe on the prober's thread), per import and per restored
// record, forwards requests to the right actor, and answers 404 for unknown
// ids. While draining (shutdown) it refuses new uploads and tells every item
// to answer its waiting uploads.
#pragma once

#include <vector>

#include "actors/interfaces.hpp"

namespace hlsgate::actors {

struct registry_params {
  env_ptr env;
  std::vector<media_record> restore; ///< live records to spawn actors for
};

registry_actor spawn_media_registry(caf::actor_system& sys, registry_params p);

} // namespace hlsgate::actors
