// Server configuration: one table of settings, each readable from a YAML file, an environment
// variable and a command-line flag (later ones win: defaults < file < environment < flags).
// Validated once at start-up; an unknown key in the file is an error, never ignored.
//
//   Config c;
//   if (auto e = LoadConfigFile("breakpilot.yaml", c)) Fail(*e);
//   if (auto e = ApplyEnvironment(c)) Fail(*e);
//   if (auto e = ApplySetting(c, "listen", "0.0.0.0:8080")) Fail(*e);
//   if (auto e = Validate(c)) Fail(*e);
#pragma once

#include "core/result.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace breakpilot::config {

struct Config {  // NOLINT(clang-analyzer-optin.performance.Padding): one, read at start-up
  std::string listen = "127.0.0.1:8080";
  std::string database = "sqlite:var/breakpilot.db";
  std::string admin_token;
  // Relative to the working directory (`make run` starts in the repository); a deployment sets
  // both. Never the build machine's paths.
  std::string catalog_dir = "data/catalog";
  std::string docs_dir = "node_modules/swagger-ui-dist";
  int threads = 0;            // io threads; 0 = one per core
  int blocking_threads = -1;  // handler pool; -1 = auto (32 per core on SQLite, 4 on PG), 0 = none
  int db_pool_size = 12;      // an export reads on two while it streams
  std::size_t max_body_bytes = std::size_t{1} << 20;      // 1 MiB
  std::size_t max_header_bytes = std::size_t{128} << 10;  // 128 KiB: a 100 KB token is a 401
  std::size_t max_connections = 0;                        // 0: the descriptor limit less a reserve
  std::size_t max_connections_per_address = 256;
  int read_timeout_ms = 30'000;
  int drain_timeout_ms = 10'000;
  std::string log_level = "info";
  bool access_log = true;
  bool seed_demo = false;
  std::string demo_products;  // "echo-bot,certifai": booked by the seeded demo tenant
  std::string public_url;     // empty: http://<listen address>
  int token_ttl_seconds = 900;
  int password_memory_kib = 19 * 1024;
  int password_threads = 0;  // 0: half the cores, at least one
  int password_queue = 32;
  int password_attempts_per_minute = 30;
  int portal_logins_per_minute = 30;
  std::string portal_domain;  // D: pages on D, backstage.D and <slug>.D; empty: no portal
  int portal_session_idle_minutes = 120;
  int portal_session_hours = 12;
  int key_rotation_days = 30;
  std::string keycloak_url;  // empty: not in Keycloak mode
  std::string keycloak_realm;
  std::string keycloak_client_id;
  std::string keycloak_client_secret;
  // Polar.sh billing (issue 25): each part off while its credential is empty.
  std::string polar_api_url = "https://api.polar.sh";
  std::string polar_access_token;
  std::string polar_webhook_secret;
  std::string polar_product_starter;
  std::string polar_product_professional;
  std::string polar_product_per_seat;
  // ERPNext (issue 25): off while erpnext_url is empty.
  std::string erpnext_url;
  std::string erpnext_api_key;
  std::string erpnext_api_secret;
  std::string erpnext_webhook_secret;
  std::string erpnext_item_code = "Breakpilot plan";
  std::string erpnext_tax_account = "VAT - BP";
  // Support (issue 25): Frappe Helpdesk, off while helpdesk_url is empty; escalation to Gitea,
  // off while gitea_url is empty.
  std::string helpdesk_url;
  std::string helpdesk_api_key;
  std::string helpdesk_api_secret;
  std::string gitea_url;
  std::string gitea_token;
  std::string gitea_repo;
  std::string gitea_webhook_secret;
  // Feature flags (issue 26): the Unleash backend, off while unleash_url is empty.
  std::string unleash_url;
  std::string unleash_client_token;
  std::string unleash_app_name = "breakpilot";
  int unleash_poll_ms = 2000;
  // Traces (issue 26, §1.9): OTLP/HTTP to this collector, off while empty.
  std::string otlp_endpoint;
  int otlp_sample_percent = 100;
  // Custom domains (issue 26): the DNS server their records are checked with ("host:port");
  // empty: the system's resolver.
  std::string dns_resolver;
  std::string oidc_issuer;  // empty: no external OpenID provider
  std::string oidc_client_id;
  std::string oidc_client_secret;
  std::string oidc_audience = "breakpilot";
  std::string environment = "development";
  bool enable_test_clock = false;
  bool allow_private_webhook_targets = false;
  std::string webhook_schedule = "0,5,300,1800,7200,18000,36000,36000";
  int webhook_timeout_seconds = 15;
  std::string product_hosts;  // loopback or any; empty: loopback in development, any in production
  std::string mail_from = "Breakpilot <noreply@breakpilot.localhost>";
  std::string mail_dir = "var/mail";
  std::string smtp_url;  // empty: .eml files in mail_dir
  std::string smtp_username;
  std::string smtp_password;
  std::string smtp_ca_file;  // empty: the system's CA store
  bool smtp_starttls = true;
  int job_workers = 2;
  int job_lease_seconds = 300;
  int job_backoff_seconds = 10;
  int job_keep_done_days = 7;
  std::string demo_reset_zone = "Europe/Berlin";
  std::string demo_reset_time = "03:00";
  int trial_requests_per_hour = 5;
  int max_exports = 4;  // an export holds two threads and up to about 20 MB while it streams

  // Parsed by Validate(): from listen, and from demo_reset_time.
  std::string host;
  unsigned short port = 0;
  int demo_reset_hour = 3;
  int demo_reset_minute = 0;
};

// One setting, declared once (config.cpp, kSettings): its key in the YAML file, its help, the
// Config member it sets, its bounds and a check of its value. Its environment variable
// (BREAKPILOT_<KEY>) and its flag (--key-with-dashes) are derived from the key, the file, the
// environment, the flags, --help and Validate all read this one entry.
//
//   Setting::Number("db_pool_size", "database connections", &Config::db_pool_size, 1, 1000),
// What is wrong with a value beyond its type (a URL scheme, one of some words): Ok or Invalid.
using SettingCheck = Result<Ok> (*)(std::string_view value);

struct SettingOptions {
  bool secret = false;  // never printed (--help shows no default)
  SettingCheck check = nullptr;
};

struct Setting {
  using Field =
      std::variant<std::string Config::*, int Config::*, std::size_t Config::*, bool Config::*>;
  using Check = SettingCheck;
  using Options = SettingOptions;

  std::string_view key;
  std::string_view help;
  Field field;
  long long min = 0;  // numbers only
  long long max = 0;
  bool secret = false;
  Check check = nullptr;

  static Setting Text(std::string_view key, std::string_view help, std::string Config::*field,
                      Options options = {});
  static Setting Number(std::string_view key, std::string_view help, int Config::*field,
                        long long min, long long max, Options options = {});
  static Setting Number(std::string_view key, std::string_view help, std::size_t Config::*field,
                        long long min, long long max, Options options = {});
  static Setting Flag(std::string_view key, std::string_view help, bool Config::*field);

  std::string env() const;   // BREAKPILOT_MAX_BODY_BYTES
  std::string flag() const;  // --max-body-bytes
  bool boolean() const { return std::holds_alternative<bool Config::*>(field); }
  std::string Value(const Config& c) const;  // the value as text, as a file would give it
};

std::span<const Setting> Settings();

// Each returns Ok, or Invalid whose detail is the message for the operator.
Result<Ok> ApplySetting(Config& c, std::string_view key, std::string_view value);
Result<Ok> LoadConfigFile(const std::string& path, Config& c);
Result<Ok> ApplyEnvironment(Config& c, const std::function<const char*(const char*)>& getenv_fn);
Result<Ok> Validate(Config& c);

}  // namespace breakpilot::config
