// The audit benchmark's data generator (bench/audit_bench.sh). Deterministic for a given seed;
// every row it writes is chained exactly as the platform chains it (audit::LinkHash), so
// `breakpilot audit verify` passes on generated data.
//
//   audit_gen copy TENANTS_FILE END_EPOCH_S      COPY text rows for audit_log on stdout; chain
//                                                 heads as COPY rows for audit_chains on stderr.
//                                                 TENANTS_FILE: lines "tenant_id events actors".
//   audit_gen json N BATCH                        Retraced event batches for POST .../event/bulk,
//                                                 one JSON document per line.
//   audit_gen insert CHAIN TENANT N BATCH         the same N events as multi-row INSERT statements
//                                                 (the raw-SQL baseline of the ingest benchmark).
#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "audit/entry.hpp"
#include "core/uuid.hpp"

namespace {

using breakpilot::Timestamp;
using breakpilot::audit::Entry;

constexpr const char* kActions[] = {
    "document.view",  "document.create", "document.update", "document.delete", "document.share",
    "user.login",     "user.logout",     "settings.update", "report.generate", "export.download",
    "policy.approve", "policy.reject",   "risk.assess",     "control.test",    "vendor.review",
    "finding.open",   "finding.close",   "comment.add",     "task.assign",     "evidence.upload"};
constexpr const char* kProducts[] = {"certifai", "breakpilot-compliance"};

char CrudOf(const std::string& action) {
  if (action.ends_with(".create") || action.ends_with(".add") || action.ends_with(".upload") ||
      action.ends_with(".open")) {
    return 'c';
  }
  if (action.ends_with(".delete")) return 'd';
  if (action.ends_with(".view") || action.ends_with(".download") || action.ends_with(".login")) {
    return 'r';
  }
  return 'u';
}

// One synthetic event of `tenant`, the i-th of n spread evenly over the year before `end`.
Entry Make(std::mt19937_64& rng, const std::string& tenant, std::int64_t i, std::int64_t n,
           int actors, std::int64_t end_us) {
  constexpr std::int64_t kYearUs = 365LL * 86400 * 1'000'000;
  Entry e;
  e.created.micros = end_us - kYearUs + (kYearUs / n) * i + static_cast<std::int64_t>(rng() % 1000);
  e.received = e.created;
  e.id = breakpilot::NewUuidV7(e.created);
  e.tenant_id = tenant;
  e.chain = tenant;
  e.product = kProducts[rng() % 2];
  e.action = kActions[rng() % std::size(kActions)];
  e.crud = CrudOf(e.action);
  const auto user = rng() % static_cast<std::uint64_t>(actors);
  e.actor_id = "user-" + std::to_string(user);
  e.actor_name = "User " + std::to_string(user);
  e.target_type = "document";
  const auto doc = rng() % 50000;
  e.target_id = "doc-" + std::to_string(doc);
  e.target_name = "Document " + std::to_string(doc);
  e.description = e.actor_name + " did " + e.action + " on document " + std::to_string(doc);
  e.is_failure = rng() % 50 == 0;
  e.source_ip = "10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
                std::to_string(rng() % 256);
  e.fields = R"({"session":")" + std::to_string(rng() % 100000) + R"(","client":"web"})";
  return e;
}

std::string CopyField(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '\t' || c == '\n' || c == '\r') out += '\\';
    out += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
  }
  return out;
}

std::string SqlText(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

int Copy(const char* tenants_file, std::int64_t end_s) {
  std::ifstream in(tenants_file);
  std::string tenant;
  std::int64_t events = 0;
  int actors = 0;
  std::mt19937_64 rng(42);
  std::string line;
  line.reserve(1024);
  while (in >> tenant >> events >> actors) {
    std::string prev = breakpilot::audit::GenesisHash(tenant);
    for (std::int64_t i = 0; i < events; ++i) {
      Entry e = Make(rng, tenant, i, events, actors, end_s * 1'000'000);
      e.seq = i + 1;
      e.hash = breakpilot::audit::LinkHash(prev, e);
      prev = e.hash;
      line.clear();
      for (const std::string* v : {&e.id, &e.chain, &e.hash, &*e.tenant_id, &e.product, &e.action,
                                   &e.actor_id, &e.actor_name, &e.target_type, &e.target_id,
                                   &e.target_name, &e.description, &e.source_ip}) {
        line += CopyField(*v);
        line += '\t';
      }
      line += std::to_string(e.seq) + '\t' + e.crud + '\t' + (e.is_failure ? "t" : "f") + '\t';
      line += "\\N\t" + CopyField(e.fields) + "\t{}\t" + breakpilot::FormatStorage(e.created) +
              '\t' + breakpilot::FormatStorage(e.received) + "\tf\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
    std::fprintf(stderr, "%s\t%lld\t%s\t0\t%s\tf\n", tenant.c_str(), static_cast<long long>(events),
                 prev.c_str(), breakpilot::audit::GenesisHash(tenant).c_str());
  }
  return 0;
}

int Json(std::int64_t n, std::int64_t batch) {
  std::mt19937_64 rng(7);
  const std::int64_t end_us = std::time(nullptr) * 1'000'000LL;
  boost::json::array events;
  for (std::int64_t i = 0; i < n; ++i) {
    Entry e = Make(rng, "", i, n, 200, end_us);
    events.push_back(
        {{"action", e.action},
         {"crud", std::string(1, e.crud)},
         {"created", breakpilot::FormatRfc3339(e.created)},
         {"actor", {{"id", e.actor_id}, {"name", e.actor_name}}},
         {"target", {{"id", e.target_id}, {"name", e.target_name}, {"type", "document"}}},
         {"description", e.description},
         {"is_failure", e.is_failure},
         {"source_ip", e.source_ip},
         {"fields", boost::json::parse(e.fields)}});
    if (static_cast<std::int64_t>(events.size()) == batch || i + 1 == n) {
      std::cout << boost::json::serialize(boost::json::object{{"events", events}}) << '\n';
      events.clear();
    }
  }
  return 0;
}

int Insert(const std::string& chain, const std::string& tenant, std::int64_t n,
           std::int64_t batch) {
  std::mt19937_64 rng(7);  // the same events as `json`
  const std::int64_t end_us = std::time(nullptr) * 1'000'000LL;
  std::string prev = breakpilot::audit::GenesisHash(chain);
  for (std::int64_t i = 0; i < n; ++i) {
    Entry e = Make(rng, tenant, i, n, 200, end_us);
    e.chain = chain;
    e.seq = i + 1;
    e.hash = breakpilot::audit::LinkHash(prev, e);
    prev = e.hash;
    if (i % batch == 0) {
      std::cout << "INSERT INTO audit_log (id, chain, seq, hash, tenant_id, product, action, crud, "
                   "actor_id, actor_name, target_type, target_id, target_name, description, "
                   "is_failure, source_ip, request_id, fields, detail, created_at, received_at, "
                   "demo) VALUES\n";
    }
    std::cout << "(" << SqlText(e.id) << "," << SqlText(e.chain) << "," << e.seq << ","
              << SqlText(e.hash) << "," << SqlText(tenant) << "," << SqlText(e.product) << ","
              << SqlText(e.action) << ",'" << e.crud << "'," << SqlText(e.actor_id) << ","
              << SqlText(e.actor_name) << ",'document'," << SqlText(e.target_id) << ","
              << SqlText(e.target_name) << "," << SqlText(e.description) << ","
              << (e.is_failure ? "true" : "false") << "," << SqlText(e.source_ip) << ",NULL,"
              << SqlText(e.fields) << ",'{}'," << SqlText(breakpilot::FormatStorage(e.created))
              << "," << SqlText(breakpilot::FormatStorage(e.received)) << ",false)"
              << ((i + 1) % batch == 0 || i + 1 == n ? ";\n" : ",\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "copy") return Copy(argv[2], std::atoll(argv[3]));
  if (args.size() == 3 && args[0] == "json") return Json(std::atoll(argv[2]), std::atoll(argv[3]));
  if (args.size() == 5 && args[0] == "insert") {
    return Insert(args[1], args[2], std::atoll(argv[4]), std::atoll(argv[5]));
  }
  std::cerr << "usage: audit_gen copy TENANTS END_EPOCH_S | json N BATCH | "
               "insert CHAIN TENANT N BATCH\n";
  return 2;
}
