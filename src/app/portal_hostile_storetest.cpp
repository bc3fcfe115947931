// Hostile input on every form of the portal, generated from its page table (issue 23), on both
// stores. For each POST page of each site, the forms the site renders (as a signed-in IT_ADMIN
// on a tenant's site, a platform admin on the backstage, a visitor on the public site) give the
// real action, its fields and its CSRF token; a page no rendered form posts to gets a made-up id
// and every field name seen anywhere. Each is then sent: without its CSRF token, with a stale
// one, with markup and script in every field, with over-long fields, with wrong types, and twice.
// Every answer is a page (HTML or a redirect), never a 5xx; a refusal (4xx) says why on the page
// and leaves every table exactly as it was; no answer ever carries the markup unescaped.
// In-process on the Platform `serve` builds (tests/browser/ covers what only a browser shows).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <regex>
#include <set>

#include "app/platform.hpp"
#include "core/crypto.hpp"
#include "portal/portal.hpp"
#include "test_env.hpp"

namespace breakpilot::portal {
namespace {

using testing::Store;

constexpr std::string_view kMarkup =
    "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>{{t}}";

struct Form {
  std::string action;
  std::map<std::string, std::string> fields;  // hidden ones with their values, others empty
  std::string cookies;                        // what the page set (the sign-in form's token)
};

class PortalHostileTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    platform_ = std::make_unique<app::Platform>(
        app::PlatformOptions{.admin_token = "unit-test-token-0123456789"}, *db_, clock_, catalog_);
    portal_ = std::make_unique<Portal>(platform_->services(), PortalOptions{.domain = "localhost"});
    auto s = platform_->services();
    catalog::SyncProducts(*db_, clock_, catalog_);
    acme_ = *s.tenants.Create(actor_, {.slug = "acme", .name = "Acme"});
    ASSERT_TRUE(s.tenants.EnsureDemoTenant(actor_).ok());
    // Products, a key, a project and members, so the forms that act on one are rendered.
    ASSERT_TRUE(s.subscriptions.Subscribe(actor_, acme_.id, "certifai", std::nullopt));
    ASSERT_TRUE(s.subscriptions.Subscribe(actor_, acme_.id, "breakpilot-compliance", std::nullopt));
    ASSERT_TRUE(s.api_keys.Create(
        actor_, {.tenant_id = acme_.id, .name = "k", .scopes = {"certifai:read"}}));
    ASSERT_TRUE(s.projects.Create(actor_, acme_.id, {.name = "Alpha", .description = ""}));
    admin_ = *s.directory.CreateUser(
        actor_,
        {.username = "ada", .display_name = "Ada", .memberships = {{acme_.id, {"IT_ADMIN"}}}});
    ASSERT_TRUE(s.directory.CreateUser(
        actor_, {.username = "uma", .display_name = "Uma", .memberships = {{acme_.id, {"USER"}}}}));
    staff_ = *s.directory.CreateUser(
        actor_, {.username = "sam", .display_name = "Sam", .realm_roles = {"BREAKPILOT_ADMIN"}});
  }

  // A fresh session of the site's most able user (none on the public site): its cookie value.
  std::pair<std::string, std::string> Session(const std::string& host) {
    auto s = platform_->services();
    if (host == "acme.localhost") {
      auto w = s.web_sessions.Create(actor_, admin_.id, identity::TenantSite(acme_.id), "test");
      return {w.token, w.csrf_token};
    }
    if (host == "backstage.localhost") {
      auto w = s.web_sessions.Create(actor_, staff_.id, "backstage", "test");
      return {w.token, w.csrf_token};
    }
    return {"", ""};
  }

  http::Response Send(const std::string& method, const std::string& host, const std::string& target,
                      const std::string& cookie, const std::string& body = {}) {
    http::Request req;
    req.method = method;
    req.target = target;
    const auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string rest = target.substr(q + 1);
      for (std::size_t at = 0; at <= rest.size();) {
        const auto amp = std::min(rest.find('&', at), rest.size());
        const std::string kv = rest.substr(at, amp - at);
        const auto eq = kv.find('=');
        if (!kv.empty())
          req.query.emplace_back(kv.substr(0, eq),
                                 eq == std::string::npos ? "" : kv.substr(eq + 1));
        at = amp + 1;
      }
    }
    req.headers.Set("host", host + ":8080");
    if (!cookie.empty()) req.headers.Set("cookie", cookie);
    if (method == "POST") {
      req.headers.Set("origin", "http://" + host + ":8080");
      req.headers.Set("sec-fetch-site", "same-origin");
      req.headers.Set("content-type", "application/x-www-form-urlencoded");
      req.body = body;
    }
    req.remote_ip = "127.0.0.1";
    req.request_id = "req-hostile";
    auto res = portal_->Handle(req);
    EXPECT_TRUE(res.has_value()) << host << target;
    if (!res) return http::Response{.status = 0};
    if (res->deferred) return res->deferred();  // the password pool's work, run here
    return *std::move(res);
  }

  // Every row of every table, hashed by table: what a refused form must leave untouched.
  std::map<std::string, std::string> Fingerprint() {
    const bool pg = GetParam() == Store::kPostgres;
    const storage::Query tables{
        "test_tables", pg ? "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                            " ORDER BY 1"
                          : "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1"};
    std::map<std::string, std::string> all;
    db_->Read([&](storage::Session& s) {
      for (const auto& t : s.Fetch(tables, {})) {
        const std::string name = t.Text(0);
        // Throttling counts failed sign-ins by design, and audits a throttled name (a security
        // event, recorded on purpose); sessions are touched by use; the audit chains' heads
        // follow the audit log's rows, which are compared.
        if (name == "sign_in_throttle" || name == "web_sessions" || name == "audit_chains") {
          continue;
        }
        // A statement is prepared once per name: each table's dump has its own.
        const std::string& sql =
            *texts_
                 .insert("SELECT * FROM " + name +
                         (name == "audit_log" ? " WHERE action <> 'user.sign_in_throttled'" : ""))
                 .first;
        const std::string& qname = *texts_.insert("test_dump_" + name).first;
        const storage::Query q{qname.c_str(), sql.c_str()};
        std::vector<std::string> rows;
        for (const auto& r : s.Fetch(q, {})) {
          std::string row;
          for (std::size_t i = 0; i < r.size(); ++i) row += r.Optional(i).value_or("\x01") + "\x02";
          rows.push_back(row);
        }
        std::sort(rows.begin(), rows.end());
        std::string digest = std::to_string(rows.size()) + ":";
        for (const auto& r : rows) digest += Sha256Hex(r);
        all[name] = Sha256Hex(digest);
      }
    });
    return all;
  }

  static std::string Changed(const std::map<std::string, std::string>& a,
                             const std::map<std::string, std::string>& b) {
    std::string out;
    for (const auto& [t, h] : a) {
      if (b.count(t) == 0 || b.at(t) != h) out += t + " ";
    }
    return out;
  }

  // The POST forms a page shows.
  static std::vector<Form> FormsOf(const std::string& html, const std::string& set_cookies) {
    std::vector<Form> out;
    static const std::regex form_re(R"(<form\b([^>]*)>([\s\S]*?)</form>)", std::regex::icase);
    static const std::regex field_re(R"(<(input|textarea|select)\b([^>]*)>)", std::regex::icase);
    static const std::regex name_re(R"re(\bname="([^"]*)")re");
    static const std::regex value_re(R"re(\bvalue="([^"]*)")re");
    static const std::regex action_re(R"re(\baction="([^"]*)")re");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), form_re);
         it != std::sregex_iterator(); ++it) {
      const std::string attrs = (*it)[1], inner = (*it)[2];
      if (attrs.find("method=\"post\"") == std::string::npos) continue;
      std::smatch m;
      if (!std::regex_search(attrs, m, action_re)) continue;
      Form f{.action = m[1], .fields = {}, .cookies = set_cookies};
      for (auto fi = std::sregex_iterator(inner.begin(), inner.end(), field_re);
           fi != std::sregex_iterator(); ++fi) {
        const std::string tag = (*fi)[2];
        std::smatch n, v;
        if (!std::regex_search(tag, n, name_re)) continue;
        const bool hidden = tag.find("type=\"hidden\"") != std::string::npos;
        f.fields[n[1]] = hidden && std::regex_search(tag, v, value_re) ? std::string(v[1]) : "";
      }
      out.push_back(std::move(f));
    }
    return out;
  }

  static bool Matches(const std::string& pattern, const std::string& path) {
    std::size_t p = 0, q = 0;
    while (p < pattern.size() && q < path.size()) {
      if (pattern[p] == '{') {
        p = pattern.find('}', p) + 1;
        while (q < path.size() && path[q] != '/') ++q;
      } else if (pattern[p++] != path[q++]) {
        return false;
      }
    }
    return p == pattern.size() && q == path.size();
  }

  static std::string Encode(const std::map<std::string, std::string>& fields) {
    std::string body;
    for (const auto& [k, v] : fields) {
      if (!body.empty()) body += '&';
      body += k + "=";
      for (const unsigned char c : v) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.') {
          body += static_cast<char>(c);
        } else {
          static constexpr char kHex[] = "0123456789ABCDEF";
          body += '%';
          body += kHex[c >> 4U];
          body += kHex[c & 15U];
        }
      }
    }
    return body;
  }

  std::set<std::string> texts_;  // the dump queries' names and texts, alive with the statements
  testing::ManualClock clock_;
  catalog::Catalog catalog_ = *catalog::LoadCatalog(BREAKPILOT_SOURCE_DIR "/data/catalog");
  std::unique_ptr<app::Platform> platform_;
  std::unique_ptr<Portal> portal_;
  audit::Actor actor_{"test", "req-0", "127.0.0.1"};
  tenants::Tenant acme_;
  identity::User admin_, staff_;
};

TEST_P(PortalHostileTest, EveryFormRefusesHostileInputWholeAndNeverRendersItRaw) {
  const std::vector<std::pair<std::string, unsigned>> sites{{"localhost", kOnPublic},
                                                            {"acme.localhost", kOnTenant},
                                                            {"backstage.localhost", kOnBackstage}};
  int sent = 0, refused = 0, from_rendered = 0;
  std::set<std::string> covered;
  for (const auto& [host, on] : sites) {
    // The forms this site renders, page by page (a page with a path parameter: its examples).
    std::vector<Form> forms;
    std::set<std::string> names;
    for (const auto& page : portal_->pages()) {
      if (page.method != "GET" || (page.sites & on) == 0U) continue;
      std::string path = page.pattern;
      if (const auto at = path.find("{slug}"); at != std::string::npos) path.replace(at, 6, "acme");
      if (path.find('{') != std::string::npos) continue;
      const auto [token, csrf] = Session(host);
      auto res = Send("GET", host, path, token.empty() ? "" : "bp_portal=" + token);
      std::string set_cookies;
      for (const auto& [k, v] : res.headers.all()) {
        if (HeaderNameEquals(k, "set-cookie")) {
          set_cookies += (set_cookies.empty() ? "" : "; ") + v.substr(0, v.find(';'));
        }
      }
      for (auto& f : FormsOf(res.body, set_cookies)) {
        for (const auto& [n, v] : f.fields) names.insert(n);
        forms.push_back(std::move(f));
      }
    }
    for (const auto& page : portal_->pages()) {
      if (page.method != "POST" || (page.sites & on) == 0U) continue;
      // The rendered form that posts here, or a made-up one.
      std::optional<Form> form;
      for (const auto& f : forms) {
        if (Matches(page.pattern, f.action.substr(0, f.action.find('?')))) form = f;
      }
      if (form) {
        ++from_rendered;
      } else {
        std::string path = page.pattern;
        for (std::size_t at; (at = path.find('{')) != std::string::npos;) {
          path.replace(at, path.find('}', at) - at + 1, "01900000-0000-7000-8000-00000000000f");
        }
        form = Form{.action = path, .fields = {}, .cookies = ""};
        for (const auto& n : names) form->fields[n] = "";
      }
      covered.insert(host + " " + page.pattern);
      const bool needs_form_cookie = !form->cookies.empty();
      // Each variant: its name and what goes into the fields (the CSRF token aside).
      const std::vector<std::pair<std::string, std::string>> variants{
          {"no csrf", ""},
          {"stale csrf", ""},
          {"markup", std::string(kMarkup)},
          {"over-long", std::string(std::size_t{64} * 1024, 'x')},
          {"wrong types", "-1e999"}};
      for (const auto& [what, value] : variants) {
        const auto [token, csrf] = Session(host);
        std::map<std::string, std::string> fields = form->fields;
        for (auto& [n, v] : fields) {
          if (n == "csrf") continue;
          // Hidden fields keep their values (ids, tickets) unless the variant replaces all.
          if (v.empty() || what == "markup" || what == "over-long") v = value;
        }
        const std::string right_csrf = needs_form_cookie ? fields["csrf"] : csrf;
        fields["csrf"] = what == "no csrf"      ? ""
                         : what == "stale csrf" ? RandomToken(24)
                                                : right_csrf;
        if (what == "no csrf") fields.erase("csrf");
        std::string cookie = token.empty() ? "" : "bp_portal=" + token;
        if (needs_form_cookie) cookie += (cookie.empty() ? "" : "; ") + form->cookies;
        const auto before = Fingerprint();
        for (int attempt = 0; attempt < (what == "markup" ? 2 : 1); ++attempt) {  // a double submit
          const auto res = Send("POST", host, form->action, cookie, Encode(fields));
          ++sent;
          std::string where = host;
          where += " " + page.pattern + " (" + what + ")";
          ASSERT_GT(res.status, 0) << where;
          EXPECT_LT(res.status, 500) << where << ": " << res.body.substr(0, 300);
          EXPECT_EQ(res.body.find("<script>alert(1)"), std::string::npos) << where;
          EXPECT_EQ(res.body.find("<img src=x onerror"), std::string::npos) << where;
          // Accepted: a redirect, or the page answering its form (a secret shown once). Markup
          // is text, stored as such.
          if (res.status == 303 || res.status == 200) continue;
          const auto type = res.headers.Get("content-type").value_or("");
          EXPECT_EQ(type.rfind("text/html", 0), 0U) << where << ": " << type;
          EXPECT_TRUE(res.body.find("role=\"alert\"") != std::string::npos ||
                      res.body.find("id=\"error-title\"") != std::string::npos)
              << where << " says why: " << res.body.substr(0, 400);
          if (res.status >= 400 && attempt == 0) {
            ++refused;
            const std::string changed = Changed(before, Fingerprint());
            EXPECT_TRUE(changed.empty()) << where << " refused, yet changed: " << changed;
          }
          if (what == "no csrf" || what == "stale csrf") {  // refused (a made-up id: not found)
            EXPECT_TRUE(res.status >= 400 && res.status < 500) << where << ": " << res.status;
          }
        }
      }
    }
  }
  std::cout << "hostile matrix: " << covered.size() << " POST pages, " << from_rendered
            << " through a rendered form, " << sent << " posts, " << refused << " refused\n";
  // The matrix is not vacuous: most POST pages were reached through a form the site renders.
  EXPECT_GT(covered.size(), 20U);
  EXPECT_GT(from_rendered, 10);
  EXPECT_GT(refused, sent / 2);
}

INSTANTIATE_TEST_SUITE_P(Stores, PortalHostileTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::portal
