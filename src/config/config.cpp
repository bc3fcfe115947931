#include "config/config.hpp"

#include <arpa/inet.h>

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <type_traits>

#include "core/log.hpp"
#include "core/time.hpp"

namespace breakpilot::config {
namespace {

// A check of one value or of the settings together: Ok, or Invalid with what is wrong.
using Check = Result<Ok>;

Check Want(std::string_view value, bool ok, std::string_view want) {
  if (ok) return Ok{};
  return Invalid("want " + std::string(want) + ", got '" + std::string(value) + "'");
}

bool IsHttpUrl(std::string_view v) {
  return v.rfind("https://", 0) == 0 || v.rfind("http://", 0) == 0;
}

// The checks of single values (Setting::check); those that relate settings are in Validate.
Check CheckListen(std::string_view v) {
  const auto colon = v.rfind(':');
  int port = 0;
  const auto tail = colon == std::string_view::npos ? std::string_view() : v.substr(colon + 1);
  const auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), port);
  return Want(v,
              colon != std::string_view::npos && colon > 0 && !tail.empty() && ec == std::errc() &&
                  p == tail.data() + tail.size() && port >= 0 && port <= 65535,
              "HOST:PORT with a port from 0 to 65535");
}
Check CheckDatabase(std::string_view v) {
  return Want(v,
              v.rfind("sqlite:", 0) == 0 || v.rfind("postgresql://", 0) == 0 ||
                  v.rfind("postgres://", 0) == 0,
              "sqlite:PATH or postgresql://...");
}
Check CheckAdminToken(std::string_view v) {
  if (v.empty() || v.size() >= 16) return Ok{};
  return Invalid("must be at least 16 characters");
}
Check CheckLogLevel(std::string_view v) {
  LogLevel level;
  return Want(v, ParseLogLevel(v, level), "debug, info, warn or error");
}
Check CheckHttpUrl(std::string_view v) {
  return Want(v, v.empty() || IsHttpUrl(v), "an http:// or https:// URL");
}
Check CheckDomain(std::string_view v) {
  bool ok = v.size() <= 200 && (v.empty() || (v.front() != '.' && v.back() != '.'));
  for (const char c : v) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
  }
  return Want(v, ok && v.find("..") == std::string_view::npos,
              "a lower-case host name without port (localhost, bp.example.com)");
}
Check CheckResolver(std::string_view v) {
  if (v.empty()) return Ok{};
  const auto colon = v.rfind(':');
  int port = 0;
  const auto tail = colon == std::string_view::npos ? std::string_view() : v.substr(colon + 1);
  const auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), port);
  in_addr addr{};
  const std::string host(v.substr(0, colon == std::string_view::npos ? 0 : colon));
  return Want(v,
              colon != std::string_view::npos && ec == std::errc() &&
                  p == tail.data() + tail.size() && port > 0 && port <= 65535 &&
                  inet_pton(AF_INET, host.c_str(), &addr) == 1,
              "an IPv4 address and a port (127.0.0.1:53)");
}
Check CheckEnvironment(std::string_view v) {
  return Want(v, v == "development" || v == "production", "development or production");
}
Check CheckProductHosts(std::string_view v) {
  return Want(v, v.empty() || v == "loopback" || v == "any", "loopback or any");
}
Check CheckWebhookSchedule(std::string_view v) {
  int entries = 0;
  bool ok = !v.empty();
  while (ok && !v.empty()) {
    const auto comma = v.find(',');
    const std::string_view item = v.substr(0, comma);
    int seconds = -1;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), seconds);
    ok = ec == std::errc() && end == item.data() + item.size() && seconds >= 0 &&
         seconds <= 86'400 && ++entries <= 20;
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return Want(v, ok, "1 to 20 delays in seconds (0 to 86400), comma-separated");
}
Check CheckSmtpUrl(std::string_view v) {
  return Want(v, v.empty() || v.rfind("smtp://", 0) == 0 || v.rfind("smtps://", 0) == 0,
              "smtp://host:port or smtps://host:port");
}
Check CheckMailFrom(std::string_view v) {
  return Want(
      v, v.find('@') != std::string_view::npos && v.find_first_of("\r\n") == std::string_view::npos,
      "an address like 'Breakpilot <noreply@example.com>'");
}
// HH:MM; the hour and minute, when `hour` and `minute` are given.
Check ParseClockTime(std::string_view v, int* hour = nullptr, int* minute = nullptr) {
  int h = -1, m = -1;
  if (v.size() == 5 && v[2] == ':') {
    std::from_chars(v.data(), v.data() + 2, h);
    std::from_chars(v.data() + 3, v.data() + 5, m);
  }
  if (h < 0 || h > 23 || m < 0 || m > 59 || !std::isdigit(static_cast<unsigned char>(v[0]))) {
    return Invalid("want HH:MM, like 03:00");
  }
  if (hour) *hour = h;
  if (minute) *minute = m;
  return Ok{};
}
Check CheckClockTime(std::string_view v) {
  return ParseClockTime(v);
}
Check CheckZone(std::string_view v) {
  if (NextLocalTime(Timestamp{}, std::string(v), 0, 0)) return Ok{};
  return Invalid("unknown time zone '" + std::string(v) +
                 "' (want an IANA name like Europe/Berlin)");
}

// THE settings: each one once. Adding a setting is a member in Config and a line here.
const Setting kSettings[] = {
    Setting::Text("listen", "HOST:PORT to listen on (port 0 picks a free one)", &Config::listen,
                  {.check = CheckListen}),
    Setting::Text("database", "sqlite:PATH or postgresql://user@host:port/db", &Config::database,
                  {.check = CheckDatabase}),
    Setting::Text("admin_token", "bootstrap staff bearer token (at least 16 characters)",
                  &Config::admin_token, {.secret = true, .check = CheckAdminToken}),
    Setting::Text("catalog_dir", "directory of */product.manifest.yaml files",
                  &Config::catalog_dir),
    Setting::Text("docs_dir", "swagger-ui-dist directory for GET /", &Config::docs_dir),
    Setting::Number("threads", "I/O threads (0: one per core)", &Config::threads, 0, 256),
    Setting::Number("blocking_threads",
                    "request handler pool (-1: auto = 32 per core on SQLite, where writes wait "
                    "together for a group commit, 4 per core on PostgreSQL; 0: none, everything on "
                    "the I/O threads)",
                    &Config::blocking_threads, -1, 1024),
    Setting::Number("db_pool_size", "database connections (more than twice max_exports)",
                    &Config::db_pool_size, 1, 1000),
    Setting::Number("max_body_bytes", "largest request body accepted (413 above)",
                    &Config::max_body_bytes, 1024, std::size_t{1} << 30),
    Setting::Number("max_header_bytes", "largest request header block accepted (431 above)",
                    &Config::max_header_bytes, 1024, std::size_t{1} << 20),
    Setting::Number(
        "max_connections",
        "open client connections at most (0: the descriptor limit less a reserve); when "
        "full, the one idle longest is closed",
        &Config::max_connections, 0, 1'000'000),
    Setting::Number(
        "max_connections_per_address",
        "open connections from one client address at most (0: no limit; raise it behind "
        "a proxy)",
        &Config::max_connections_per_address, 0, 1'000'000),
    Setting::Number("read_timeout_ms",
                    "time allowed for each request read, idle keep-alive included",
                    &Config::read_timeout_ms, 100, 3'600'000),
    Setting::Number("drain_timeout_ms", "bound on the graceful drain at SIGTERM",
                    &Config::drain_timeout_ms, 0, 3'600'000),
    Setting::Text("log_level", "debug, info, warn or error", &Config::log_level,
                  {.check = CheckLogLevel}),
    Setting::Flag("access_log", "log every request (true/false)", &Config::access_log),
    Setting::Flag("seed_demo", "create the demo tenant at start", &Config::seed_demo),
    Setting::Text("demo_products",
                  "with seed_demo: catalog products the demo tenant books (comma-separated ids; "
                  "make run books echo-bot)",
                  &Config::demo_products),
    Setting::Text("public_url",
                  "URL clients reach us at; the built-in identity's issuer (default "
                  "http://LISTEN)",
                  &Config::public_url, {.check = CheckHttpUrl}),
    Setting::Number("token_ttl_seconds", "lifetime of access tokens the built-in identity issues",
                    &Config::token_ttl_seconds, 60, 86'400),
    Setting::Number("password_memory_kib",
                    "argon2id memory cost for new password hashes (OWASP minimum 19456)",
                    &Config::password_memory_kib, 1024, 4LL * 1024 * 1024),
    Setting::Number("password_threads",
                    "threads that check and hash passwords, off the request threads (0: half the "
                    "cores)",
                    &Config::password_threads, 0, 256),
    Setting::Number(
        "password_queue",
        "password checks that may wait for those threads; more get 503 with Retry-After",
        &Config::password_queue, 1, 100'000),
    Setting::Number("password_attempts_per_minute",
                    "password grants one client address (IP) may try per minute; more get 429",
                    &Config::password_attempts_per_minute, 1, 1'000'000),
    Setting::Number("portal_logins_per_minute",
                    "portal sign-ins one client address (IP) may begin per minute; more get 429",
                    &Config::portal_logins_per_minute, 1, 1'000'000),
    Setting::Text("portal_domain",
                  "the portal's domain D: public pages on D, the staff backstage on backstage.D, "
                  "each tenant's portal on <slug>.D; every other host name is the API (empty: no "
                  "portal)",
                  &Config::portal_domain, {.check = CheckDomain}),
    Setting::Number("portal_session_idle_minutes",
                    "a portal session ends after this long without a request",
                    &Config::portal_session_idle_minutes, 5, 1440),
    Setting::Number("portal_session_hours",
                    "a portal session ends this long after sign-in, however busy",
                    &Config::portal_session_hours, 1, 720),
    Setting::Text("oidc_issuer",
                  "an external OpenID provider (Keycloak realm URL): its tokens are accepted, and "
                  "the portal signs in through it",
                  &Config::oidc_issuer, {.check = CheckHttpUrl}),
    Setting::Text("oidc_client_id", "our client at the OpenID provider (portal sign-in)",
                  &Config::oidc_client_id),
    Setting::Text("oidc_client_secret", "that client's secret", &Config::oidc_client_secret,
                  {.secret = true}),
    Setting::Text("oidc_audience",
                  "the audience access tokens from the provider must carry (default breakpilot)",
                  &Config::oidc_audience),
    Setting::Text("keycloak_url",
                  "Keycloak base URL: creating a tenant creates its organization there (Keycloak "
                  "mode)",
                  &Config::keycloak_url, {.check = CheckHttpUrl}),
    Setting::Text("keycloak_realm", "the realm of the tenants", &Config::keycloak_realm),
    Setting::Text("keycloak_client_id",
                  "a service-account client of that realm allowed to manage organizations and "
                  "users",
                  &Config::keycloak_client_id),
    Setting::Text("keycloak_client_secret", "its secret", &Config::keycloak_client_secret,
                  {.secret = true}),
    Setting::Text("polar_api_url", "Polar's API (https://sandbox-api.polar.sh for the sandbox)",
                  &Config::polar_api_url, {.check = CheckHttpUrl}),
    Setting::Text("polar_access_token",
                  "a Polar organization access token: the portal's checkout and customer portal",
                  &Config::polar_access_token, {.secret = true}),
    Setting::Text("polar_webhook_secret",
                  "the Polar webhook endpoint's secret, as Polar's dashboard shows it: POST "
                  "/polar/webhook accepts messages signed with it",
                  &Config::polar_webhook_secret, {.secret = true}),
    Setting::Text("polar_product_starter", "the Polar product id of the Starter plan",
                  &Config::polar_product_starter),
    Setting::Text("polar_product_professional", "the Polar product id of the Professional plan",
                  &Config::polar_product_professional),
    Setting::Text("polar_product_per_seat",
                  "the Polar product id of the per-seat plan (Professional, priced per member)",
                  &Config::polar_product_per_seat),
    Setting::Text("erpnext_url",
                  "ERPNext's URL: customers, leads, invoices and lost opportunities are mirrored "
                  "there (off while empty)",
                  &Config::erpnext_url, {.check = CheckHttpUrl}),
    Setting::Text("erpnext_api_key", "the API key of ERPNext's integration user",
                  &Config::erpnext_api_key),
    Setting::Text("erpnext_api_secret", "its API secret", &Config::erpnext_api_secret,
                  {.secret = true}),
    Setting::Text("erpnext_webhook_secret",
                  "the secret of ERPNext's Sales Order webhook: POST /erpnext/webhook accepts "
                  "messages signed with it",
                  &Config::erpnext_webhook_secret, {.secret = true}),
    Setting::Text("erpnext_item_code", "the ERPNext Item the mirrored Sales Invoices sell",
                  &Config::erpnext_item_code),
    Setting::Text("erpnext_tax_account", "the ERPNext account head of the tax line Polar charged",
                  &Config::erpnext_tax_account),
    Setting::Text("helpdesk_url",
                  "Frappe Helpdesk's URL: the portal's /support opens and lists tickets there "
                  "(off while empty)",
                  &Config::helpdesk_url, {.check = CheckHttpUrl}),
    Setting::Text("helpdesk_api_key", "the API key of Helpdesk's integration user",
                  &Config::helpdesk_api_key),
    Setting::Text("helpdesk_api_secret", "its API secret", &Config::helpdesk_api_secret,
                  {.secret = true}),
    Setting::Text("gitea_url",
                  "Gitea's URL: staff escalate tickets to issues there (off while empty)",
                  &Config::gitea_url, {.check = CheckHttpUrl}),
    Setting::Text("gitea_token", "a Gitea access token that may open issues in gitea_repo",
                  &Config::gitea_token, {.secret = true}),
    Setting::Text("gitea_repo", "the Gitea repository (owner/name) escalated tickets go to",
                  &Config::gitea_repo),
    Setting::Text("gitea_webhook_secret",
                  "the secret of the repository's Gitea webhook: POST /gitea/webhook accepts "
                  "issue events signed with it",
                  &Config::gitea_webhook_secret, {.secret = true}),
    Setting::Text("unleash_url",
                  "Unleash's URL: flags are read from its client API and evaluated here, the "
                  "built-in store answering what Unleash does not know or while it is away (off "
                  "while empty)",
                  &Config::unleash_url, {.check = CheckHttpUrl}),
    Setting::Text("unleash_client_token", "an Unleash backend (client) API token",
                  &Config::unleash_client_token, {.secret = true}),
    Setting::Text("unleash_app_name", "the appName the platform gives Unleash",
                  &Config::unleash_app_name),
    Setting::Number("unleash_poll_ms", "how often Unleash's flags are read, in milliseconds",
                    &Config::unleash_poll_ms, 100, 600000),
    Setting::Text("otlp_endpoint",
                  "an OpenTelemetry collector's OTLP/HTTP URL (http://collector:4318): a span per "
                  "request, job and outbound call is sent to <url>/v1/traces (off while empty)",
                  &Config::otlp_endpoint, {.check = CheckHttpUrl}),
    Setting::Number("otlp_sample_percent",
                    "the share of new traces recorded, in percent (a caller's traceparent "
                    "decides for its own trace)",
                    &Config::otlp_sample_percent, 0, 100),
    Setting::Text("dns_resolver",
                  "the DNS server (an IPv4 host:port) that custom domains' records are checked "
                  "with (the system's resolver while empty)",
                  &Config::dns_resolver, {.check = CheckResolver}),
    Setting::Number("key_rotation_days",
                    "a token signing key signs this many days, then a new one takes over",
                    &Config::key_rotation_days, 1, 3650),
    Setting::Text("environment",
                  "development or production (production refuses test-only switches)",
                  &Config::environment, {.check = CheckEnvironment}),
    Setting::Flag("enable_test_clock",
                  "open POST /internal/clock to move the platform's clock forward (tests only)",
                  &Config::enable_test_clock),
    Setting::Flag("allow_private_webhook_targets",
                  "let webhooks reach loopback and private addresses (tests only; refused in "
                  "production)",
                  &Config::allow_private_webhook_targets),
    Setting::Text("webhook_schedule",
                  "seconds before each webhook delivery attempt, comma-separated (Svix's: "
                  "0,5,300,1800,7200,18000,36000,36000)",
                  &Config::webhook_schedule, {.check = CheckWebhookSchedule}),
    Setting::Number("webhook_timeout_seconds", "one webhook delivery attempt's time limit",
                    &Config::webhook_timeout_seconds, 1, 120),
    Setting::Text("product_hosts",
                  "which products the lifecycle calls: loopback (only those on this machine; the "
                  "default in development) or any (the default in production)",
                  &Config::product_hosts, {.check = CheckProductHosts}),
    Setting::Text("mail_from", "sender of platform mail", &Config::mail_from,
                  {.check = CheckMailFrom}),
    Setting::Text("mail_dir", "without smtp_url, mail is written here as .eml files",
                  &Config::mail_dir),
    Setting::Text("smtp_url",
                  "SMTP submission server: smtp://host:587 (STARTTLS) or smtps://host:465",
                  &Config::smtp_url, {.check = CheckSmtpUrl}),
    Setting::Text("smtp_username", "SMTP AUTH user", &Config::smtp_username),
    Setting::Text("smtp_password", "SMTP AUTH password", &Config::smtp_password, {.secret = true}),
    Setting::Text("smtp_ca_file",
                  "PEM file of the CA that signed the SMTP server's certificate (default: the "
                  "system's)",
                  &Config::smtp_ca_file),
    Setting::Flag("smtp_starttls",
                  "require STARTTLS on smtp:// (default true; false only for a local test server)",
                  &Config::smtp_starttls),
    Setting::Number("job_workers", "threads running scheduled jobs in this replica (0: none)",
                    &Config::job_workers, 0, 64),
    Setting::Number("job_lease_seconds",
                    "a job whose worker is silent this long is taken over by another",
                    &Config::job_lease_seconds, 2, 86'400),
    Setting::Number("job_backoff_seconds",
                    "a failed job's first retry waits about this long; each next one twice as "
                    "long, at most an hour",
                    &Config::job_backoff_seconds, 1, 3600),
    Setting::Number("job_keep_done_days",
                    "done jobs are deleted this many days after they ran (hourly)",
                    &Config::job_keep_done_days, 1, 3650),
    Setting::Text("demo_reset_zone",
                  "IANA time zone of the nightly demo reset (default Europe/Berlin)",
                  &Config::demo_reset_zone, {.check = CheckZone}),
    Setting::Text("demo_reset_time", "local time of the nightly demo reset, HH:MM (default 03:00)",
                  &Config::demo_reset_time, {.check = CheckClockTime}),
    Setting::Number("trial_requests_per_hour", "trial requests one address (IP) may make per hour",
                    &Config::trial_requests_per_hour, 1, 1'000'000),
    Setting::Number("max_exports",
                    "audit exports (CSV or PDF) one replica builds at once, one tenant's at most "
                    "half; more are refused with 429",
                    &Config::max_exports, 1, 1000),
};

Check ParseBool(std::string_view v, bool& out) {
  if (v == "true" || v == "1" || v == "yes") {
    out = true;
  } else if (v == "false" || v == "0" || v == "no") {
    out = false;
  } else {
    return Invalid("'" + std::string(v) + "' is not true or false");
  }
  return Ok{};
}

template <class T>
Check ParseNumber(std::string_view v, T& out, long long min, long long max) {
  long long n = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
    return Invalid("'" + std::string(v) + "' is not a whole number from " + std::to_string(min) +
                   " to " + std::to_string(max));
  }
  out = static_cast<T>(n);
  return Ok{};
}

}  // namespace

Setting Setting::Text(std::string_view key, std::string_view help, std::string Config::*field,
                      Options options) {
  return {
      .key = key, .help = help, .field = field, .secret = options.secret, .check = options.check};
}

Setting Setting::Number(std::string_view key, std::string_view help, int Config::*field,
                        long long min, long long max, Options options) {
  return {.key = key,
          .help = help,
          .field = field,
          .min = min,
          .max = max,
          .secret = options.secret,
          .check = options.check};
}

Setting Setting::Number(std::string_view key, std::string_view help, std::size_t Config::*field,
                        long long min, long long max, Options options) {
  return {.key = key,
          .help = help,
          .field = field,
          .min = min,
          .max = max,
          .secret = options.secret,
          .check = options.check};
}

Setting Setting::Flag(std::string_view key, std::string_view help, bool Config::*field) {
  return {.key = key, .help = help, .field = field};
}

std::string Setting::env() const {
  std::string out = "BREAKPILOT_";
  for (char ch : key) out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

std::string Setting::flag() const {
  std::string out = "--";
  for (char ch : key) out += ch == '_' ? '-' : ch;
  return out;
}

std::string Setting::Value(const Config& c) const {
  return std::visit(
      [&c](auto member) -> std::string {
        const auto& v = c.*member;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else {
          return std::to_string(v);
        }
      },
      field);
}

std::span<const Setting> Settings() {
  return kSettings;
}

Result<Ok> ApplySetting(Config& c, std::string_view key, std::string_view v) {
  for (const auto& s : kSettings) {
    if (s.key != key) continue;
    const Check e = std::visit(
        [&](auto member) -> Check {
          auto& field = c.*member;
          using T = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<T, std::string>) {
            field = v;
            return Ok{};
          } else if constexpr (std::is_same_v<T, bool>) {
            return ParseBool(v, field);
          } else {
            return ParseNumber(v, field, s.min, s.max);
          }
        },
        s.field);
    if (!e) return Invalid(std::string(key) + ": " + e.error().detail);
    return Ok{};
  }
  return Invalid("unknown setting '" + std::string(key) + "'");
}

Result<Ok> LoadConfigFile(const std::string& path, Config& c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Invalid("config file " + path + ": " + e.what());
  }
  if (root.IsNull()) return Ok{};
  if (!root.IsMap())
    return Invalid("config file " + path + ": must be a mapping of setting: value");
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>("");
    const std::string where = "config file " + path + ": ";
    if (!kv.second.IsScalar()) return Invalid(where + key + " must be a scalar");
    if (auto ok = ApplySetting(c, key, kv.second.Scalar()); !ok) {
      return Invalid(where + ok.error().detail);
    }
  }
  return Ok{};
}

Result<Ok> ApplyEnvironment(Config& c, const std::function<const char*(const char*)>& getenv_fn) {
  for (const auto& s : kSettings) {
    const std::string env = s.env();
    const char* v = getenv_fn(env.c_str());
    if (v == nullptr) continue;
    if (auto ok = ApplySetting(c, s.key, v); !ok) return Invalid(env + ": " + ok.error().detail);
  }
  return Ok{};
}

Result<Ok> Validate(Config& c) {
  for (const auto& s : kSettings) {
    if (!s.check) continue;
    if (auto ok = s.check(s.Value(c)); !ok) {
      return Invalid(std::string(s.key) + ": " + ok.error().detail);
    }
  }
  // What follows derives settings from others, or relates them.
  const auto colon = c.listen.rfind(':');
  c.host = c.listen.substr(0, colon);
  if (c.host.size() > 2 && c.host.front() == '[' && c.host.back() == ']') {
    c.host = c.host.substr(1, c.host.size() - 2);
  }
  c.port = static_cast<unsigned short>(std::stoi(c.listen.substr(colon + 1)));
  // Checked above (demo_reset_time has CheckClockTime); this fills the hour and the minute.
  (void)ParseClockTime(c.demo_reset_time, &c.demo_reset_hour, &c.demo_reset_minute);
  for (auto* url :
       {&c.public_url, &c.oidc_issuer, &c.keycloak_url, &c.polar_api_url, &c.erpnext_url,
        &c.helpdesk_url, &c.gitea_url, &c.unleash_url, &c.otlp_endpoint}) {
    while (!url->empty() && url->back() == '/') url->pop_back();
  }
  if (!c.oidc_issuer.empty() && c.oidc_client_id.empty() != c.oidc_client_secret.empty()) {
    return Invalid("oidc_client_id and oidc_client_secret: set both or neither");
  }
  if (!c.keycloak_url.empty() && (c.keycloak_realm.empty() || c.keycloak_client_id.empty() ||
                                  c.keycloak_client_secret.empty())) {
    return Invalid(
        "keycloak_url needs keycloak_realm, keycloak_client_id and keycloak_client_secret");
  }
  if (!c.polar_access_token.empty() && c.polar_product_starter.empty() &&
      c.polar_product_professional.empty() && c.polar_product_per_seat.empty()) {
    return Invalid(
        "polar_access_token needs at least one of polar_product_starter, "
        "polar_product_professional and polar_product_per_seat");
  }
  if (!c.erpnext_url.empty() && (c.erpnext_api_key.empty() || c.erpnext_api_secret.empty())) {
    return Invalid("erpnext_url needs erpnext_api_key and erpnext_api_secret");
  }
  if (!c.helpdesk_url.empty() && (c.helpdesk_api_key.empty() || c.helpdesk_api_secret.empty())) {
    return Invalid("helpdesk_url needs helpdesk_api_key and helpdesk_api_secret");
  }
  if (!c.unleash_url.empty() && c.unleash_client_token.empty()) {
    return Invalid("unleash_url needs unleash_client_token");
  }
  if (!c.gitea_url.empty() && (c.gitea_token.empty() || c.gitea_repo.empty())) {
    return Invalid("gitea_url needs gitea_token and gitea_repo");
  }
  if (const auto slash = c.gitea_repo.find('/');
      !c.gitea_repo.empty() &&
      (slash == std::string::npos || slash == 0 || slash + 1 == c.gitea_repo.size() ||
       c.gitea_repo.find('/', slash + 1) != std::string::npos)) {
    return Invalid("gitea_repo: the repository as owner/name");
  }
  if (c.db_pool_size <= 2 * c.max_exports) {  // 2: audit::PageWriter::Options::readers
    return Invalid("db_pool_size: want more than twice max_exports (" +
                   std::to_string(c.max_exports) +
                   "): each export reads on two connections at once, and requests need some too");
  }
  if (c.environment == "production" && c.public_url.rfind("https://", 0) != 0) {
    return Invalid(
        "public_url: production needs the https:// URL clients use (token issuer, links in "
        "mail: RFC 8058 wants HTTPS)");
  }
  if (c.allow_private_webhook_targets && c.environment == "production") {
    return Invalid(
        "allow_private_webhook_targets: refused in production (webhooks would reach internal "
        "addresses)");
  }
  if (c.enable_test_clock && c.environment == "production") {
    return Invalid("enable_test_clock: refused in production (it lets staff move the clock)");
  }
  if (c.product_hosts.empty()) c.product_hosts = c.environment == "production" ? "any" : "loopback";
  return Ok{};
}

}  // namespace breakpilot::config
