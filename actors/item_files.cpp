#include "actors/item_files.hpp"

#include "media/names.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>
#include <system_error>
#include <unordered_set>

namespace fs = std::filesystem;

namespace hlsgate::actors {

namespace {

constexpr mode_t output_dir_mode = 02750; // setgid: files inside inherit the media group
constexpr const char* source_suffix = ".src";

/// Names hlsgate gives item folders: a storage id (22 base64url characters,
/// auth::random_id). The sweep touches nothing else, whatever else an
/// operator keeps in a shared media tree.
bool is_storage_id(std::string_view s) {
  if (s.size() != 22)
    return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  return true;
}

bool owned_by(const media_record& r, const std::string& source_dir) {
  // Ownership is the record's flag; the path check is a second guard, so a
  // record that claims ownership of a file elsewhere still cannot delete it.
  if (!r.source_owned || r.source_path.empty())
    return false;
  return fs::path{r.source_path}.parent_path() == fs::path{source_dir};
}

} // namespace

item_files::item_files(std::string media_dir, std::string source_dir, gid_t group)
    : media_dir_(std::move(media_dir)), source_dir_(std::move(source_dir)), group_(group) {}

std::string item_files::output_dir(const std::string& storage_id) const {
  return (fs::path{media_dir_} / storage_id).string();
}

std::string item_files::owned_source(const std::string& storage_id) const {
  return (fs::path{source_dir_} / (storage_id + source_suffix)).string();
}

media::status item_files::adopt_upload(const std::string& temp_file,
                                       const std::string& storage_id) const {
  const auto target = owned_source(storage_id);
  if (::chmod(temp_file.c_str(), 0600) != 0 || ::rename(temp_file.c_str(), target.c_str()) != 0)
    return media::error{media::errc::io_error, "Cannot store the upload"};
  return media::ok_status();
}

media::status item_files::prepare_output(const std::string& storage_id) const {
  const auto dir = output_dir(storage_id);
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec || ::mkdir(dir.c_str(), 0700) != 0)
    return media::error{media::errc::io_error, "Cannot create the output folder"};
  // Modes are set explicitly, not left to the umask; the group comes first
  // (chown clears the setgid bit on some systems).
  if ((group_ != static_cast<gid_t>(-1) &&
       ::chown(dir.c_str(), static_cast<uid_t>(-1), group_) != 0) ||
      ::chmod(dir.c_str(), output_dir_mode) != 0) {
    fs::remove_all(dir, ec);
    return media::error{media::errc::io_error, "Cannot set up the output folder"};
  }
  return media::ok_status();
}

media::status
item_files::add_rendition(const std::string& storage_id, const std::string& name,
                          const std::vector<std::pair<std::string, std::string>>& files) const {
  const media::error failed{media::errc::io_error, "Cannot write the rendition"};
  if (!is_storage_id(storage_id) || !media::is_rendition_name(name))
    return failed;
  const fs::path out = output_dir(storage_id);
  const fs::path part = out / (name + ".part"), target = out / name;
  std::error_code ec;
  fs::remove_all(part, ec);
  if (::mkdir(part.c_str(), 0750) != 0)
    return failed;
  // Like the item folder: setgid, so the files get the media group (an
  // nginx edge in that group serves them).
  bool ok = ::chmod(part.c_str(), output_dir_mode) == 0;
  for (size_t i = 0; ok && i < files.size(); ++i) {
    const auto& [file, bytes] = files[i];
    const int fd =
        ::open((part / file).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    ok = fd >= 0;
    for (size_t done = 0; ok && done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      ok = n > 0;
      done += ok ? static_cast<size_t>(n) : 0;
    }
    ok = ok && ::fdatasync(fd) == 0;
    if (fd >= 0)
      ok = ::close(fd) == 0 && ok;
  }
  if (ok) { // the folder's entries
    const int dfd = ::open(part.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ok = dfd >= 0 && ::fsync(dfd) == 0;
    if (dfd >= 0)
      ::close(dfd);
  }
  if (ok) {
    fs::remove_all(target, ec);
    ok = ::rename(part.c_str(), target.c_str()) == 0;
  }
  if (ok) {
    const int dfd = ::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ok = dfd >= 0 && ::fsync(dfd) == 0;
    if (dfd >= 0)
      ::close(dfd);
  }
  if (!ok) {
    fs::remove_all(part, ec);
    return failed;
  }
  return media::ok_status();
}

void item_files::remove_rendition(const std::string& storage_id, const std::string& name) const {
  if (!is_storage_id(storage_id) || !media::is_rendition_name(name))
    return;
  std::error_code ec;
  fs::remove_all(fs::path{output_dir(storage_id)} / name, ec);
}

void item_files::remove_output(const std::string& storage_id) const {
  if (storage_id.empty())
    return;
  std::error_code ec;
  fs::remove_all(output_dir(storage_id), ec);
}

void item_files::drop_source(const media_record& r) const {
  if (!owned_by(r, source_dir_))
    return;
  std::error_code ec;
  fs::remove(r.source_path, ec);
}

void item_files::remove(const media_record& r) const {
  remove_output(r.storage_id);
  drop_source(r);
}

size_t item_files::sweep(const std::vector<media_record>& records) const {
  std::unordered_set<std::string> outputs, sources;
  for (const auto& r : records) {
    outputs.insert(r.storage_id);
    if (owned_by(r, source_dir_))
      sources.insert(fs::path{r.source_path}.filename().string());
  }
  size_t removed = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(media_dir_, ec)) {
    auto name = e.path().filename().string();
    if (is_storage_id(name) && outputs.count(name) == 0 && e.is_directory(ec) &&
        !e.is_symlink(ec)) {
      fs::remove_all(e.path(), ec);
      ++removed;
    }
  }
  for (auto& e : fs::directory_iterator(source_dir_, ec)) {
    auto name = e.path().filename().string();
    const bool ours = name.size() > 4 && name.compare(name.size() - 4, 4, source_suffix) == 0 &&
                      is_storage_id(std::string_view{name}.substr(0, name.size() - 4));
    if (ours && sources.count(name) == 0) {
      fs::remove_all(e.path(), ec);
      ++removed;
    }
  }
  return removed;
}

} // namespace hlsgate::actors
