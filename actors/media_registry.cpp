#include "actors/media_registry.hpp"

#include <filesystem>
#include <system_error>
#include <unordered_map>

#include "actors/media_actor.hpp"
#include "media/crypto.hpp"

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

/// Probing reads file headers: it runs on a thread of its own, never on a
/// scheduler thread. It takes the environment only because CAF 0.17 binds a
/// reference through a null pointer when spawning a function actor without
/// arguments (UBSan: init_fun_factory.hpp:85).
caf::behavior prober_behavior(caf::event_based_actor*, env_ptr) {
  return {
      [](probe_atom, const std::string& path) -> media::result<media::probe_info> {
        return media::probe(path);
      },
  };
}

void spawn_item(registry_ptr self, media_params p) {
  auto id = p.record.media_id;
  p.env = self->state.env;
  p.registry = caf::actor_cast<caf::actor>(self);
  auto a = self->spawn<caf::linked>(make_media_behavior, std::move(p));
  self->state.items[id] = a;
}

void on_probed(registry_ptr self, upload_params& p, callback<upload_result>& cb,
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
  r.media_id = media::random_id();
  r.storage_id = media::random_id();
  mp.admin_key = media::random_id();
  r.admin_key_hash = media::sha256_hex(mp.admin_key);
  r.status = media_status::queued;
  r.original_name = p.original_name;
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

template <class T, class F>
void forward(registry_ptr self, const std::string& id, callback<T>& cb, F send) {
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
      [self](upload_atom, upload_params& p, callback<upload_result>& cb) {
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
      [self](playlist_atom, const std::string& id, media::token_claims& c,
             callback<playlist_ptr>& cb) {
        forward(self, id, cb, [&](caf::actor& a) { self->send(a, playlist_atom_v, c, cb); });
      },
      [self](refresh_atom, const std::string& id, std::string& key, unsigned minutes,
             callback<token_result>& cb) {
        forward(self, id, cb,
                [&](caf::actor& a) { self->send(a, refresh_atom_v, key, minutes, cb); });
      },
      [self](info_atom, const std::string& id, std::string& key, callback<info_result>& cb) {
        forward(self, id, cb, [&](caf::actor& a) { self->send(a, info_atom_v, key, cb); });
      },
      [self](extend_atom, const std::string& id, std::string& key, unsigned minutes,
             callback<extend_result>& cb) {
        forward(self, id, cb,
                [&](caf::actor& a) { self->send(a, extend_atom_v, key, minutes, cb); });
      },
      [self](delete_atom, const std::string& id, std::string& key, callback<done>& cb) {
        forward(self, id, cb, [&](caf::actor& a) { self->send(a, delete_atom_v, key, cb); });
      },
      [self](gone_atom, const std::string& id) { self->state.items.erase(id); },
  };
}

} // namespace

caf::actor spawn_media_registry(caf::actor_system& sys, registry_params p) {
  return sys.spawn(registry_behavior, std::move(p));
}

} // namespace hlsgate::actors
