#include "actors/prober.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

bool media_extension(const fs::path& p) {
  static const char* exts[] = {".mp4",  ".m4v", ".mov",  ".mkv",  ".webm", ".avi", ".ts",
                               ".m2ts", ".mpg", ".mpeg", ".flv",  ".wmv",  ".3gp", ".mp3",
                               ".m4a",  ".aac", ".wav",  ".flac", ".ogg",  ".opus"};
  auto e = p.extension().string();
  for (auto& c : e)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto* x : exts)
    if (e == x)
      return true;
  return false;
}

} // namespace

prober_actor::behavior_type prober_behavior(prober_actor::pointer, env_ptr env) {
  return {
      [env](probe_atom, const std::string& path) -> media::result<media::probe_info> {
        // An upload is a file of ours in the upload folder: nothing else.
        return media::probe(path, media::confined_to(env->upload_dir));
      },
      [env](import_atom, const import_params& p) -> probed_files {
        return probe_library(p, env->cfg.import_root);
      },
  };
}

probed_files probe_library(const import_params& p, const std::string& import_root) {
  const media::open_policy policy = media::confined_to(import_root);
  constexpr size_t max_files = max_import_files;
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& path : p.paths) {
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      // Symlinks are not followed while walking; each file is checked
      // against the root again when libav opens it.
      for (auto it = fs::recursive_directory_iterator(
               path, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator() && found.size() < max_files;
           it.increment(ec))
        if (!it->is_symlink(ec) && it->is_regular_file(ec) && media_extension(it->path()))
          found.push_back(it->path().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(path);
    }
  }
  if (files.size() > max_files)
    files.resize(max_files);
  probed_files out;
  for (auto& f : files)
    out.emplace_back(f, media::probe(f, policy));
  return out;
}

} // namespace hlsgate::actors
