#include "query/bubbleup.h"

#include <algorithm>
#include <cmath>

namespace ariadne::query {

BubbleUpReport RankBubbleUp(const BubbleUpCounts& counts, size_t top) {
  BubbleUpReport report;
  report.selection_count = counts.selection;
  report.baseline_count = counts.all - counts.selection;
  if (counts.selection <= 0) return report;
  const double baseline_total = report.baseline_count;
  for (const BubbleUpColumnCounts& column : counts.columns) {
    if (!column.skipped.empty()) {
      report.skipped.emplace_back(column.column, column.skipped);
      continue;
    }
    BubbleUpRankedColumn ranked;
    ranked.column = column.column;
    std::vector<std::pair<double, BubbleUpRankedValue>> diffs;
    double distance = 0;
    for (const BubbleUpValueCount& v : column.values) {
      if (std::holds_alternative<std::monostate>(v.value)) continue;
      const double sel = v.selection / counts.selection;
      const double base = baseline_total > 0 ? (v.all - v.selection) / baseline_total : 0;
      distance += std::fabs(sel - base);
      diffs.push_back({std::fabs(sel - base), {v.value, sel, base}});
    }
    std::stable_sort(diffs.begin(), diffs.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    if (diffs.size() > top) diffs.resize(top);
    for (auto& d : diffs) ranked.values.push_back(std::move(d.second));
    ranked.score = distance / 2;
    report.columns.push_back(std::move(ranked));
  }
  std::sort(report.columns.begin(), report.columns.end(),
            [](const BubbleUpRankedColumn& a, const BubbleUpRankedColumn& b) {
              return a.score != b.score ? a.score > b.score : a.column < b.column;
            });
  return report;
}

}  // namespace ariadne::query
