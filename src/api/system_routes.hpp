// The operational routes: /healthz, /readyz, /metrics, the OpenAPI document and its reference page.
#pragma once

#include <string>
#include <vector>

#include "api/module.hpp"
#include "http/metrics.hpp"

namespace breakpilot::api {

class SystemRoutes : public Module {
 public:
  // `metrics`: the API's, which /metrics renders; `docs_dir`: swagger-ui-dist, for GET /.
  SystemRoutes(const Services& s, http::Metrics& metrics, std::string docs_dir);
  std::vector<Endpoint> Routes() override;

 private:
  Result<http::Response> Healthz(http::Request& req, const Caller& caller);
  Result<http::Response> Readyz(http::Request& req, const Caller& caller);
  Result<http::Response> Metrics(http::Request& req, const Caller& caller);
  Result<http::Response> Openapi(http::Request& req, const Caller& caller);
  Result<http::Response> ManifestSchema(http::Request& req, const Caller& caller);
  Result<http::Response> Reference(http::Request& req, const Caller& caller);
  Result<http::Response> ReferenceAsset(http::Request& req, const Caller& caller);

  storage::Database& db_;
  std::function<std::vector<backoffice::IntegrationStatus>()> integrations_;
  http::Metrics& metrics_;
  std::string docs_dir_;
};

}  // namespace breakpilot::api
