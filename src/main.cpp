// breakpilot: the one binary. Subcommands: serve, migrate, version, tenant create|list|show,
// user create, client create, demo seed|reset, keys rotate, audit verify, jobs list|retry,
// backup, restore, restore-check.
// Every serve setting reads from --flag, BREAKPILOT_* environment variables and --config FILE.
//
// Each subcommand is one function that declares its options and returns what runs it; the
// commands that work on the database get it opened and migrated (Context) before they run.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "api/representation.hpp"
#include "app/serve.hpp"
#include "audit/trail.hpp"
#include "backup/backup.hpp"
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

namespace bp = breakpilot;
using bp::config::Config;

// Loads file, then environment, then flags (only those given), then validates.
bool ResolveConfig(const std::string& file,
                   const std::vector<std::pair<std::string, std::string>>& flags, Config& c) {
  namespace cfg = bp::config;
  bp::Result<bp::Ok> ok = bp::Ok{};
  if (!file.empty()) ok = cfg::LoadConfigFile(file, c);
  if (ok) ok = cfg::ApplyEnvironment(c, [](const char* n) { return std::getenv(n); });
  for (const auto& [key, value] : flags) {
    if (ok) ok = cfg::ApplySetting(c, key, value);
  }
  if (ok) ok = cfg::Validate(c);
  if (!ok) {
    std::cerr << "breakpilot: invalid configuration: " << ok.error().detail << "\n";
    return false;
  }
  bp::LogLevel level;
  bp::ParseLogLevel(c.log_level, level);
  bp::SetLogLevel(level);
  return true;
}

void Print(const boost::json::value& v) {
  std::cout << boost::json::serialize(v) << "\n";
}

int PrintError(const bp::Error& e) {
  boost::json::object o{{"error", e.type}, {"detail", e.detail}};
  if (!e.errors.empty()) {
    boost::json::array list;
    for (const auto& fe : e.errors) list.push_back({{"field", fe.field}, {"message", fe.message}});
    o["errors"] = list;
  }
  std::cerr << boost::json::serialize(o) << "\n";
  return 1;
}

// What a command that works on the database gets: the settings, the migrated database, and who
// acts (the operator, for the audit trail).
struct Context {
  Config config;
  std::unique_ptr<bp::storage::Database> db;
  bp::audit::Actor actor;

  bp::tenants::TenantService Tenants() {
    return bp::tenants::TenantService(*db, bp::SystemClock());
  }
  bp::identity::Directory Directory() {
    return bp::identity::Directory(
        *db, bp::SystemClock(),
        {.memory_kib = static_cast<std::uint32_t>(config.password_memory_kib)});
  }
  // A tenant by id or slug.
  bp::Result<bp::tenants::Tenant> FindTenant(const std::string& key) {
    auto svc = Tenants();
    if (bp::IsCanonicalUuid(key)) return svc.Get(bp::NormalizeUuid(key));
    bp::tenants::ListTenantsInput in;
    in.slug = key;
    auto page = svc.List(in);
    if (!page) return std::move(page).error();
    if (page->items.empty()) return bp::tenants::TenantNotFound(key);
    return page->items.front();
  }
};

using Run = std::function<int(Context&)>;

// The commands, each with what runs it; main finds the one parsed.
struct Commands {
  CLI::App& app;
  std::string& database_flag;
  std::vector<std::pair<CLI::App*, Run>> on_database;

  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& help, Run run) {
    auto* cmd = parent->add_subcommand(name, help);
    cmd->add_option("--database", database_flag, "sqlite:PATH or postgresql://...")
        ->envname("BREAKPILOT_DATABASE");
    on_database.emplace_back(cmd, std::move(run));
    return cmd;
  }
  CLI::App* Group(const std::string& name, const std::string& help) {
    auto* g = app.add_subcommand(name, help);
    g->require_subcommand(1);
    return g;
  }
};

void AddTenantCommands(Commands& c) {
  auto* tenant = c.Group("tenant", "Manage tenants directly in the database");
  auto in = std::make_shared<bp::tenants::CreateTenantInput>();
  auto kind = std::make_shared<std::string>(), plan = std::make_shared<std::string>(),
       status = std::make_shared<std::string>();
  auto* create = c.Add(tenant, "create", "Create a tenant", [=](Context& ctx) {
    if (!kind->empty()) in->kind = *kind;
    if (!plan->empty()) in->plan = *plan;
    if (!status->empty()) in->initial_status = *status;
    auto t = ctx.Tenants().Create(ctx.actor, *in);
    if (!t) return PrintError(t.error());
    Print(bp::api::ToJson(*t));
    return 0;
  });
  create->add_option("--slug", in->slug, "subdomain label")->required();
  create->add_option("--name", in->name, "display name")->required();
  create->add_option("--kind", *kind, "customer or internal");
  create->add_option("--plan", *plan, "free, starter, professional or enterprise");
  create->add_option("--initial-status", *status, "trial or active");

  auto filter = std::make_shared<bp::tenants::ListTenantsInput>();
  auto list_status = std::make_shared<std::string>(), list_kind = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(50);
  auto* list = c.Add(tenant, "list", "List tenants, newest first", [=](Context& ctx) {
    if (!list_status->empty()) filter->status = *list_status;
    if (!list_kind->empty()) filter->kind = *list_kind;
    filter->limit = *limit;
    auto page = ctx.Tenants().List(*filter);
    if (!page) return PrintError(page.error());
    Print(bp::api::PageToJson(*page));
    return 0;
  });
  list->add_option("--status", *list_status, "filter by status");
  list->add_option("--kind", *list_kind, "filter by kind");
  list->add_option("--limit", *limit, "at most this many (1-200)");

  auto key = std::make_shared<std::string>();
  c.Add(tenant, "show", "Show one tenant by id or slug",
        [=](Context& ctx) {
          auto t = ctx.FindTenant(*key);
          if (!t) return PrintError(t.error());
          Print(bp::api::ToJson(*t));
          return 0;
        })
      ->add_option("tenant", *key, "id or slug")
      ->required();
}

void AddIdentityCommands(Commands& c) {
  struct UserOptions {
    std::string name, display, password_env, org;
    std::vector<std::string> realm_roles, org_roles;
    bool if_missing = false;
  };
  auto o = std::make_shared<UserOptions>();
  auto* create = c.Add(
      c.Group("user", "Manage users of the built-in identity"), "create",
      "Create a user (the password comes from an env var)", [o](Context& ctx) {
        bp::identity::NewUser in{
            .username = o->name, .display_name = o->display, .realm_roles = o->realm_roles};
        if (!o->password_env.empty()) {
          const char* pw = std::getenv(o->password_env.c_str());
          if (!pw) {
            std::cerr << "breakpilot: " << o->password_env << " is not set\n";
            return 2;
          }
          in.password = pw;
        }
        if (!o->org.empty()) {
          auto t = ctx.FindTenant(o->org);
          if (!t) return PrintError(t.error());
          in.memberships.push_back({t->id, o->org_roles});
        }
        auto dir = ctx.Directory();
        auto u = o->if_missing ? dir.EnsureUser(ctx.actor, in) : dir.CreateUser(ctx.actor, in);
        if (!u) return PrintError(u.error());
        Print({{"id", u->id}, {"username", u->username}});
        return 0;
      });
  create->add_option("--username", o->name, "sign-in name")->required();
  create->add_option("--display-name", o->display, "shown name");
  create->add_option("--password-env", o->password_env,
                     "name of the environment variable that holds the password");
  create->add_option("--realm-role", o->realm_roles, "BREAKPILOT_ADMIN, SUPPORT_ENGINEER, ...");
  create->add_option("--org", o->org, "member of this tenant (id or slug)");
  create->add_option("--org-role", o->org_roles, "IT_ADMIN, CXO, FINANCE, LEGAL or USER");
  create->add_flag("--if-missing", o->if_missing, "do nothing when the username exists");

  auto id = std::make_shared<std::string>();
  auto roles = std::make_shared<std::vector<std::string>>();
  auto* client =
      c.Add(c.Group("client", "Manage service clients (machine credentials)"), "create",
            "Create a client; prints its secret once", [=](Context& ctx) {
              auto made = ctx.Directory().CreateClient(ctx.actor, *id, *roles);
              if (!made) return PrintError(made.error());
              Print({{"client_id", made->client.client_id}, {"client_secret", made->secret}});
              return 0;
            });
  client->add_option("--client-id", *id, "client id")->required();
  client->add_option("--realm-role", *roles, "default SERVICE");

  c.Add(c.Group("keys", "Manage the built-in identity's signing keys"), "rotate",
        "Start signing with a new key now", [](Context& ctx) {
          bp::identity::KeyRing ring(
              *ctx.db, bp::SystemClock(),
              {.overlap = std::chrono::seconds(ctx.config.token_ttl_seconds + 3600)});
          Print({{"kid", ring.Rotate(ctx.actor)}});
          return 0;
        });
}

// The demo tenant and its three sign-ins (passwords from the environment, as `make run` sets).
int SeedDemo(Context& ctx) {
  auto demo_tenant = ctx.Tenants().EnsureDemoTenant(ctx.actor);
  if (!demo_tenant) return PrintError(demo_tenant.error());
  boost::json::object out{{"demo_tenant_id", demo_tenant->id}};
  struct Seed {
    const char* username;
    const char* env;
    std::vector<std::string> realm_roles;
    std::vector<std::string> org_roles;
  };
  auto dir = ctx.Directory();
  for (const Seed& seed :
       {Seed{"admin", "BREAKPILOT_SEED_ADMIN_PASSWORD", {"BREAKPILOT_ADMIN"}, {}},
        Seed{"demo-admin", "BREAKPILOT_SEED_DEMO_PASSWORD", {}, {"IT_ADMIN"}},
        Seed{"sales", "BREAKPILOT_SEED_SALES_PASSWORD", {"SALES_REP"}, {}}}) {
    const char* pw = std::getenv(seed.env);
    if (!pw) continue;
    bp::identity::NewUser in{
        .username = seed.username, .password = std::string(pw), .realm_roles = seed.realm_roles};
    if (!seed.org_roles.empty()) in.memberships.push_back({demo_tenant->id, seed.org_roles});
    auto u = dir.EnsureUser(ctx.actor, in);
    if (!u) return PrintError(u.error());
    out[seed.username] = u->id;
  }
  Print(out);
  return 0;
}

void AddDemoCommands(Commands& c) {
  auto* demo = c.Group("demo", "The demo tenant");
  c.Add(demo, "seed",
        "Create the demo tenant, a staff admin 'admin', the demo tenant's IT_ADMIN 'demo-admin' "
        "and a sales rep 'sales' unless present; passwords from BREAKPILOT_SEED_ADMIN_PASSWORD, "
        "BREAKPILOT_SEED_DEMO_PASSWORD and BREAKPILOT_SEED_SALES_PASSWORD",
        SeedDemo);
  c.Add(
      demo, "reset",
      "Queue a reset of the demo tenant on every product now (a running server does it)",
      [](Context& ctx) {
        Print({{"job_key", bp::lifecycle::QueueDemoReset(*ctx.db, bp::SystemClock(), ctx.actor)}});
        return 0;
      });
}

int VerifyAudit(Context& ctx, const std::string& tenant) {
  std::optional<std::string> chain;
  if (!tenant.empty()) {
    auto t = ctx.FindTenant(tenant);
    if (!t) return PrintError(t.error());
    chain = t->id;
  }
  bool ok = true;
  boost::json::array chains;
  for (const auto& r : bp::audit::Verify(*ctx.db, chain)) {
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

int ListJobs(Context& ctx, const std::string& state, const std::string& kind, int limit) {
  bp::jobs::JobFilter f{.limit = limit};
  if (!state.empty()) {
    f.state = bp::jobs::ParseState(state);
    if (!f.state) {
      std::cerr << "breakpilot: --state must be pending, running, done or dead\n";
      return 2;
    }
  }
  if (!kind.empty()) f.kind = kind;
  boost::json::array items;
  for (const auto& j : bp::jobs::Queue(*ctx.db, bp::SystemClock()).List(f)) {
    items.push_back(
        {{"id", j.id},
         {"kind", j.kind},
         {"state", bp::jobs::ToString(j.state)},
         {"run_at", bp::FormatRfc3339(j.run_at)},
         {"attempts", j.attempts},
         {"last_error", j.last_error ? boost::json::value(*j.last_error) : boost::json::value()}});
  }
  Print({{"items", std::move(items)}});
  return 0;
}

void AddAuditAndJobCommands(Commands& c) {
  auto tenant = std::make_shared<std::string>();
  c.Add(c.Group("audit", "The audit trail"), "verify",
        "Recompute every audit hash chain; exit 1 when a row was altered or removed",
        [=](Context& ctx) { return VerifyAudit(ctx, *tenant); })
      ->add_option("--tenant", *tenant, "Only this tenant's chain (id or slug)");

  auto* jobs = c.Group("jobs", "The durable job queue");
  auto state = std::make_shared<std::string>(), kind = std::make_shared<std::string>();
  auto limit = std::make_shared<int>(100);
  auto* list = c.Add(jobs, "list", "List jobs, latest run time first",
                     [=](Context& ctx) { return ListJobs(ctx, *state, *kind, *limit); });
  list->add_option("--state", *state, "pending, running, done or dead");
  list->add_option("--kind", *kind, "e.g. mail.send, tenant.offboard");
  list->add_option("--limit", *limit, "At most this many")->check(CLI::Range(1, 10000));

  auto id = std::make_shared<std::string>();
  c.Add(jobs, "retry", "Run a dead job again now",
        [=](Context& ctx) {
          if (!bp::IsCanonicalUuid(*id)) {
            std::cerr << "breakpilot: the job id must be a UUID\n";
            return 2;
          }
          auto j =
              bp::jobs::Queue(*ctx.db, bp::SystemClock()).Retry(ctx.actor, bp::NormalizeUuid(*id));
          if (!j) return PrintError(j.error());
          Print({{"id", j->id}, {"kind", j->kind}, {"state", bp::jobs::ToString(j->state)}});
          return 0;
        })
      ->add_option("id", *id, "The job's id")
      ->required();
}

// backup, restore, restore-check (backup/backup.hpp): they work on a database given by URL and
// neither migrate it nor start the platform, so a restore finds its target empty.
struct BackupCommands {
  std::string database, file;
  CLI::App* backup = nullptr;
  CLI::App* restore = nullptr;
  CLI::App* check = nullptr;

  void Declare(CLI::App& app) {
    backup = app.add_subcommand(
        "backup",
        "Back the database up into FILE and FILE.manifest.json (consistent while serving)");
    backup->add_option("--database", database, "The database URL")->required();
    backup->add_option("--output", file, "The backup file to write")->required();
    restore = app.add_subcommand("restore", "Restore a backup into an empty database");
    restore->add_option("--database", database, "The database URL (empty)")->required();
    restore->add_option("--input", file, "The backup file (its manifest beside it)")->required();
    check = app.add_subcommand(
        "restore-check", "Compare a database with a backup's manifest; exit 1 on any difference");
    check->add_option("--database", database, "The database URL")->required();
    check->add_option("--manifest", file, "FILE.manifest.json")->required();
  }

  // The exit status when one of them was given; nullopt otherwise.
  std::optional<int> Run() const {
    if (backup->parsed()) return Report(bp::backup::Backup(database, file));
    if (restore->parsed()) return Report(bp::backup::Restore(database, file));
    if (!check->parsed()) return std::nullopt;
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    auto m = bp::backup::ManifestFromJson(text.str());
    if (!m) return PrintError(m.error());
    std::unique_ptr<bp::storage::Database> db;
    try {
      db = bp::storage::OpenDatabase(database);
    } catch (const std::exception&) {
      std::cerr << "breakpilot: cannot open the database\n";
      return 1;
    }
    const auto differences = bp::backup::CheckRestore(*db, *m);
    boost::json::array list;
    for (const auto& d : differences) list.emplace_back(d);
    Print({{"tables", m->tables.size()}, {"differences", std::move(list)}});
    return differences.empty() ? 0 : 1;
  }

  static int Report(const bp::Result<bp::backup::Manifest>& m) {
    if (!m) return PrintError(m.error());
    std::int64_t rows = 0;
    for (const auto& [name, t] : m->tables) rows += t.rows;
    Print({{"dialect", m->dialect},
           {"schema_version", m->schema_version},
           {"tables", m->tables.size()},
           {"rows", rows},
           {"sha256", m->file_sha256}});
    return 0;
  }
};

// serve: every setting is a flag of its own (config/config.cpp's table).
struct ServeFlags {
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;

  void Declare(CLI::App* serve) {
    const Config defaults;
    for (const auto& s : bp::config::Settings()) {
      const std::string key(s.key);
      std::string help(s.help);
      if (const auto d = s.Value(defaults); !s.secret && !d.empty()) {
        help += " [default: " + d + "]";
      }
      help += " (env " + s.env() + ")";
      options[key] = s.boolean() ? serve->add_flag(s.flag() + "{true}", values[key], help)
                                 : serve->add_option(s.flag(), values[key], help);
    }
  }
  std::vector<std::pair<std::string, std::string>> Given() const {
    std::vector<std::pair<std::string, std::string>> given;
    for (const auto& [key, option] : options) {
      if (option->count() > 0) given.emplace_back(key, values.at(key));
    }
    return given;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  CLI::App app{"Breakpilot Platform: tenant registry, identity, audit and lifecycle for B2B SaaS"};
  app.require_subcommand(1);
  std::string config_file, database_flag;
  app.add_option("--config", config_file, "YAML config file (settings as keys)")
      ->envname("BREAKPILOT_CONFIG");
  ServeFlags serve_flags;
  auto* serve = app.add_subcommand("serve", "Run the HTTP API (migrates the database first)");
  serve_flags.Declare(serve);
  auto* version = app.add_subcommand("version", "Print the version and the schema it knows");
  Commands commands{app, database_flag, {}};
  commands.Add(&app, "migrate", "Apply pending schema migrations and exit", [](Context& ctx) {
    Print({{"schema_version", bp::storage::CurrentVersion(*ctx.db)}});
    return 0;
  });
  AddTenantCommands(commands);
  AddIdentityCommands(commands);
  AddDemoCommands(commands);
  AddAuditAndJobCommands(commands);
  BackupCommands backups;
  backups.Declare(app);
  CLI11_PARSE(app, argc, argv);
  if (auto status = backups.Run()) return *status;

  Context ctx;
  if (serve->parsed()) {
    if (!ResolveConfig(config_file, serve_flags.Given(), ctx.config)) return 2;
    return bp::app::Serve(ctx.config, started);
  }
  if (version->parsed()) {
    Print({{"version", BREAKPILOT_VERSION},
           {"schema_sqlite", bp::storage::LatestVersion(bp::storage::Dialect::kSqlite)},
           {"schema_postgres", bp::storage::LatestVersion(bp::storage::Dialect::kPostgres)}});
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> given;
  if (!database_flag.empty()) given.emplace_back("database", database_flag);
  if (!ResolveConfig(config_file, given, ctx.config)) return 2;
  ctx.db = bp::app::OpenMigrated(ctx.config);
  if (!ctx.db) return 1;
  const char* user = std::getenv("USER");
  ctx.actor = bp::audit::Actor{"cli:" + std::string(user ? user : "operator"), "", ""};
  for (auto& [cmd, run] : commands.on_database) {
    if (cmd->parsed()) return run(ctx);
  }
  return 0;
}
