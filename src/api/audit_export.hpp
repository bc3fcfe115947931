// An audit export as an HTTP answer, shared by the API's GET /audit/export and the portal's
// export buttons (src/portal/audit_pages.cpp): CSV streamed page by page, or a PDF of at most
// audit::kMaxPdfRows events. The filter's tenant is already pinned to what the caller reaches.
#pragma once

#include <string>
#include <string_view>

#include "api/module.hpp"
#include "audit/trail.hpp"

namespace breakpilot::api {

// `format` is "csv" or "pdf". A kTooManyRequests error when every export place is taken (the
// caller says when to retry); a 400 when a PDF would hold too many events.
Result<http::Response> AuditExportResponse(const Services& s, audit::Filter f,
                                           std::string_view format);

// The filters in words, for a PDF's heading: "product billing, action tenant.*".
std::string FilterSummary(const audit::Filter& f);

}  // namespace breakpilot::api
