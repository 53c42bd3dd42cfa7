// The NAL reordering of a copied keyframe (media/annexb.hpp), on source
// bytes an uploader controls. Invariants: the size never changes, the bytes
// are a permutation of the input's, a second pass moves nothing.
#include "media/annexb.hpp"

#include <algorithm>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> au(data, data + size);
  hlsgate::media::parameter_sets_first(au.data(), au.size());
  std::vector<uint8_t> in(data, data + size), out = au;
  std::sort(in.begin(), in.end());
  std::sort(out.begin(), out.end());
  if (in != out)
    __builtin_trap();
  if (hlsgate::media::parameter_sets_first(au.data(), au.size()))
    __builtin_trap();
  return 0;
}
