// QueryResultJson: renders a QueryResult in Honeycomb's shape (the body of POST /api/v1/query)
// straight into a string with JsonWriter, without building a JSON document first.
//
// Contract: the text parses to the same JSON value as query::ResultToJson(spec, result) — the same
// members in the same (sorted) order, a member named twice (a breakdown and a calculation label)
// keeps the value written last there, the same integer/float kinds (doubles always carry a '.' or
// an exponent), not-finite doubles as null; invalid UTF-8 in strings becomes U+FFFD (written as
// the \ufffd escape). tests/query/query_result_json_test.cc holds it to that. A time series of a
// few hundred groups × 120 buckets is ~1.5 MB: the document form spent most of a filtered COUNT's
// server time on allocating it.
//
// Threads: reentrant.
#pragma once

#include <string>

#include "query/query_spec.h"

namespace ariadne::api {

std::string QueryResultJson(const query::QuerySpec& spec, const query::QueryResult& result);

}  // namespace ariadne::api
