#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>

#include "core/log.hpp"
#include "core/time.hpp"

namespace breakpilot::config {
namespace {

constexpr Setting kSettings[] = {
    {"listen", "BREAKPILOT_LISTEN", "--listen", "HOST:PORT to listen on (port 0 picks a free one)"},
    {"database", "BREAKPILOT_DATABASE", "--database",
     "sqlite:PATH or postgresql://user@host:port/db"},
    {"admin_token", "BREAKPILOT_ADMIN_TOKEN", "--admin-token",
     "bootstrap staff bearer token (at least 16 characters)", true},
    {"catalog_dir", "BREAKPILOT_CATALOG_DIR", "--catalog-dir",
     "directory of */product.manifest.yaml files"},
    {"docs_dir", "BREAKPILOT_DOCS_DIR", "--docs-dir", "swagger-ui-dist directory for GET /"},
    {"threads", "BREAKPILOT_THREADS", "--threads", "I/O threads (0: one per core)"},
    {"blocking_threads", "BREAKPILOT_BLOCKING_THREADS", "--blocking-threads",
     "request handler pool (-1: auto = 32 per core on SQLite, where writes wait together for a "
     "group commit, 4 per core on PostgreSQL; 0: none, everything on the I/O threads)"},
    {"db_pool_size", "BREAKPILOT_DB_POOL_SIZE", "--db-pool-size",
     "database connections (more than twice max_exports)"},
    {"max_body_bytes", "BREAKPILOT_MAX_BODY_BYTES", "--max-body-bytes",
     "largest request body accepted (413 above)"},
    {"max_header_bytes", "BREAKPILOT_MAX_HEADER_BYTES", "--max-header-bytes",
     "largest request header block accepted (431 above)"},
    {"max_connections", "BREAKPILOT_MAX_CONNECTIONS", "--max-connections",
     "open client connections at most (0: the descriptor limit less a reserve); when full, the "
     "one idle longest is closed"},
    {"max_connections_per_address", "BREAKPILOT_MAX_CONNECTIONS_PER_ADDRESS",
     "--max-connections-per-address",
     "open connections from one client address at most (0: no limit; raise it behind a proxy)"},
    {"read_timeout_ms", "BREAKPILOT_READ_TIMEOUT_MS", "--read-timeout-ms",
     "time allowed for each request read, idle keep-alive included"},
    {"drain_timeout_ms", "BREAKPILOT_DRAIN_TIMEOUT_MS", "--drain-timeout-ms",
     "bound on the graceful drain at SIGTERM"},
    {"log_level", "BREAKPILOT_LOG_LEVEL", "--log-level", "debug, info, warn or error"},
    {"access_log", "BREAKPILOT_ACCESS_LOG", "--access-log", "log every request (true/false)", false,
     true},
    {"seed_demo", "BREAKPILOT_SEED_DEMO", "--seed-demo", "create the demo tenant at start", false,
     true},
    {"public_url", "BREAKPILOT_PUBLIC_URL", "--public-url",
     "URL clients reach us at; the built-in identity's issuer (default http://LISTEN)"},
    {"token_ttl_seconds", "BREAKPILOT_TOKEN_TTL_SECONDS", "--token-ttl-seconds",
     "lifetime of access tokens the built-in identity issues"},
    {"password_memory_kib", "BREAKPILOT_PASSWORD_MEMORY_KIB", "--password-memory-kib",
     "argon2id memory cost for new password hashes (OWASP minimum 19456)"},
    {"password_threads", "BREAKPILOT_PASSWORD_THREADS", "--password-threads",
     "threads that check and hash passwords, off the request threads (0: half the cores)"},
    {"password_queue", "BREAKPILOT_PASSWORD_QUEUE", "--password-queue",
     "password checks that may wait for those threads; more get 503 with Retry-After"},
    {"password_attempts_per_minute", "BREAKPILOT_PASSWORD_ATTEMPTS_PER_MINUTE",
     "--password-attempts-per-minute",
     "password grants one client address (IP) may try per minute; more get 429"},
    {"portal_logins_per_minute", "BREAKPILOT_PORTAL_LOGINS_PER_MINUTE",
     "--portal-logins-per-minute",
     "portal sign-ins one client address (IP) may begin per minute; more get 429"},
    {"oidc_issuer", "BREAKPILOT_OIDC_ISSUER", "--oidc-issuer",
     "an external OpenID provider (Keycloak realm URL): its tokens are accepted, and the portal "
     "signs in through it"},
    {"oidc_client_id", "BREAKPILOT_OIDC_CLIENT_ID", "--oidc-client-id",
     "our client at the OpenID provider (portal sign-in)"},
    {"oidc_client_secret", "BREAKPILOT_OIDC_CLIENT_SECRET", "--oidc-client-secret",
     "that client's secret", true},
    {"oidc_audience", "BREAKPILOT_OIDC_AUDIENCE", "--oidc-audience",
     "the audience access tokens from the provider must carry (default breakpilot)"},
    {"keycloak_url", "BREAKPILOT_KEYCLOAK_URL", "--keycloak-url",
     "Keycloak base URL: creating a tenant creates its organization there (Keycloak mode)"},
    {"keycloak_realm", "BREAKPILOT_KEYCLOAK_REALM", "--keycloak-realm", "the realm of the tenants"},
    {"keycloak_client_id", "BREAKPILOT_KEYCLOAK_CLIENT_ID", "--keycloak-client-id",
     "a service-account client of that realm allowed to manage organizations and users"},
    {"keycloak_client_secret", "BREAKPILOT_KEYCLOAK_CLIENT_SECRET", "--keycloak-client-secret",
     "its secret", true},
    {"key_rotation_days", "BREAKPILOT_KEY_ROTATION_DAYS", "--key-rotation-days",
     "a token signing key signs this many days, then a new one takes over"},
    {"environment", "BREAKPILOT_ENVIRONMENT", "--environment",
     "development or production (production refuses test-only switches)"},
    {"enable_test_clock", "BREAKPILOT_ENABLE_TEST_CLOCK", "--enable-test-clock",
     "open POST /internal/clock to move the platform's clock forward (tests only)", false, true},
    {"product_hosts", "BREAKPILOT_PRODUCT_HOSTS", "--product-hosts",
     "which products the lifecycle calls: loopback (only those on this machine; the default in "
     "development) or any (the default in production)"},
    {"mail_from", "BREAKPILOT_MAIL_FROM", "--mail-from", "sender of platform mail"},
    {"mail_dir", "BREAKPILOT_MAIL_DIR", "--mail-dir",
     "without smtp_url, mail is written here as .eml files"},
    {"smtp_url", "BREAKPILOT_SMTP_URL", "--smtp-url",
     "SMTP submission server: smtp://host:587 (STARTTLS) or smtps://host:465"},
    {"smtp_username", "BREAKPILOT_SMTP_USERNAME", "--smtp-username", "SMTP AUTH user"},
    {"smtp_password", "BREAKPILOT_SMTP_PASSWORD", "--smtp-password", "SMTP AUTH password", true},
    {"smtp_ca_file", "BREAKPILOT_SMTP_CA_FILE", "--smtp-ca-file",
     "PEM file of the CA that signed the SMTP server's certificate (default: the system's)"},
    {"smtp_starttls", "BREAKPILOT_SMTP_STARTTLS", "--smtp-starttls",
     "require STARTTLS on smtp:// (default true; false only for a local test server)", false, true},
    {"job_workers", "BREAKPILOT_JOB_WORKERS", "--job-workers",
     "threads running scheduled jobs in this replica (0: none)"},
    {"job_lease_seconds", "BREAKPILOT_JOB_LEASE_SECONDS", "--job-lease-seconds",
     "a job whose worker is silent this long is taken over by another"},
    {"job_keep_done_days", "BREAKPILOT_JOB_KEEP_DONE_DAYS", "--job-keep-done-days",
     "done jobs are deleted this many days after they ran (hourly)"},
    {"demo_reset_zone", "BREAKPILOT_DEMO_RESET_ZONE", "--demo-reset-zone",
     "IANA time zone of the nightly demo reset (default Europe/Berlin)"},
    {"demo_reset_time", "BREAKPILOT_DEMO_RESET_TIME", "--demo-reset-time",
     "local time of the nightly demo reset, HH:MM (default 03:00)"},
    {"trial_requests_per_hour", "BREAKPILOT_TRIAL_REQUESTS_PER_HOUR", "--trial-requests-per-hour",
     "trial requests one address (IP) may make per hour"},
    {"max_exports", "BREAKPILOT_MAX_EXPORTS", "--max-exports",
     "audit exports (CSV or PDF) one replica builds at once, one tenant's at most half; more are "
     "refused with 429"},
};

template <class T>
std::optional<std::string> ParseNumber(std::string_view key, std::string_view v, T& out, T min,
                                       T max) {
  T n{};
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
    return std::string(key) + ": '" + std::string(v) + "' is not a whole number from " +
           std::to_string(min) + " to " + std::to_string(max);
  }
  out = n;
  return std::nullopt;
}

std::optional<std::string> ParseBool(std::string_view key, std::string_view v, bool& out) {
  if (v == "true" || v == "1" || v == "yes") {
    out = true;
  } else if (v == "false" || v == "0" || v == "no") {
    out = false;
  } else {
    return std::string(key) + ": '" + std::string(v) + "' is not true or false";
  }
  return std::nullopt;
}

}  // namespace

std::span<const Setting> Settings() {
  return kSettings;
}

std::optional<std::string> ApplySetting(Config& c, std::string_view key, std::string_view v) {
  if (key == "listen")
    c.listen = v;
  else if (key == "database")
    c.database = v;
  else if (key == "admin_token")
    c.admin_token = v;
  else if (key == "catalog_dir")
    c.catalog_dir = v;
  else if (key == "docs_dir")
    c.docs_dir = v;
  else if (key == "log_level")
    c.log_level = v;
  else if (key == "public_url")
    c.public_url = v;
  else if (key == "keycloak_url")
    c.keycloak_url = v;
  else if (key == "keycloak_realm")
    c.keycloak_realm = v;
  else if (key == "keycloak_client_id")
    c.keycloak_client_id = v;
  else if (key == "keycloak_client_secret")
    c.keycloak_client_secret = v;
  else if (key == "oidc_issuer")
    c.oidc_issuer = v;
  else if (key == "oidc_client_id")
    c.oidc_client_id = v;
  else if (key == "oidc_client_secret")
    c.oidc_client_secret = v;
  else if (key == "oidc_audience")
    c.oidc_audience = v;
  else if (key == "token_ttl_seconds")
    return ParseNumber(key, v, c.token_ttl_seconds, 60, 86'400);
  else if (key == "password_memory_kib")
    return ParseNumber(key, v, c.password_memory_kib, 1024, 4 * 1024 * 1024);
  else if (key == "password_threads")
    return ParseNumber(key, v, c.password_threads, 0, 256);
  else if (key == "password_queue")
    return ParseNumber(key, v, c.password_queue, 1, 100'000);
  else if (key == "password_attempts_per_minute")
    return ParseNumber(key, v, c.password_attempts_per_minute, 1, 1'000'000);
  else if (key == "portal_logins_per_minute")
    return ParseNumber(key, v, c.portal_logins_per_minute, 1, 1'000'000);
  else if (key == "key_rotation_days")
    return ParseNumber(key, v, c.key_rotation_days, 1, 3650);
  else if (key == "threads")
    return ParseNumber(key, v, c.threads, 0, 256);
  else if (key == "blocking_threads")
    return ParseNumber(key, v, c.blocking_threads, -1, 1024);
  else if (key == "db_pool_size")
    return ParseNumber(key, v, c.db_pool_size, 1, 1000);
  else if (key == "max_body_bytes")
    return ParseNumber<std::size_t>(key, v, c.max_body_bytes, 1024, std::size_t{1} << 30);
  else if (key == "max_header_bytes")
    // Up to 1 MiB, Go's net/http default: fields are copied straight into our Request, so no
    // per-field length limit of Beast's field container applies (http/wire.hpp).
    return ParseNumber<std::size_t>(key, v, c.max_header_bytes, 1024, std::size_t{1} << 20);
  else if (key == "max_connections")
    return ParseNumber<std::size_t>(key, v, c.max_connections, 0, 1'000'000);
  else if (key == "max_connections_per_address")
    return ParseNumber<std::size_t>(key, v, c.max_connections_per_address, 0, 1'000'000);
  else if (key == "read_timeout_ms")
    return ParseNumber(key, v, c.read_timeout_ms, 100, 3'600'000);
  else if (key == "drain_timeout_ms")
    return ParseNumber(key, v, c.drain_timeout_ms, 0, 3'600'000);
  else if (key == "access_log")
    return ParseBool(key, v, c.access_log);
  else if (key == "seed_demo")
    return ParseBool(key, v, c.seed_demo);
  else if (key == "environment")
    c.environment = v;
  else if (key == "enable_test_clock")
    return ParseBool(key, v, c.enable_test_clock);
  else if (key == "product_hosts")
    c.product_hosts = v;
  else if (key == "mail_from")
    c.mail_from = v;
  else if (key == "mail_dir")
    c.mail_dir = v;
  else if (key == "smtp_url")
    c.smtp_url = v;
  else if (key == "smtp_username")
    c.smtp_username = v;
  else if (key == "smtp_password")
    c.smtp_password = v;
  else if (key == "smtp_ca_file")
    c.smtp_ca_file = v;
  else if (key == "smtp_starttls")
    return ParseBool(key, v, c.smtp_starttls);
  else if (key == "job_workers")
    return ParseNumber(key, v, c.job_workers, 0, 64);
  else if (key == "job_lease_seconds")
    return ParseNumber(key, v, c.job_lease_seconds, 2, 86'400);
  else if (key == "job_keep_done_days")
    return ParseNumber(key, v, c.job_keep_done_days, 1, 3650);
  else if (key == "demo_reset_zone")
    c.demo_reset_zone = v;
  else if (key == "demo_reset_time")
    c.demo_reset_time = v;
  else if (key == "trial_requests_per_hour")
    return ParseNumber(key, v, c.trial_requests_per_hour, 1, 1'000'000);
  else if (key == "max_exports")
    return ParseNumber(key, v, c.max_exports, 1, 1000);
  else
    return "unknown setting '" + std::string(key) + "'";
  return std::nullopt;
}

std::optional<std::string> LoadConfigFile(const std::string& path, Config& c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return "config file " + path + ": " + e.what();
  }
  if (root.IsNull()) return std::nullopt;
  if (!root.IsMap()) return "config file " + path + ": must be a mapping of setting: value";
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>("");
    const std::string where = "config file " + path + ": ";
    if (!kv.second.IsScalar()) return where + key + " must be a scalar";
    if (auto e = ApplySetting(c, key, kv.second.Scalar())) return where + *e;
  }
  return std::nullopt;
}

std::optional<std::string> ApplyEnvironment(
    Config& c, const std::function<const char*(const char*)>& getenv_fn) {
  for (const auto& s : kSettings) {
    const char* v = getenv_fn(std::string(s.env).c_str());
    if (v == nullptr) continue;
    if (auto e = ApplySetting(c, s.key, v)) return std::string(s.env) + ": " + *e;
  }
  return std::nullopt;
}

std::optional<std::string> Validate(Config& c) {
  const auto colon = c.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return "listen: want HOST:PORT, got " + c.listen;
  c.host = c.listen.substr(0, colon);
  if (c.host.size() > 2 && c.host.front() == '[' && c.host.back() == ']') {
    c.host = c.host.substr(1, c.host.size() - 2);
  }
  int port = 0;
  if (auto e = ParseNumber<int>("listen port", std::string_view(c.listen).substr(colon + 1), port,
                                0, 65535)) {
    return e;
  }
  c.port = static_cast<unsigned short>(port);
  if (c.database.rfind("sqlite:", 0) != 0 && c.database.rfind("postgresql://", 0) != 0 &&
      c.database.rfind("postgres://", 0) != 0) {
    return "database: want sqlite:PATH or postgresql://..., got a URL of another scheme";
  }
  LogLevel level;
  if (!ParseLogLevel(c.log_level, level)) return "log_level: want debug, info, warn or error";
  if (!c.public_url.empty()) {
    if (c.public_url.rfind("https://", 0) != 0 && c.public_url.rfind("http://", 0) != 0) {
      return "public_url: want an http:// or https:// URL";
    }
    while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  }
  if (!c.oidc_issuer.empty()) {
    if (c.oidc_issuer.rfind("https://", 0) != 0 && c.oidc_issuer.rfind("http://", 0) != 0) {
      return "oidc_issuer: want an http:// or https:// URL";
    }
    while (c.oidc_issuer.back() == '/') c.oidc_issuer.pop_back();
    if (c.oidc_client_id.empty() != c.oidc_client_secret.empty()) {
      return "oidc_client_id and oidc_client_secret: set both or neither";
    }
  }
  if (!c.keycloak_url.empty()) {
    if (c.keycloak_url.rfind("https://", 0) != 0 && c.keycloak_url.rfind("http://", 0) != 0) {
      return "keycloak_url: want an http:// or https:// URL";
    }
    while (c.keycloak_url.back() == '/') c.keycloak_url.pop_back();
    if (c.keycloak_realm.empty() || c.keycloak_client_id.empty() ||
        c.keycloak_client_secret.empty()) {
      return "keycloak_url needs keycloak_realm, keycloak_client_id and keycloak_client_secret";
    }
  }
  if (c.db_pool_size <= 2 * c.max_exports) {  // 2: audit::PageWriter::Options::readers
    return "db_pool_size: want more than twice max_exports (" + std::to_string(c.max_exports) +
           "): each export reads on two connections at once, and requests need some too";
  }
  if (!c.admin_token.empty() && c.admin_token.size() < 16) {
    return "admin_token: must be at least 16 characters";
  }
  if (c.environment != "development" && c.environment != "production") {
    return "environment: want development or production";
  }
  if (c.environment == "production" && c.public_url.rfind("https://", 0) != 0) {
    return "public_url: production needs the https:// URL clients use (token issuer, links in "
           "mail: RFC 8058 wants HTTPS)";
  }
  if (c.product_hosts.empty()) c.product_hosts = c.environment == "production" ? "any" : "loopback";
  if (c.product_hosts != "loopback" && c.product_hosts != "any") {
    return "product_hosts: want loopback or any";
  }
  if (c.enable_test_clock && c.environment == "production") {
    return "enable_test_clock: refused in production (it lets staff move the clock)";
  }
  if (!c.smtp_url.empty() && c.smtp_url.rfind("smtp://", 0) != 0 &&
      c.smtp_url.rfind("smtps://", 0) != 0) {
    return "smtp_url: want smtp://host:port or smtps://host:port";
  }
  if (c.mail_from.find('@') == std::string::npos ||
      c.mail_from.find_first_of("\r\n") != std::string::npos) {
    return "mail_from: want an address like 'Breakpilot <noreply@example.com>'";
  }
  {
    const auto& t = c.demo_reset_time;
    if (t.size() != 5 || t[2] != ':' ||
        ParseNumber<int>("", t.substr(0, 2), c.demo_reset_hour, 0, 23) ||
        ParseNumber<int>("", t.substr(3, 2), c.demo_reset_minute, 0, 59)) {
      return "demo_reset_time: want HH:MM, like 03:00";
    }
  }
  if (!NextLocalTime(Timestamp{}, c.demo_reset_zone, 0, 0)) {
    return "demo_reset_zone: unknown time zone '" + c.demo_reset_zone +
           "' (want an IANA name like Europe/Berlin)";
  }
  return std::nullopt;
}

}  // namespace breakpilot::config
