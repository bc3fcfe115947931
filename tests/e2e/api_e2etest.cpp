// The REST API end to end (M4.2): every operation of api/openapi.yaml, on both stores, through
// the real binary. Responses are also recorded for the OpenAPI conformance test.
#include "e2e_fixture.hpp"

namespace breakpilot::testing {
namespace {

class ApiTest : public E2eTest {};

TEST_P(ApiTest, HealthReadinessMetricsAndDocuments) {
  auto health = client().Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(Str(Json(health), "status"), "ok");
  auto ready = client().Get("/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(Str(Json(ready), "status"), "ready");

  auto doc = client().Get("/openapi.yaml");
  EXPECT_EQ(doc.status, 200);
  EXPECT_NE(doc.body.find("openapi: 3.1"), std::string::npos);
  auto schema = client().Get("/product-manifest.schema.json");
  EXPECT_EQ(schema.status, 200);
  EXPECT_EQ(schema.Header("content-type"), "application/schema+json");
  EXPECT_EQ(Str(Json(schema), "$schema"), "https://json-schema.org/draft/2020-12/schema");
  auto page = client().Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/openapi.yaml"), std::string::npos);
  EXPECT_EQ(client().Get("/docs/reference.js").status, 200);
  auto css = client().Get("/docs/swagger-ui.css");
  EXPECT_EQ(css.status, 200) << "swagger-ui-dist missing: run scripts/setup.sh";
  EXPECT_EQ(client().Get("/docs/package.json").status, 404);

  client().Get("/tenants");
  auto metrics = client().Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("breakpilot_http_requests_total{route=\"tenant_list\",method=\"GET\","
                              "status=\"2xx\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("breakpilot_http_request_duration_seconds_bucket{route=\"healthz\""),
            std::string::npos);
  EXPECT_NE(metrics.body.find("breakpilot_build_info{version=\""), std::string::npos);
  EXPECT_NE(
      metrics.body.find(GetParam() == Store::kSqlite ? "store=\"sqlite\"" : "store=\"postgresql\""),
      std::string::npos);
}

TEST_P(ApiTest, CreateThenReadBack) {
  auto created = client().Post("/tenants", R"({"slug":"acme","name":"Acme GmbH"})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto t = Json(created);
  const std::string id = Str(t, "id");
  EXPECT_EQ(created.Header("Location"), "/tenants/" + id);
  EXPECT_EQ(created.Header("ETag"), "\"1\"");
  EXPECT_EQ(Str(t, "slug"), "acme");
  EXPECT_EQ(Str(t, "kind"), "customer");
  EXPECT_EQ(Str(t, "status"), "trial");
  EXPECT_EQ(Str(t, "plan"), "starter");
  EXPECT_FALSE(Str(t, "trial_ends_at").empty());

  auto got = client().Get("/tenants/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Json(got), t);
  EXPECT_EQ(got.Header("Cache-Control"), "no-store");
  EXPECT_EQ(got.Header("X-Content-Type-Options"), "nosniff");
  auto upper = id;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(client().Get("/tenants/" + upper).status, 200) << "UUIDs are case-insensitive";
  auto not_modified = client().Request("GET", "/tenants/" + id, "", {{"If-None-Match", "\"1\""}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(client().Request("HEAD", "/tenants/" + id).status, 200);
}

TEST_P(ApiTest, CreateVariants) {
  auto internal = CreateTenant("ops", R"(,"kind":"internal","plan":"enterprise")");
  EXPECT_EQ(Str(internal, "status"), "active");
  EXPECT_TRUE(internal.at("trial_ends_at").is_null());
  auto active = CreateTenant("paid", R"(,"initial_status":"active","plan":"professional")");
  EXPECT_EQ(Str(active, "status"), "active");
  EXPECT_EQ(Str(active, "plan"), "professional");
}

TEST_P(ApiTest, ListFiltersAndPaginates) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(Str(CreateTenant("t" + std::to_string(i)), "id"));
  CreateTenant("ops", R"(,"kind":"internal")");

  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = client().Get("/tenants?kind=customer&limit=3" +
                          (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = Json(r);
    for (const auto& item : body.at("items").as_array())
      seen.push_back(Str(item.as_object(), "id"));
    if (body.at("next_cursor").is_null()) break;
    cursor = std::string(body.at("next_cursor").as_string());
  }
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, newest_first);

  auto by_slug = Json(client().Get("/tenants?slug=t3"));
  ASSERT_EQ(by_slug.at("items").as_array().size(), 1u);
  EXPECT_EQ(Str(by_slug.at("items").as_array()[0].as_object(), "id"), ids[3]);
  auto internal = Json(client().Get("/tenants?kind=internal&status=active"));
  EXPECT_EQ(internal.at("items").as_array().size(), 1u);
  EXPECT_EQ(Json(client().Get("/tenants?status=frozen")).at("items").as_array().size(), 0u);
}

TEST_P(ApiTest, PatchWithEtags) {
  auto t = CreateTenant("acme");
  const std::string id = Str(t, "id");
  auto r =
      client().Request("PATCH", "/tenants/" + id, R"({"name":"Acme AG"})", {{"If-Match", "\"1\""}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(Json(r), "name"), "Acme AG");
  EXPECT_EQ(r.Header("ETag"), "\"2\"");
  auto stale = client().Request("PATCH", "/tenants/" + id, R"({"name":"Lost update"})",
                                {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(Str(Json(client().Get("/tenants/" + id)), "name"), "Acme AG");
  auto merge = client().Request("PATCH", "/tenants/" + id, R"({"plan":"enterprise"})",
                                {{"Content-Type", "application/merge-patch+json"}});
  ASSERT_EQ(merge.status, 200) << merge.body;
  EXPECT_EQ(Str(Json(merge), "plan"), "enterprise");
  EXPECT_EQ(Str(Json(merge), "name"), "Acme AG");
}

TEST_P(ApiTest, LifecycleActivateCancel) {
  const std::string id = Str(CreateTenant("acme"), "id");
  auto activated = client().Post("/tenants/" + id + "/activate", "");
  ASSERT_EQ(activated.status, 200) << activated.body;
  EXPECT_EQ(Str(Json(activated), "status"), "active");
  auto again = client().Post("/tenants/" + id + "/activate", "");
  EXPECT_EQ(again.status, 200) << "repeating an action is an idempotent no-op";
  EXPECT_EQ(Json(again).at("version"), Json(activated).at("version"));

  auto cancelled =
      client().Post("/tenants/" + id + "/cancel", R"({"reason":"budget cut","confirm":"acme"})");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(Str(Json(cancelled), "status"), "frozen");
  EXPECT_EQ(Str(Json(cancelled), "cancel_reason"), "budget cut");

  auto illegal = client().Post("/tenants/" + id + "/activate", "");
  ASSERT_EQ(illegal.status, 409);
  auto problem = Json(illegal);
  EXPECT_EQ(Str(problem, "current_status"), "frozen");
  bool offers_reactivate = false;
  for (const auto& a : problem.at("allowed_transitions").as_array()) {
    offers_reactivate |= Str(a.as_object(), "action") == "reactivate";
  }
  EXPECT_TRUE(offers_reactivate) << illegal.body;
}

TEST_P(ApiTest, ProjectsCrud) {
  const std::string tid = Str(CreateTenant("acme"), "id");
  const std::string base = "/tenants/" + tid + "/projects";
  auto created = client().Post(base, R"({"name":"ISO 27001","description":"first audit"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string pid = Str(Json(created), "id");
  EXPECT_EQ(created.Header("Location"), base + "/" + pid);
  EXPECT_EQ(client().Post(base, R"({"name":"ISO 27001"})").status, 409);
  client().Post(base, R"({"name":"NIS2"})");

  auto list = Json(client().Get(base + "?limit=1"));
  EXPECT_EQ(list.at("items").as_array().size(), 1u);
  EXPECT_FALSE(list.at("next_cursor").is_null());
  EXPECT_EQ(Json(client().Get(base)).at("items").as_array().size(), 2u);

  auto got = client().Get(base + "/" + pid);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Str(Json(got), "description"), "first audit");
  auto patched = client().Request("PATCH", base + "/" + pid, R"({"description":"second audit"})",
                                  {{"If-Match", "\"1\""}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Str(Json(patched), "description"), "second audit");
  EXPECT_TRUE(Json(patched).at("archived_at").is_null());
  // Archived (its first instant kept when archived again), then restored.
  auto archived = client().Request("PATCH", base + "/" + pid, R"({"archived":true})");
  ASSERT_EQ(archived.status, 200) << archived.body;
  const std::string at = Str(Json(archived), "archived_at");
  EXPECT_FALSE(at.empty());
  EXPECT_EQ(
      Str(Json(client().Request("PATCH", base + "/" + pid, R"({"archived":true})")), "archived_at"),
      at);
  EXPECT_EQ(client().Request("PATCH", base + "/" + pid, R"({"archived":"yes"})").status, 422);
  EXPECT_EQ(client().Post(base, R"({"name":"Born archived","archived":true})").status, 422);
  auto restored = client().Request("PATCH", base + "/" + pid, R"({"archived":false})");
  ASSERT_EQ(restored.status, 200) << restored.body;
  EXPECT_TRUE(Json(restored).at("archived_at").is_null());
  EXPECT_EQ(client().Request("DELETE", base + "/" + pid).status, 204);
  EXPECT_EQ(client().Get(base + "/" + pid).status, 404);
  EXPECT_EQ(client().Request("DELETE", base + "/" + pid).status, 404);
}

TEST_P(ApiTest, ProjectsAreScopedToTheirTenant) {
  const std::string a = Str(CreateTenant("alpha"), "id");
  const std::string b = Str(CreateTenant("beta"), "id");
  auto created = client().Post("/tenants/" + a + "/projects", R"({"name":"secret"})");
  const std::string pid = Str(Json(created), "id");
  EXPECT_EQ(client().Get("/tenants/" + b + "/projects/" + pid).status, 404);
  EXPECT_EQ(
      client().Request("PATCH", "/tenants/" + b + "/projects/" + pid, R"({"name":"x"})").status,
      404);
  EXPECT_EQ(client().Request("DELETE", "/tenants/" + b + "/projects/" + pid).status, 404);
  EXPECT_EQ(Json(client().Get("/tenants/" + b + "/projects")).at("items").as_array().size(), 0u);
  EXPECT_EQ(client().Get("/tenants/" + a + "/projects/" + pid).status, 200);
}

TEST_P(ApiTest, CatalogAndSubscriptions) {
  auto catalog = client().Get("/catalog");
  ASSERT_EQ(catalog.status, 200);
  std::vector<std::string> products;
  const auto items = Json(catalog).at("items").as_array();
  for (const auto& p : items) products.push_back(Str(p.as_object(), "id"));
  EXPECT_EQ(products, (std::vector<std::string>{"breakpilot-compliance", "certifai"}));

  const std::string tid = Str(CreateTenant("acme"), "id");
  const std::string base = "/tenants/" + tid + "/products";
  auto sub = client().Post(base, R"({"product_id":"certifai"})");
  ASSERT_EQ(sub.status, 201) << sub.body;
  EXPECT_EQ(Str(Json(sub), "plan"), "starter");
  EXPECT_EQ(client().Post(base, R"({"product_id":"certifai"})").status, 200)
      << "already subscribed";
  auto pro = client().Post(base, R"({"product_id":"breakpilot-compliance","plan":"professional"})");
  EXPECT_EQ(pro.status, 201) << pro.body;
  EXPECT_EQ(Json(client().Get(base)).at("items").as_array().size(), 2u);
  EXPECT_EQ(client().Request("DELETE", base + "/certifai").status, 204);
  EXPECT_EQ(client().Request("DELETE", base + "/certifai").status, 404);
  EXPECT_EQ(Json(client().Get(base)).at("items").as_array().size(), 1u);
}

TEST_P(ApiTest, IdempotencyKeyReplaysTheFirstAnswer) {
  const std::map<std::string, std::string> key{{"Idempotency-Key", "create-acme-1"}};
  const std::string body = R"({"slug":"acme","name":"Acme"})";
  auto first = client().Request("POST", "/tenants", body, key);
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = client().Request("POST", "/tenants", body, key);
  EXPECT_EQ(second.status, 201);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.Header("Location"), first.Header("Location"));
  EXPECT_EQ(second.Header("Idempotent-Replayed"), "true");
  auto other = client().Request("POST", "/tenants", R"({"slug":"other","name":"Other"})", key);
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(Json(client().Get("/tenants")).at("items").as_array().size(), 1u);
  // Without a key the same body is a new request: the slug is taken now.
  EXPECT_EQ(client().Post("/tenants", body).status, 409);
}

TEST_P(ApiTest, RequestIdAndTraceparentPassThrough) {
  const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto r =
      client().Request("GET", "/healthz", "", {{"X-Request-Id", "req-123"}, {"traceparent", tp}});
  EXPECT_EQ(r.Header("X-Request-Id"), "req-123");
  EXPECT_EQ(r.Header("traceparent"), tp);
  auto generated = client().Get("/healthz");
  EXPECT_EQ(generated.Header("X-Request-Id").size(), 32u);
  auto bad = client().Request("GET", "/healthz", "", {{"traceparent", "00-zz-00-01"}});
  EXPECT_EQ(bad.Header("traceparent"), "") << "an invalid traceparent is dropped, not echoed";
  // The access log is JSON lines with the request id and trace id.
  const std::string log = server_->Log();
  EXPECT_NE(log.find("\"request_id\":\"req-123\""), std::string::npos);
  EXPECT_NE(log.find("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""), std::string::npos);
}

BREAKPILOT_ON_BOTH_STORES(ApiTest);

}  // namespace
}  // namespace breakpilot::testing
