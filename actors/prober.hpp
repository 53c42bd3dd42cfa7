// The prober: reads file headers with libav on a thread of its own (a
// detached actor), never on a scheduler thread.
//
//   (probe_atom, path) -> result<probe_info>       an upload
//   (import_atom, import_params) -> probed_files   library files and folders
#pragma once

#include "actors/interfaces.hpp"

namespace hlsgate::actors {

/// The prober's behaviour; spawn it detached (it blocks on file I/O).
/// It takes the environment also because CAF 0.17 binds a reference through
/// a null pointer when spawning a function actor without arguments (UBSan:
/// init_fun_factory.hpp:85).
prober_actor::behavior_type prober_behavior(prober_actor::pointer self, env_ptr env);

/// At most this many files per import request (each is probed, and the
/// request waits for all of them).
inline constexpr size_t max_import_files = 1000;

/// Expands folders (recursively, media file extensions only, sorted, at most
/// max_import_files files) and probes every file; files must lie under `import_root`
/// when it is set (checked again by libav's open). Used by the prober.
probed_files probe_library(const import_params& p, const std::string& import_root);

} // namespace hlsgate::actors
