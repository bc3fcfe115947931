#include "portal/public_pages.hpp"

#include <boost/json.hpp>

namespace breakpilot::portal {

Result<http::Response> PublicPages::Home(http::Request&, const Visit& v) {
  boost::json::array products;
  for (const auto& m : services_.catalog.products()) {
    products.push_back(boost::json::object{{"name", m.name}, {"tagline", m.tagline}});
  }
  return PageResponse(v, "home", "welcome", {{"products", std::move(products)}});
}

Result<http::Response> PublicPages::Export(http::Request& req, const Visit& v) {
  // GET only shows (mail scanners follow links); the file is a second, explicit GET. The link's
  // signature and expiry are checked by the same use case as the download: 404 or 410 here too.
  const std::string id(req.Param("id").value_or(""));
  const std::string token(req.QueryValue("token").value_or(""));
  auto e = services_.engine.DescribeExport(id, token);
  if (!e) return e.error();
  boost::json::object data{
      {"id", e->id},         {"tenant", e->tenant_name}, {"filename", e->filename},
      {"sha256", e->sha256}, {"size", e->size_bytes},    {"token", token}};
  for (auto& [k, x] : TimeFields("expires", e->expires_at)) data[k] = x;
  return PageResponse(v, "export", "export_title", std::move(data));
}

Result<http::Response> PublicPages::ExportDownload(http::Request& req, const Visit&) {
  auto f = services_.engine.Download(std::string(req.Param("id").value_or("")),
                                     std::string(req.QueryValue("token").value_or("")));
  if (!f) return f.error();
  http::Response r{.status = 200};
  r.headers.Set("Content-Type", "application/zip");
  r.headers.Set("Content-Disposition", "attachment; filename=\"" + f->filename + "\"");
  r.body = std::move(f->content);
  return r;
}

std::vector<Page> PublicPages::Pages() {
  return {{.method = "GET",
           .pattern = "/",
           .name = "home",
           .sites = kOnPublic,
           .action = identity::Action::kPublic,
           .handler = Bind(this, &PublicPages::Home)},
          {.method = "GET",
           .pattern = "/exports/{id}",
           .name = "export",
           .sites = kOnPublic,
           .action = identity::Action::kPublic,
           .handler = Bind(this, &PublicPages::Export)},
          {.method = "GET",
           .pattern = "/exports/{id}/download",
           .name = "export_download",
           .sites = kOnPublic,
           .action = identity::Action::kPublic,
           .handler = Bind(this, &PublicPages::ExportDownload)}};
}

}  // namespace breakpilot::portal
