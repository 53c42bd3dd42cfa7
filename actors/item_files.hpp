// The one owner of every media item's files: where they live, with which
// permissions they are created, and how they go away. Every path that
// creates or removes an item's files (upload, job output, failure, delete,
// expiry, restore of items that lapsed while the server was down, the
// start-up sweep) goes through here, so ownership is honoured everywhere:
// an imported library file is never deleted, whoever asks.
//
// Layout:
//   <media_dir>/<storage_id>/            2750, group = media group
//     <rendition>/seg_NNNNN.ts           0640 (written by the transcoder)
//     <rendition>/seg_NNNNN.vtt          0640 (subtitles: add_rendition)
//     thumbs/poster.jpg, sprite.jpg, storyboard.vtt
//   <data_dir>/sources/<storage_id>.src  0600: an upload's original until its job succeeds
// Imported items reference a file of the user's library instead (never
// deleted, never moved).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "actors/types.hpp"
#include "media/result.hpp"

namespace hlsgate::actors {

class item_files {
public:
  item_files() = default;
  /// `media_dir`: the media tree; `source_dir`: where uploaded originals
  /// wait for their job; `group`: group of the media tree (an nginx edge in
  /// that group serves it; nobody else may read it).
  item_files(std::string media_dir, std::string source_dir, gid_t group);

  const std::string& media_dir() const noexcept { return media_dir_; }
  const std::string& source_dir() const noexcept { return source_dir_; }
  gid_t group() const noexcept { return group_; }

  /// <media_dir>/<storage_id>
  std::string output_dir(const std::string& storage_id) const;
  /// Where an upload's original is kept: <source_dir>/<storage_id>.src
  std::string owned_source(const std::string& storage_id) const;

  /// Moves a finished upload (a temporary file on the same filesystem) to
  /// owned_source(storage_id), owner-only.
  media::status adopt_upload(const std::string& temp_file, const std::string& storage_id) const;

  /// Creates the item's output folder empty (2750, media group), wiping what
  /// an interrupted job left there.
  media::status prepare_output(const std::string& storage_id) const;

  /// Adds rendition folder `name` (media/names.hpp) to the item's output
  /// folder with `files` (file name, bytes), durably: written under
  /// "<name>.part", each file and the folder flushed, then renamed into
  /// place (blocking: callers run it off the scheduler's threads). A folder of
  /// that name is replaced: callers add only names their record does not
  /// hold (a crash between the rename and the record leaves such a folder).
  media::status add_rendition(const std::string& storage_id, const std::string& name,
                              const std::vector<std::pair<std::string, std::string>>& files) const;

  /// Removes one rendition folder of the item (a rendition whose record
  /// could not be written).
  void remove_rendition(const std::string& storage_id, const std::string& name) const;

  /// Removes the item's output folder (rendition folders and thumbnails).
  void remove_output(const std::string& storage_id) const;

  /// The original of `r` once nothing needs it any more; only an original the
  /// item owns (an upload) is deleted, never an imported library file.
  void drop_source(const media_record& r) const;

  /// Everything `r` owns: its output folder and, when owned, its original.
  void remove(const media_record& r) const;

  /// Start-up: removes output folders and owned originals that no record in
  /// `records` references (a crash between a job's start and its record, or
  /// between a record's removal and its files'). Only names hlsgate gives
  /// (storage ids, "<storage id>.src") are candidates: anything else in the
  /// media tree or the source folder is left alone. Returns how many went.
  size_t sweep(const std::vector<media_record>& records) const;

private:
  std::string media_dir_;
  std::string source_dir_;
  gid_t group_ = static_cast<gid_t>(-1);
};

} // namespace hlsgate::actors
