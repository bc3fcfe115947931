#include "api/audit_export.hpp"

#include "audit/export.hpp"

namespace breakpilot::api {

Result<http::Response> AuditExportResponse(const Services& s, audit::Filter f,
                                           std::string_view format) {
  auto slot = s.exports.Take(f.tenant_id.value_or(""));
  if (!slot) return slot.error();
  f.received_by = s.clock.Now();  // the trail as it stood when the export was asked for
  const std::string stamp = FormatRfc3339(*f.received_by);
  const std::string name = "audit-" + f.tenant_id.value_or("all") + "-" + stamp.substr(0, 10) +
                           "." + std::string(format);
  if (format == "pdf") {
    std::vector<audit::Entry> rows;
    bool too_many = false;
    audit::ForEach(s.db, f, [&](const std::vector<audit::Entry>& page) {
      if (rows.size() + page.size() > audit::kMaxPdfRows) return !(too_many = true);
      rows.insert(rows.end(), page.begin(), page.end());
      return true;
    });
    if (too_many) {
      return InvalidInput("export-too-large", "Too many events for a PDF",
                          "a PDF holds at most " + std::to_string(audit::kMaxPdfRows) +
                              " events; narrow the filters or export CSV");
    }
    std::string title = "Audit trail";
    if (f.tenant_id) {
      auto t = s.tenants.Get(*f.tenant_id);
      title += t ? " of " + t->name + " (" + t->slug + ")" : " of " + *f.tenant_id;
    } else {
      title += " of all tenants";
    }
    auto pdf = audit::RenderPdf(
        rows, {.title = title, .filter_summary = FilterSummary(f), .generated_at = stamp});
    if (!pdf) return pdf.error();
    http::Response res{.status = 200, .body = std::move(*pdf)};
    res.headers.Set("Content-Type", "application/pdf");
    res.headers.Set("Content-Disposition", "attachment; filename=\"" + name + "\"");
    return res;
  }
  // CSV: page by page through the keyset cursor, one page per chunk, the next page
  // read and formatted while this one is sent.
  auto pages = std::make_shared<audit::PageWriter>(s.db, f, audit::AppendCsv);
  http::Response res;
  res.headers.Set("Content-Type", "text/csv; charset=utf-8; header=present");
  res.headers.Set("Content-Disposition", "attachment; filename=\"" + name + "\"");
  res.body = audit::CsvHeader();
  res.stream = [pages, place = std::move(*slot)](std::string& out) {
    out = pages->Next();
    return !out.empty();
  };
  return res;
}

std::string FilterSummary(const audit::Filter& f) {
  std::string s;
  const auto add = [&](std::string_view name, const std::string& v) {
    if (!s.empty()) s += ", ";
    s += std::string(name) + " " + v;
  };
  if (f.tenant_id) add("tenant", *f.tenant_id);
  if (f.product) add("product", *f.product);
  if (f.actor_id) add("actor", *f.actor_id);
  if (f.action) add("action", *f.action);
  if (f.crud) add("crud", std::string(1, *f.crud));
  if (f.target_type) add("target type", *f.target_type);
  if (f.target_id) add("target", *f.target_id);
  if (f.from) add("from", FormatRfc3339(*f.from));
  if (f.to) add("before", FormatRfc3339(*f.to));
  if (f.is_failure) add("failures", *f.is_failure ? "only" : "excluded");
  if (f.text) add("text", "\"" + *f.text + "\"");
  if (f.include_demo) add("demo tenant", "included");
  return s.empty() ? "none" : s;
}

}  // namespace breakpilot::api
