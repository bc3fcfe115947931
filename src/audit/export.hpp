// Taking the trail away (M10.2): CSV per RFC 4180, written row by row so an export of any size
// streams in constant memory, and a paginated PDF table through libharu.
//
//   PageWriter pages(db, filter, AppendCsv);           // audit/trail.hpp
//   std::string out = CsvHeader();
//   for (auto page = pages.Next(); !page.empty(); page = pages.Next()) out += page;
//   auto pdf = RenderPdf(entries, {.title = "Audit trail", ...});   // Result<std::string>
#pragma once

#include <string>
#include <vector>

#include "audit/entry.hpp"
#include "core/result.hpp"
#include "storage/database.hpp"

namespace breakpilot::audit {

// The CSV header line (CRLF-terminated).
std::string CsvHeader();
// One audit_log row selected with kColumns as a CSV record (CRLF-terminated). A cell that a
// spreadsheet would run as a formula (starting with = + - @ or a tab or CR) gets a leading
// apostrophe (OWASP CSV injection).
void AppendCsv(std::string& out, const storage::RowView& row);

inline constexpr std::size_t kMaxPdfRows = 50'000;

struct PdfInfo {
  std::string title;           // "Audit trail of Acme (acme)"
  std::string filter_summary;  // "actor 0192..., from 2026-10-01"
  std::string generated_at;    // RFC 3339
};

// A PDF: title, filter summary and time of generation on every page, a table of the events,
// "page i of n" at the foot. Text outside Windows-1252 prints as '?' (the standard fonts).
Result<std::string> RenderPdf(const std::vector<Entry>& entries, const PdfInfo& info);

}  // namespace breakpilot::audit
