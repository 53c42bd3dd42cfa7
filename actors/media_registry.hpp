// media_registry: public id -> media actor. Spawns an actor per upload (after
// a probe on the prober's thread) and per restored record, forwards requests
// to the right actor, answers 404 for unknown ids.
#pragma once

#include <vector>

#include "actors/type_ids.hpp"

namespace hlsgate::actors {

struct registry_params {
  env_ptr env;
  std::vector<media_record> restore; ///< live records to spawn actors for
};

caf::actor spawn_media_registry(caf::actor_system& sys, registry_params p);

} // namespace hlsgate::actors
