// Format 5 (docs/formats/block.md): string attribute values coded against the row's span name.
// Shared by the encoder (block_encode.cc) and the decoder (block_decode.cc).
#include <algorithm>

#include "columnar/block_internal.h"

namespace ariadne::columnar::block_internal {

std::vector<uint32_t> NameRanks(const DictColumn& name, size_t* distinct) {
  constexpr uint32_t kUnset = UINT32_MAX;
  std::vector<uint32_t> rank_of_code(name.dict.size(), kUnset);
  std::vector<uint32_t> used;
  for (uint32_t code : name.codes) {
    if (code >= rank_of_code.size() || rank_of_code[code] != kUnset) continue;
    rank_of_code[code] = 0;
    used.push_back(code);
  }
  std::sort(used.begin(), used.end(),
            [&](uint32_t a, uint32_t b) { return name.dict[a] < name.dict[b]; });
  uint32_t rank = 0;
  for (size_t i = 0; i < used.size(); ++i) {
    if (i > 0 && name.dict[used[i]] != name.dict[used[i - 1]]) ++rank;
    rank_of_code[used[i]] = rank;
  }
  *distinct = used.empty() ? 0 : rank + 1;
  std::vector<uint32_t> ranks(name.codes.size());
  for (size_t row = 0; row < ranks.size(); ++row)
    ranks[row] = name.codes[row] < rank_of_code.size() ? rank_of_code[name.codes[row]] : 0;
  return ranks;
}

bool PredictByName(const std::vector<uint32_t>& entry_ranks, size_t distinct,
                   const std::vector<uint32_t>& codes, std::vector<uint32_t>* predictions) {
  if (distinct > codes.size()) return false;
  // Per name, the majority vote (Boyer-Moore): the code most entries of that name have whenever
  // one has more than half of them; a name without such a code falls short of the 3/4 anyway.
  // Two passes over the entries, no hashing (the writer runs this for every string column).
  std::vector<uint32_t> candidate(distinct, 0), votes(distinct, 0);
  for (size_t i = 0; i < codes.size(); ++i) {
    const uint32_t r = entry_ranks[i];
    if (votes[r] == 0) {
      candidate[r] = codes[i];
      votes[r] = 1;
    } else {
      votes[r] += candidate[r] == codes[i] ? 1 : -1;
    }
  }
  predictions->assign(distinct, 0);
  uint64_t hits = 0;
  for (size_t i = 0; i < codes.size(); ++i) {
    const uint32_t r = entry_ranks[i];
    if (codes[i] != candidate[r]) continue;
    (*predictions)[r] = codes[i] + 1;
    ++hits;
  }
  return hits * 4 >= codes.size() * 3;
}

void ConditionCodes(const std::vector<uint32_t>& entry_ranks,
                    const std::vector<uint32_t>& predictions, std::vector<uint32_t>* codes) {
  for (size_t i = 0; i < codes->size(); ++i) {
    uint32_t& code = (*codes)[i];
    code = predictions[entry_ranks[i]] == code + 1 ? 0 : code + 1;
  }
}

bool UnconditionCodes(const std::vector<uint32_t>& entry_ranks,
                      const std::vector<uint32_t>& predictions, size_t entries,
                      std::vector<uint32_t>* codes) {
  for (size_t i = 0; i < codes->size(); ++i) {
    uint32_t& code = (*codes)[i];
    if (entry_ranks[i] >= predictions.size()) return false;
    const uint32_t predicted = predictions[entry_ranks[i]];
    if (code == 0) {
      if (predicted == 0 || predicted > entries) return false;
      code = predicted - 1;
    } else {
      code -= 1;
      if (code >= entries) return false;
    }
  }
  return true;
}

}  // namespace ariadne::columnar::block_internal
