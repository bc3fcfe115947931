// breakpilot: the one binary. Subcommands: serve, migrate, version, tenant create|list|show,
// user create, client create, keys rotate.
// Every serve setting reads from --flag, BREAKPILOT_* environment variables and --config FILE.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <vector>

#include "api/representation.hpp"
#include "app/serve.hpp"
#include "audit/trail.hpp"
#include "config/config.hpp"
#include "core/log.hpp"
#include "core/uuid.hpp"
#include "identity/directory.hpp"
#include "identity/token_issuer.hpp"
#include "jobs/queue.hpp"
#include "lifecycle/engine.hpp"
#include "storage/migrations.hpp"
#include "tenants/tenant_service.hpp"

namespace {

using breakpilot::config::Config;

// Loads file, then environment, then flags (only those given), then validates.
bool ResolveConfig(const std::string& file,
                   const std::vector<std::pair<std::string, std::string>>& flags, Config& c) {
  namespace cfg = breakpilot::config;
  std::optional<std::string> err;
  if (!file.empty()) err = cfg::LoadConfigFile(file, c);
  if (!err) err = cfg::ApplyEnvironment(c, [](const char* n) { return std::getenv(n); });
  for (const auto& [key, value] : flags) {
    if (!err) err = cfg::ApplySetting(c, key, value);
  }
  if (!err) err = cfg::Validate(c);
  if (err) {
    std::cerr << "breakpilot: invalid configuration: " << *err << "\n";
    return false;
  }
  breakpilot::LogLevel level;
  breakpilot::ParseLogLevel(c.log_level, level);
  breakpilot::SetLogLevel(level);
  return true;
}

void Print(const boost::json::value& v) {
  std::cout << boost::json::serialize(v) << "\n";
}

int PrintError(const breakpilot::Error& e) {
  boost::json::object o{{"error", e.type}, {"detail", e.detail}};
  if (!e.errors.empty()) {
    boost::json::array list;
    for (const auto& fe : e.errors) list.push_back({{"field", fe.field}, {"message", fe.message}});
    o["errors"] = list;
  }
  std::cerr << boost::json::serialize(o) << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  CLI::App app{"Breakpilot Platform: tenant registry, identity, audit and lifecycle for B2B SaaS"};
  app.require_subcommand(1);
  std::string config_file;
  app.add_option("--config", config_file, "YAML config file (settings as keys)")
      ->envname("BREAKPILOT_CONFIG");

  // Every setting is a flag on serve; the commands that only touch the database take --database.
  std::map<std::string, std::string> flag_values;
  std::map<std::string, CLI::Option*> flag_options;
  auto* serve = app.add_subcommand("serve", "Run the HTTP API (migrates the database first)");
  const breakpilot::config::Config defaults;
  for (const auto& s : breakpilot::config::Settings()) {
    const std::string key(s.key);
    std::string help(s.help);
    if (const auto d = s.Value(defaults); !s.secret && !d.empty()) help += " [default: " + d + "]";
    help += " (env " + s.env() + ")";
    flag_options[key] = s.boolean() ? serve->add_flag(s.flag() + "{true}", flag_values[key], help)
                                    : serve->add_option(s.flag(), flag_values[key], help);
  }

  std::string database_flag;
  const auto add_db_flag = [&](CLI::App* cmd) {
    cmd->add_option("--database", database_flag, "sqlite:PATH or postgresql://...")
        ->envname("BREAKPILOT_DATABASE");
  };
  auto* migrate = app.add_subcommand("migrate", "Apply pending schema migrations and exit");
  add_db_flag(migrate);
  auto* version = app.add_subcommand("version", "Print the version and the schema it knows");

  auto* tenant = app.add_subcommand("tenant", "Manage tenants directly in the database");
  tenant->require_subcommand(1);
  auto* tcreate = tenant->add_subcommand("create", "Create a tenant");
  breakpilot::tenants::CreateTenantInput create_in;
  std::string create_kind, create_plan, create_status;
  tcreate->add_option("--slug", create_in.slug, "subdomain label")->required();
  tcreate->add_option("--name", create_in.name, "display name")->required();
  tcreate->add_option("--kind", create_kind, "customer or internal");
  tcreate->add_option("--plan", create_plan, "free, starter, professional or enterprise");
  tcreate->add_option("--initial-status", create_status, "trial or active");
  add_db_flag(tcreate);
  auto* tlist = tenant->add_subcommand("list", "List tenants, newest first");
  std::string list_status, list_kind;
  int list_limit = 50;
  tlist->add_option("--status", list_status, "filter by status");
  tlist->add_option("--kind", list_kind, "filter by kind");
  tlist->add_option("--limit", list_limit, "at most this many (1-200)");
  add_db_flag(tlist);
  auto* tshow = tenant->add_subcommand("show", "Show one tenant by id or slug");
  std::string show_key;
  tshow->add_option("tenant", show_key, "id or slug")->required();
  add_db_flag(tshow);

  auto* user = app.add_subcommand("user", "Manage users of the built-in identity");
  user->require_subcommand(1);
  auto* ucreate =
      user->add_subcommand("create", "Create a user (the password comes from an env var)");
  std::string user_name, user_display, user_password_env, user_org;
  std::vector<std::string> user_realm_roles, user_org_roles;
  bool user_if_missing = false;
  ucreate->add_option("--username", user_name, "sign-in name")->required();
  ucreate->add_option("--display-name", user_display, "shown name");
  ucreate->add_option("--password-env", user_password_env,
                      "name of the environment variable that holds the password");
  ucreate->add_option("--realm-role", user_realm_roles, "BREAKPILOT_ADMIN, SUPPORT_ENGINEER, ...");
  ucreate->add_option("--org", user_org, "member of this tenant (id or slug)");
  ucreate->add_option("--org-role", user_org_roles, "IT_ADMIN, CXO, FINANCE, LEGAL or USER");
  ucreate->add_flag("--if-missing", user_if_missing, "do nothing when the username exists");
  add_db_flag(ucreate);
  auto* client = app.add_subcommand("client", "Manage service clients (machine credentials)");
  client->require_subcommand(1);
  auto* ccreate = client->add_subcommand("create", "Create a client; prints its secret once");
  std::string client_id;
  std::vector<std::string> client_roles;
  ccreate->add_option("--client-id", client_id, "client id")->required();
  ccreate->add_option("--realm-role", client_roles, "default SERVICE");
  add_db_flag(ccreate);
  auto* demo = app.add_subcommand("demo", "The demo tenant");
  demo->require_subcommand(1);
  auto* dseed = demo->add_subcommand(
      "seed",
      "Create the demo tenant, a staff admin 'admin' and the demo tenant's IT_ADMIN 'demo-admin' "
      "unless present; passwords from BREAKPILOT_SEED_ADMIN_PASSWORD and "
      "BREAKPILOT_SEED_DEMO_PASSWORD");
  add_db_flag(dseed);
  auto* keys = app.add_subcommand("keys", "Manage the built-in identity's signing keys");
  keys->require_subcommand(1);
  auto* krotate = keys->add_subcommand("rotate", "Start signing with a new key now");
  add_db_flag(krotate);
  auto* audit_cmd = app.add_subcommand("audit", "The audit trail");
  audit_cmd->require_subcommand(1);
  auto* averify = audit_cmd->add_subcommand(
      "verify", "Recompute every audit hash chain; exit 1 when a row was altered or removed");
  std::string verify_tenant;
  averify->add_option("--tenant", verify_tenant, "Only this tenant's chain (id or slug)");
  add_db_flag(averify);
  auto* jobs_cmd = app.add_subcommand("jobs", "The durable job queue");
  jobs_cmd->require_subcommand(1);
  auto* jlist = jobs_cmd->add_subcommand("list", "List jobs, latest run time first");
  std::string jobs_state, jobs_kind;
  int jobs_limit = 100;
  jlist->add_option("--state", jobs_state, "pending, running, done or dead");
  jlist->add_option("--kind", jobs_kind, "e.g. mail.send, tenant.offboard");
  jlist->add_option("--limit", jobs_limit, "At most this many")->check(CLI::Range(1, 10000));
  add_db_flag(jlist);
  auto* jretry = jobs_cmd->add_subcommand("retry", "Run a dead job again now");
  std::string retry_id;
  jretry->add_option("id", retry_id, "The job's id")->required();
  add_db_flag(jretry);
  auto* dreset = demo->add_subcommand(
      "reset", "Queue a reset of the demo tenant on every product now (a running server does it)");
  add_db_flag(dreset);

  CLI11_PARSE(app, argc, argv);

  Config config;
  if (serve->parsed()) {
    std::vector<std::pair<std::string, std::string>> given;
    for (const auto& [key, option] : flag_options) {
      if (option->count() > 0) given.emplace_back(key, flag_values[key]);
    }
    if (!ResolveConfig(config_file, given, config)) return 2;
    return breakpilot::app::Serve(config, started);
  }
  if (version->parsed()) {
    Print({{"version", BREAKPILOT_VERSION},
           {"schema_sqlite",
            breakpilot::storage::LatestVersion(breakpilot::storage::Dialect::kSqlite)},
           {"schema_postgres",
            breakpilot::storage::LatestVersion(breakpilot::storage::Dialect::kPostgres)}});
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> given;
  if (!database_flag.empty()) given.emplace_back("database", database_flag);
  if (!ResolveConfig(config_file, given, config)) return 2;
  auto db = breakpilot::app::OpenMigrated(config);
  if (!db) return 1;
  if (migrate->parsed()) {
    Print({{"schema_version", breakpilot::storage::CurrentVersion(*db)}});
    return 0;
  }
  breakpilot::tenants::TenantService svc(*db, breakpilot::SystemClock());
  const breakpilot::audit::Actor actor{
      "cli:" + std::string(std::getenv("USER") ? std::getenv("USER") : "operator"), "", ""};
  if (tcreate->parsed()) {
    if (!create_kind.empty()) create_in.kind = create_kind;
    if (!create_plan.empty()) create_in.plan = create_plan;
    if (!create_status.empty()) create_in.initial_status = create_status;
    auto t = svc.Create(actor, create_in);
    if (!t) return PrintError(t.error());
    Print(breakpilot::api::ToJson(*t));
    return 0;
  }
  if (tlist->parsed()) {
    breakpilot::tenants::ListTenantsInput in;
    if (!list_status.empty()) in.status = list_status;
    if (!list_kind.empty()) in.kind = list_kind;
    in.limit = list_limit;
    auto page = svc.List(in);
    if (!page) return PrintError(page.error());
    Print(breakpilot::api::PageToJson(*page));
    return 0;
  }
  const auto find_tenant =
      [&](const std::string& key) -> breakpilot::Result<breakpilot::tenants::Tenant> {
    if (breakpilot::IsCanonicalUuid(key)) return svc.Get(breakpilot::NormalizeUuid(key));
    breakpilot::tenants::ListTenantsInput in;
    in.slug = key;
    auto page = svc.List(in);
    if (!page) return std::move(page).error();
    if (page->items.empty()) return breakpilot::tenants::TenantNotFound(key);
    return page->items.front();
  };
  if (averify->parsed()) {
    std::optional<std::string> chain;
    if (!verify_tenant.empty()) {
      auto t = find_tenant(verify_tenant);
      if (!t) return PrintError(t.error());
      chain = t->id;
    }
    bool ok = true;
    boost::json::array chains;
    for (const auto& r : breakpilot::audit::Verify(*db, chain)) {
      ok = ok && r.ok;
      boost::json::array problems;
      for (const auto& p : r.problems) {
        problems.push_back({{"seq", p.seq}, {"kind", p.kind}, {"detail", p.detail}});
      }
      chains.push_back({{"chain", r.chain},
                        {"ok", r.ok},
                        {"events_checked", r.checked},
                        {"problems", std::move(problems)}});
    }
    Print({{"ok", ok}, {"chains", std::move(chains)}});
    return ok ? 0 : 1;
  }
  breakpilot::jobs::Queue queue(*db, breakpilot::SystemClock());
  if (jlist->parsed()) {
    breakpilot::jobs::JobFilter f{.limit = jobs_limit};
    if (!jobs_state.empty()) {
      f.state = breakpilot::jobs::ParseState(jobs_state);
      if (!f.state) {
        std::cerr << "breakpilot: --state must be pending, running, done or dead\n";
        return 2;
      }
    }
    if (!jobs_kind.empty()) f.kind = jobs_kind;
    boost::json::array items;
    for (const auto& j : queue.List(f)) {
      items.push_back({{"id", j.id},
                       {"kind", j.kind},
                       {"state", breakpilot::jobs::ToString(j.state)},
                       {"run_at", breakpilot::FormatRfc3339(j.run_at)},
                       {"attempts", j.attempts},
                       {"last_error", j.last_error ? boost::json::value(*j.last_error)
                                                   : boost::json::value(nullptr)}});
    }
    Print({{"items", std::move(items)}});
    return 0;
  }
  if (jretry->parsed()) {
    if (!breakpilot::IsCanonicalUuid(retry_id)) {
      std::cerr << "breakpilot: the job id must be a UUID\n";
      return 2;
    }
    auto j = queue.Retry(actor, breakpilot::NormalizeUuid(retry_id));
    if (!j) return PrintError(j.error());
    Print({{"id", j->id}, {"kind", j->kind}, {"state", breakpilot::jobs::ToString(j->state)}});
    return 0;
  }
  if (dreset->parsed()) {
    Print({{"job_key",
            breakpilot::lifecycle::QueueDemoReset(*db, breakpilot::SystemClock(), actor)}});
    return 0;
  }
  if (tshow->parsed()) {
    auto t = find_tenant(show_key);
    if (!t) return PrintError(t.error());
    Print(breakpilot::api::ToJson(*t));
    return 0;
  }
  breakpilot::identity::Directory directory(
      *db, breakpilot::SystemClock(),
      {.memory_kib = static_cast<std::uint32_t>(config.password_memory_kib)});
  if (ucreate->parsed()) {
    breakpilot::identity::NewUser in{
        .username = user_name, .display_name = user_display, .realm_roles = user_realm_roles};
    if (!user_password_env.empty()) {
      const char* pw = std::getenv(user_password_env.c_str());
      if (!pw) {
        std::cerr << "breakpilot: " << user_password_env << " is not set\n";
        return 2;
      }
      in.password = pw;
    }
    if (!user_org.empty()) {
      auto t = find_tenant(user_org);
      if (!t) return PrintError(t.error());
      in.memberships.push_back({t->id, user_org_roles});
    }
    auto u = user_if_missing ? directory.EnsureUser(actor, in) : directory.CreateUser(actor, in);
    if (!u) return PrintError(u.error());
    Print({{"id", u->id}, {"username", u->username}});
    return 0;
  }
  if (ccreate->parsed()) {
    auto c = directory.CreateClient(actor, client_id, client_roles);
    if (!c) return PrintError(c.error());
    Print({{"client_id", c->client.client_id}, {"client_secret", c->secret}});
    return 0;
  }
  if (dseed->parsed()) {
    auto demo_tenant = svc.EnsureDemoTenant(actor);
    if (!demo_tenant) return PrintError(demo_tenant.error());
    boost::json::object out{{"demo_tenant_id", demo_tenant->id}};
    struct Seed {
      const char* username;
      const char* env;
      std::vector<std::string> realm_roles;
      std::vector<std::string> org_roles;
    };
    for (const Seed& seed :
         {Seed{"admin", "BREAKPILOT_SEED_ADMIN_PASSWORD", {"BREAKPILOT_ADMIN"}, {}},
          Seed{"demo-admin", "BREAKPILOT_SEED_DEMO_PASSWORD", {}, {"IT_ADMIN"}}}) {
      const char* pw = std::getenv(seed.env);
      if (!pw) continue;
      breakpilot::identity::NewUser in{
          .username = seed.username, .password = std::string(pw), .realm_roles = seed.realm_roles};
      if (!seed.org_roles.empty()) in.memberships.push_back({demo_tenant->id, seed.org_roles});
      auto u = directory.EnsureUser(actor, in);
      if (!u) return PrintError(u.error());
      out[seed.username] = u->id;
    }
    Print(out);
    return 0;
  }
  if (krotate->parsed()) {
    breakpilot::identity::KeyRing ring(
        *db, breakpilot::SystemClock(),
        {.overlap = std::chrono::seconds(config.token_ttl_seconds + 3600)});
    Print({{"kid", ring.Rotate(actor)}});
    return 0;
  }
  return 0;
}
