#include "actors/media_registry.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>
#include <unordered_map>

#include "actors/media_actor.hpp"
#include "auth/crypto.hpp"

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

struct registry_state {
  env_ptr env;
  std::unordered_map<std::string, caf::actor> items;
  caf::actor prober;
  static inline const char* name = "media_registry";
};

using registry_ptr = caf::stateful_actor<registry_state>*;

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

/// Expands folders (recursively, media extensions only, sorted) and probes
/// every file. Runs on the prober's thread.
probed_files probe_library(const import_params& p) {
  constexpr size_t max_files = 10000;
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& path : p.paths) {
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(
               path, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator() && found.size() < max_files;
           it.increment(ec))
        if (it->is_regular_file(ec) && media_extension(it->path()))
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
    out.emplace_back(f, media::probe(f, media::open_policy{}));
  return out;
}

/// Probing reads file headers: it runs on a thread of its own, never on a
/// scheduler thread. It takes the environment only because CAF 0.17 binds a
/// reference through a null pointer when spawning a function actor without
/// arguments (UBSan: init_fun_factory.hpp:85).
caf::behavior prober_behavior(caf::event_based_actor*, env_ptr) {
  return {
      [](probe_atom, const std::string& path) -> media::result<media::probe_info> {
        return media::probe(path, media::open_policy{});
      },
      [](import_atom, const import_params& p) -> probed_files { return probe_library(p); },
  };
}

void spawn_item(registry_ptr self, media_params p) {
  auto id = p.record.media_id;
  p.env = self->state.env;
  p.registry = caf::actor_cast<caf::actor>(self);
  auto a = self->spawn<caf::linked>(make_media_behavior, std::move(p));
  self->state.items[id] = a;
}

void on_probed(registry_ptr self, upload_params& p, completion<upload_result>& cb,
               media::result<media::probe_info>& res) {
  std::error_code ec;
  if (!res) {
    fs::remove(p.file_path, ec);
    auto code =
        res.err().code == media::errc::io_error ? api_errc::internal : api_errc::unsupported_media;
    cb(api_error{code, res.err().reason.empty() ? "Not an audio or video file" : res.err().reason});
    return;
  }
  auto& env = *self->state.env;
  media_params mp;
  auto& r = mp.record;
  r.media_id = auth::random_id();
  r.storage_id = auth::random_id();
  mp.admin_key = auth::random_id();
  r.admin_key_hash = auth::sha256_hex(mp.admin_key);
  r.status = media_status::queued;
  r.original_name = p.original_name;
  r.ladder = p.ladder;
  auto t = env.now();
  r.created_at = r.updated_at = r.upload_time = r.last_token_refresh = t;
  r.expires_at = t + int64_t{p.expiry_minutes} * 60;
  r.token_gen = 1;
  r.duration = res->duration;
  // The original moves next to the other originals under a name derived
  // from the storage id, so a restart finds it again.
  r.source_path = (fs::path{env.source_root} / (r.storage_id + ".src")).string();
  fs::rename(p.file_path, r.source_path, ec);
  if (ec) {
    fs::remove(p.file_path, ec);
    cb(api_error{api_errc::internal, "Cannot store the upload"});
    return;
  }
  mp.fresh = true;
  mp.wait_ready = p.wait_ready;
  mp.creator = std::move(cb);
  spawn_item(self, std::move(mp));
}

/// Registers probed library files as on-demand items (persisted first).
void register_imports(registry_ptr self, std::shared_ptr<probed_files> files, size_t i,
                      unsigned minutes, std::shared_ptr<import_result> out,
                      completion<import_result> cb) {
  for (; i < files->size(); ++i) {
    auto& [path, res] = (*files)[i];
    import_item item;
    item.path = path;
    if (!res) {
      item.error = res.err().reason;
      out->items.push_back(std::move(item));
      continue;
    }
    auto& env = *self->state.env;
    media_record r;
    r.media_id = auth::random_id();
    r.storage_id = auth::random_id();
    auto admin_key = auth::random_id();
    r.admin_key_hash = auth::sha256_hex(admin_key);
    r.status = media_status::queued;
    r.original_name = fs::path{path}.filename().string();
    auto t = env.now();
    r.created_at = r.updated_at = r.upload_time = r.last_token_refresh = t;
    r.expires_at = t + int64_t{minutes} * 60;
    r.duration = res->duration;
    r.source_path = path;
    r.source_owned = false;
    r.on_demand = true;
    self->request(env.store, caf::infinite, put_atom_v, r)
        .then(
            [=](bool ok) mutable {
              import_item item;
              item.path = r.source_path;
              if (!ok) {
                item.error = "Cannot record the item";
              } else {
                auth::token_claims c;
                c.sub = r.media_id;
                c.gen = r.token_gen;
                c.iat = r.created_at;
                c.exp = r.expires_at;
                item.media_id = r.media_id;
                item.admin_key = admin_key;
                item.access_token = self->state.env->jwt->issue(c);
                item.expires_at = r.expires_at;
                if (auto* m = self->state.env->metrics)
                  m->token_issued();
                media_params mp;
                mp.record = std::move(r);
                spawn_item(self, std::move(mp));
              }
              out->items.push_back(std::move(item));
              register_imports(self, files, i + 1, minutes, out, cb);
            },
            [=](caf::error&) mutable {
              out->items.push_back({path, {}, {}, {}, 0, "Cannot record the item"});
              register_imports(self, files, i + 1, minutes, out, cb);
            });
    return;
  }
  cb(std::move(*out));
}

template <class T, class F>
void forward(registry_ptr self, const std::string& id, completion<T>& cb, F send) {
  auto i = self->state.items.find(id);
  if (i == self->state.items.end()) {
    cb(api_error{api_errc::not_found, "Media not found"});
    return;
  }
  send(i->second);
}

caf::behavior registry_behavior(registry_ptr self, registry_params p) {
  self->state.env = p.env;
  self->state.prober = self->spawn<caf::detached + caf::linked>(prober_behavior, p.env);
  for (auto& r : p.restore) {
    media_params mp;
    mp.record = std::move(r);
    spawn_item(self, std::move(mp));
  }
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.reason == caf::exit_reason::user_shutdown || em.reason == caf::exit_reason::kill) {
      self->quit(em.reason);
      return;
    }
    // A media actor died abnormally: forget it, keep serving the others.
    for (auto i = self->state.items.begin(); i != self->state.items.end(); ++i) {
      if (i->second.address() == em.source) {
        self->state.items.erase(i);
        break;
      }
    }
  });
  return {
      [self](upload_atom, upload_params& p, completion<upload_result>& cb) {
        self->request(self->state.prober, caf::infinite, probe_atom_v, p.file_path)
            .then(
                [self, p, cb](media::result<media::probe_info>& res) mutable {
                  on_probed(self, p, cb, res);
                },
                [p, cb](caf::error&) {
                  std::error_code ec;
                  fs::remove(p.file_path, ec);
                  cb(api_error{api_errc::internal, "Cannot inspect the upload"});
                });
      },
      [self](playlist_atom, const std::string& id, auth::token_claims& c,
             completion<playlist_ptr>& cb) {
        forward(self, id, cb, [&](caf::actor& a) { self->send(a, playlist_atom_v, c, cb); });
      },
      [self](refresh_atom, const std::string& id, admin_credential& key, unsigned minutes,
             completion<token_result>& cb) {
        forward(self, id, cb,
                [&](caf::actor& a) { self->send(a, refresh_atom_v, key, minutes, cb); });
      },
      [self](info_atom, const std::string& id, admin_credential& key, completion<info_result>& cb) {
        forward(self, id, cb, [&](caf::actor& a) { self->send(a, info_atom_v, key, cb); });
      },
      [self](extend_atom, const std::string& id, admin_credential& key, unsigned minutes,
             completion<extend_result>& cb) {
        forward(self, id, cb,
                [&](caf::actor& a) { self->send(a, extend_atom_v, key, minutes, cb); });
      },
      [self](delete_atom, const std::string& id, admin_credential& key, completion<done>& cb) {
        forward(self, id, cb, [&](caf::actor& a) { self->send(a, delete_atom_v, key, cb); });
      },
      [self](import_atom, import_params& p, completion<import_result>& cb) {
        auto minutes = p.expiry_minutes;
        self->request(self->state.prober, caf::infinite, import_atom_v, std::move(p))
            .then(
                [self, minutes, cb](probed_files& files) {
                  register_imports(self, std::make_shared<probed_files>(std::move(files)), 0,
                                   minutes, std::make_shared<import_result>(), cb);
                },
                [cb](caf::error&) {
                  cb(api_error{api_errc::internal, "Cannot read the library"});
                });
      },
      [self](stream_info_atom, const std::string& id, auth::token_claims& c,
             completion<stream_info_result>& cb) {
        forward(self, id, cb, [&](caf::actor& a) { self->send(a, stream_info_atom_v, c, cb); });
      },
      [self](gone_atom, const std::string& id) { self->state.items.erase(id); },
  };
}

} // namespace

caf::actor spawn_media_registry(caf::actor_system& sys, registry_params p) {
  return sys.spawn(registry_behavior, std::move(p));
}

} // namespace hlsgate::actors
