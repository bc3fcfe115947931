#include "fake_product.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/crypto.hpp"
#include "http/server.hpp"
#include "storage/database.hpp"

namespace breakpilot::testing {
namespace {

// The audience of a JWT, read without verifying (the platform's signature is tested elsewhere).
std::string Audience(std::string_view authorization) {
  if (authorization.rfind("Bearer ", 0) != 0) return "";
  const std::string_view jwt = authorization.substr(7);
  const auto a = jwt.find('.');
  const auto b = jwt.find('.', a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) return "";
  std::string payload;
  if (!Base64UrlDecode(jwt.substr(a + 1, b - a - 1), payload)) return "";
  try {
    const auto v = boost::json::parse(payload).as_object();
    if (const auto* aud = v.if_contains("aud"); aud && aud->is_string()) {
      return std::string(aud->as_string());
    }
  } catch (const std::exception&) {
  }
  return "";
}

}  // namespace

FakeProduct::FakeProduct(std::vector<std::string> products) : products_(std::move(products)) {
  http::ServerOptions options;
  options.port = 0;
  options.io_threads = 2;
  options.blocking_threads = 4;
  server_ = std::make_unique<http::Server>(
      options,
      [this](http::Request& req) {
        // /<product>/v1/tenants/<id>/<what>
        std::vector<std::string> seg;
        std::string cur;
        for (char c : req.path.substr(1) + "/") {
          if (c == '/') {
            seg.push_back(cur);
            cur.clear();
          } else {
            cur.push_back(c);
          }
        }
        ProductCall call{.method = req.method,
                         .path = req.path,
                         .audience = Audience(req.headers.Get("authorization").value_or("")),
                         .body = req.body,
                         .at = std::chrono::steady_clock::now(),
                         .traceparent = std::string(req.headers.Get("traceparent").value_or(""))};
        if (seg.size() < 5 || seg[1] != "v1" || seg[2] != "tenants") {
          return http::Response::Json(404, R"({"error":"no such route"})");
        }
        call.product = seg[0];
        const std::string& id = seg[3];
        const std::string& what = seg[4];
        http::Response res = http::Response::Json(404, R"({"error":"no such route"})");
        if (req.method == "POST" && id == "demo" && what == "reset") {
          if (fail_resets.load() > 0) {
            --fail_resets;
            res = http::Response::Json(503, R"j({"error":"reset failed (injected)"})j");
          } else {
            res = http::Response::Json(200, R"({"reset":true})");
          }
        } else if (req.method == "GET" && what == "export") {
          call.tenant_id = id;
          std::this_thread::sleep_for(std::chrono::milliseconds(export_delay_ms.load()));
          std::lock_guard lock(mu_);
          if (deleted_.count(call.product + "/" + id)) {
            res = http::Response::Json(410, R"({"error":"tenant data deleted"})");
          } else {
            res = http::Response::Json(
                200, boost::json::serialize(boost::json::object{
                         {"product", call.product},
                         {"tenant_id", id},
                         {"records", boost::json::array{{{"id", 1}, {"title", "first"}},
                                                        {{"id", 2}, {"title", "second"}}}}}));
          }
        } else if (req.method == "DELETE" && what == "data") {
          call.tenant_id = id;
          call.export_stored = export_stored ? export_stored(id) : false;
          std::this_thread::sleep_for(std::chrono::milliseconds(delete_delay_ms.load()));
          std::lock_guard lock(mu_);
          deleted_.insert(call.product + "/" + id);
          res = http::Response::Empty(204);
        }
        std::lock_guard lock(mu_);
        calls_.push_back(std::move(call));
        return res;
      },
      [](const http::Exchange&) {});
  server_->Listen();
  port_ = server_->port();
  thread_ = std::thread([this] { server_->Run(); });
}

FakeProduct::~FakeProduct() {
  server_->Stop();
  thread_.join();
}

void FakeProduct::CheckExportsIn(storage::Database* db) {
  if (db == nullptr) {
    export_stored = nullptr;
    return;
  }
  export_stored = [db](const std::string& tenant_id) {
    bool stored = false;
    db->Read([&](storage::Session& s) {
      stored =
          s.FetchOne({"test_export_stored", "SELECT count(*) FROM exports WHERE tenant_id = $1"},
                     {tenant_id})
              ->Int(0) > 0;
    });
    return stored;
  };
}

std::string FakeProduct::BaseUrl(const std::string& product) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + product;
}

void FakeProduct::WriteCatalog(const std::string& dir) const {
  for (const auto& p : products_) {
    const std::filesystem::path root = std::filesystem::path(dir) / p;
    std::filesystem::create_directories(root / "demo");
    std::ofstream(root / "product.manifest.yaml")
        << "id: " << p << "\nname: " << p << "\nversion: 1.0.0\ndescription: fake " << p
        << "\nvendor: Tests\nbase_url: " << BaseUrl(p)
        << "\nplans: [starter, professional, enterprise]\nsupports_projects: false\n"
           "scopes: [\""
        << p << ":read\"]\ncatalog:\n  category: Test\n  tagline: A contract fake.\n";
    std::ofstream(root / "demo" / "seed.json")
        << R"({"fixture":")" << p << R"(-seed-v1","records":[{"id":1}]})";
  }
}

std::vector<ProductCall> FakeProduct::Calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::size_t FakeProduct::Count(const std::string& method, const std::string& tenant_id) const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(calls_.begin(), calls_.end(), [&](const auto& c) {
    return c.method == method && (tenant_id.empty() || c.tenant_id == tenant_id);
  }));
}

}  // namespace breakpilot::testing
