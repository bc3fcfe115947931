#include "api/backoffice_routes.hpp"

#include <boost/json.hpp>

namespace breakpilot::api {

Result<http::Response> BackofficeRoutes::ErpNextWebhook(http::Request& req, const Caller&) {
  auto done =
      erpnext_.ReceiveWebhook(req.headers.Get("x-frappe-webhook-signature").value_or(""), req.body);
  if (!done) return done.error();
  return http::Response::Json(
      200, boost::json::serialize(boost::json::object{{"received", true},
                                                      {"repeat", done->repeat},
                                                      {"tenant_id", done->tenant_id},
                                                      {"lifecycle", done->action}}));
}

std::vector<Endpoint> BackofficeRoutes::Routes() {
  // Frappe signs; no bearer. The signature and the message's own content are the checks.
  return {{.method = "POST",
           .pattern = "/erpnext/webhook",
           .name = "erpnext_webhook",
           .action = identity::Action::kPublic,
           .body = {kJson},
           .handler = Bind(this, &BackofficeRoutes::ErpNextWebhook)}};
}

}  // namespace breakpilot::api
