// DumpJson: nlohmann::json::dump for every response and file Ariadne writes.
//
// nlohmann's plain dump() throws type_error.316 when a string holds invalid UTF-8; an uncaught
// throw on a read path takes the process down, and stored strings may predate the receivers'
// repair (common/utf8.h). This form replaces invalid bytes with U+FFFD instead, so it never throws
// for string content. Use it for every dump() of data that can contain stored or client strings.
//
// Header-only; include it only from targets that link nlohmann_json. Threads: reentrant.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ariadne {

inline std::string DumpJson(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ariadne
