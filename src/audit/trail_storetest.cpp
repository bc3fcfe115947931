// The audit trail on both stores: the hash chain catches rows changed, deleted, swapped or
// inserted behind the platform's back; retention and erase leave it verifiable; concurrent
// writers never fork a chain; search pages stay stable while events arrive.
#include "audit/trail.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>
#include <thread>

#include "audit/export.hpp"
#include "audit/ingest.hpp"
#include "csv.hpp"
#include "storage/migrations.hpp"
#include "tenants/tenant_service.hpp"
#include "test_env.hpp"

namespace breakpilot::audit {
namespace {

using testing::ManualClock;
using testing::Store;
using testing::TestDatabase;

constexpr storage::Query kTamperDescription{
    "test_tamper_description",
    "UPDATE audit_log SET description = 'nothing happened' WHERE chain = $1 AND seq = $2"};
constexpr storage::Query kTamperDelete{"test_tamper_delete",
                                       "DELETE FROM audit_log WHERE chain = $1 AND seq = $2"};
constexpr storage::Query kTamperMoveSeq{
    "test_tamper_move", "UPDATE audit_log SET seq = $3 WHERE chain = $1 AND seq = $2"};
constexpr storage::Query kTamperBase{
    "test_tamper_base", "UPDATE audit_chains SET base_seq = $2, base_hash = $3 WHERE chain = $1"};
constexpr storage::Query kTamperInsert{
    "test_tamper_insert",
    "INSERT INTO audit_log (id, chain, tenant_id, action, crud, actor_id, description, fields, "
    "detail, created_at, received_at) VALUES ($1, $2, $4, 'tenant.update', 'u', 'mallory', "
    "'forged', '{}', '{}', $3, $3)"};
constexpr storage::Query kCountChain{"test_count_chain",
                                     "SELECT count(*) FROM audit_log WHERE chain = $1"};
constexpr storage::Query kHashAt{"test_hash_at",
                                 "SELECT hash FROM audit_log WHERE chain = $1 AND seq = $2"};

class AuditTrailTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!db_) return;
    tenants_ = std::make_unique<tenants::TenantService>(*db_, clock_);
    auto t = tenants_->Create(actor_, {.slug = "acme", .name = "Acme"});
    ASSERT_TRUE(t.ok());
    tenant_ = t->id;
  }

  // Publishes n events for the tenant through the product path.
  void Publish(int n, const std::string& actor = "user-1") {
    std::vector<boost::json::object> events;
    for (int i = 0; i < n; ++i) {
      events.push_back({{"action", "document.view"},
                        {"crud", "r"},
                        {"actor", {{"id", actor}, {"name", "User One"}}},
                        {"target", {{"id", "doc-" + std::to_string(i)}, {"type", "document"}}},
                        {"group", {{"id", tenant_}}},
                        {"description", "viewed document " + std::to_string(i)},
                        {"fields", {{"n", std::to_string(i)}}}});
    }
    std::vector<const boost::json::object*> ptrs;
    for (const auto& e : events) ptrs.push_back(&e);
    Ingestor in(*db_, clock_);
    auto r = in.Publish({.product = "certifai"}, ptrs, "/events");
    ASSERT_TRUE(r.ok()) << r.error().detail;
  }

  ChainReport Report() {
    auto reports = Verify(*db_, tenant_);
    EXPECT_EQ(reports.size(), 1U);
    return reports.empty() ? ChainReport{} : reports.front();
  }

  void Exec(const storage::Query& q, const std::vector<storage::Param>& params) {
    db_->Write([&](storage::Session& s) { s.Execute(q, params); });
  }

  std::int64_t Count() {
    std::int64_t n = 0;
    db_->Read([&](storage::Session& s) { n = s.FetchOne(kCountChain, {tenant_})->Int(0); });
    return n;
  }

  ManualClock clock_;
  std::unique_ptr<tenants::TenantService> tenants_;
  Actor actor_{"test", "req-1", "127.0.0.1", "tester"};
  std::string tenant_;
};

TEST_P(AuditTrailTest, AnUntouchedChainVerifies) {
  Publish(20);
  auto r = Report();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.checked, 21) << "tenant.create + 20 published";
  EXPECT_EQ(r.head_seq, 21);
  EXPECT_TRUE(r.problems.empty());
  for (const auto& all : Verify(*db_, std::nullopt)) EXPECT_TRUE(all.ok) << all.chain;
}

TEST_P(AuditTrailTest, AnUpdatedRowIsFound) {
  Publish(10);
  Exec(kTamperDescription, {tenant_, "5"});
  auto r = Report();
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.problems.size(), 1U) << "one altered row is one problem, not a cascade";
  EXPECT_EQ(r.problems[0].kind, "altered");
  EXPECT_EQ(r.problems[0].seq, 5);
}

TEST_P(AuditTrailTest, ADeletedRowIsFoundInTheMiddleAndAtTheEnd) {
  Publish(10);
  Exec(kTamperDelete, {tenant_, "4"});
  auto r = Report();
  EXPECT_FALSE(r.ok);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems[0].kind, "missing");
  EXPECT_EQ(r.problems[0].seq, 4);

  Exec(kTamperDelete, {tenant_, "11"});  // the newest
  r = Report();
  bool head = false;
  for (const auto& p : r.problems) head = head || p.kind == "head_mismatch";
  EXPECT_TRUE(head) << "deleting the newest event is noticed through the chain head";
}

TEST_P(AuditTrailTest, SwappedRowsAreFound) {
  Publish(10);
  Exec(kTamperMoveSeq, {tenant_, "3", "-1"});
  Exec(kTamperMoveSeq, {tenant_, "4", "3"});
  Exec(kTamperMoveSeq, {tenant_, "-1", "4"});
  auto r = Report();
  EXPECT_FALSE(r.ok);
  ASSERT_GE(r.problems.size(), 1U);
  EXPECT_EQ(r.problems[0].kind, "altered");
  EXPECT_EQ(r.problems[0].seq, 3);
}

TEST_P(AuditTrailTest, ARowInsertedBehindThePlatformsBackIsFound) {
  Publish(3);
  Exec(kTamperInsert,
       {"0195a000-0000-7000-8000-000000000001", tenant_, FormatStorage(clock_.Now()), tenant_});
  auto r = Report();
  EXPECT_FALSE(r.ok);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_EQ(r.problems[0].kind, "unchained");
}

TEST_P(AuditTrailTest, RetentionLeavesAVerifiableChainWithATombstone) {
  Publish(5);  // seq 1 (create) .. 6
  clock_.Advance(100 * 86400);
  Publish(3);  // seq 7 .. 9
  const std::int64_t removed = Prune(*db_, clock_, tenant_, AddSeconds(clock_.Now(), -86400));
  EXPECT_EQ(removed, 6);
  EXPECT_EQ(Count(), 4) << "3 recent + the tombstone";
  auto r = Report();
  EXPECT_TRUE(r.ok) << (r.problems.empty() ? "" : r.problems[0].detail);
  EXPECT_EQ(r.base_seq, 6);
  EXPECT_EQ(r.head_seq, 10);
  EXPECT_EQ(Prune(*db_, clock_, tenant_, AddSeconds(clock_.Now(), -86400)), 0)
      << "nothing older: no new tombstone";

  // Removing events and moving the base without a tombstone is not retention: it is found.
  std::string hash_at_8;
  db_->Read([&](storage::Session& s) { hash_at_8 = s.FetchOne(kHashAt, {tenant_, "8"})->Text(0); });
  Exec(kTamperDelete, {tenant_, "7"});
  Exec(kTamperDelete, {tenant_, "8"});
  Exec(kTamperBase, {tenant_, "8", hash_at_8});
  r = Report();
  EXPECT_FALSE(r.ok);
  bool unexplained = false;
  for (const auto& p : r.problems) unexplained = unexplained || p.kind == "base_unexplained";
  EXPECT_TRUE(unexplained);
}

TEST_P(AuditTrailTest, RetentionByTenantSetting) {
  Publish(4);
  ASSERT_TRUE(tenants_->SetAuditRetention(actor_, tenant_, 30).ok());
  clock_.Advance(31 * 86400);
  Publish(1);
  EXPECT_EQ(PruneByRetention(*db_, clock_), 6) << "create, 4 published, retention_set";
  EXPECT_TRUE(Report().ok);
}

TEST_P(AuditTrailTest, EraseLeavesOnlyASignedTombstone) {
  Publish(7);
  std::string signed_text;
  auto summary = Erase(*db_, clock_, actor_, tenant_, [&](const std::string& s) {
    signed_text = s;
    return "signed(" + s + ")";
  });
  EXPECT_EQ(summary.count, 8);
  EXPECT_EQ(summary.signature, "signed(" + summary.summary_json + ")");
  auto o = boost::json::parse(summary.summary_json).as_object();
  EXPECT_EQ(o.at("events_erased").as_int64(), 8);
  EXPECT_EQ(o.at("through_seq").as_int64(), 8);
  EXPECT_EQ(Count(), 1);
  auto r = Report();
  EXPECT_TRUE(r.ok) << (r.problems.empty() ? "" : r.problems[0].detail);
  Filter f{.tenant_id = tenant_};
  auto page = Search(*db_, f, 10, std::nullopt);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1U);
  EXPECT_EQ(page->items[0].action, "audit.erased");
}

TEST_P(AuditTrailTest, ConcurrentWritersNeverForkAChain) {
  constexpr int kThreads = 4;
  constexpr int kBatches = 10;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) Publish(5, "user-" + std::to_string(t));
    });
  }
  for (auto& th : threads) th.join();
  auto r = Report();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.checked, 1 + kThreads * kBatches * 5);
}

TEST_P(AuditTrailTest, EventsRecordedBeforeTheChainExistedAreSealed) {
  Publish(2);
  Exec(kTamperInsert,
       {"0195a000-0000-7000-8000-000000000002", tenant_, FormatStorage(clock_.Now()), tenant_});
  SealUnchained(*db_);
  auto r = Report();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.head_seq, 4);
}

TEST_P(AuditTrailTest, SearchFiltersAndAStableCursor) {
  Publish(5, "alice");
  clock_.Advance(10);
  Publish(5, "bob");
  Filter by_alice{.tenant_id = tenant_, .actor_id = "alice"};
  auto page = Search(*db_, by_alice, 3, std::nullopt);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 3U);
  ASSERT_TRUE(page->next_cursor);
  clock_.Advance(10);
  Publish(5, "alice");  // newer events arrive between the pages
  auto next = Search(*db_, by_alice, 3, page->next_cursor);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->items.size(), 2U) << "the rest of the older alice events, not the new ones";
  EXPECT_FALSE(next->next_cursor);
  EXPECT_LE(next->items[0].created, page->items[0].created);
  std::set<std::string> seen;
  for (const auto& e : page->items) seen.insert(e.id);
  for (const auto& e : next->items) EXPECT_TRUE(seen.insert(e.id).second) << "no repeats";

  Filter prefix{.tenant_id = tenant_, .action = "document.*"};
  EXPECT_EQ(Search(*db_, prefix, 100, std::nullopt)->items.size(), 15U);
  Filter exact{.tenant_id = tenant_, .action = "tenant.create"};
  EXPECT_EQ(Search(*db_, exact, 100, std::nullopt)->items.size(), 1U);
  Filter text{.tenant_id = tenant_, .text = "DOCUMENT 3"};
  EXPECT_EQ(Search(*db_, text, 100, std::nullopt)->items.size(), 3U) << "case-insensitive";
  Filter wild{.tenant_id = tenant_, .text = "100%"};
  EXPECT_EQ(Search(*db_, wild, 100, std::nullopt)->items.size(), 0U) << "% is literal";
  Filter crud{.tenant_id = tenant_, .crud = 'c'};
  EXPECT_EQ(Search(*db_, crud, 100, std::nullopt)->items.size(), 1U);
  Filter target{.tenant_id = tenant_, .target_id = "doc-2", .target_type = "document"};
  EXPECT_EQ(Search(*db_, target, 100, std::nullopt)->items.size(), 3U);
  Filter window{.tenant_id = tenant_,
                .from = AddSeconds(clock_.Now(), -15),
                .to = AddSeconds(clock_.Now(), 1)};
  EXPECT_EQ(Search(*db_, window, 100, std::nullopt)->items.size(), 10U);
  EXPECT_FALSE(Search(*db_, by_alice, 3, std::string("not-a-cursor")).ok());
}

// The export path (rows read in place, binary on PostgreSQL, pages formatted ahead) writes
// exactly what the search path reads, every column, in the same order, across page boundaries.
TEST_P(AuditTrailTest, ExportPagesWriteWhatSearchReads) {
  const std::vector<std::string> descriptions = {
      "plain", "a, comma", "a \"quote\"", "two\r\nlines", "=SUM(A1)", "-1", "Grüße", ""};
  std::vector<boost::json::object> events;
  for (int i = 0; i < 23; ++i) {
    boost::json::object e{
        {"action", i % 2 ? "document.view" : "user.invite"},
        {"crud", std::string(1, "crud"[i % 4])},
        {"actor", {{"id", "user:" + std::to_string(i % 5)}, {"name", "U, \"n\""}}},
        {"group", {{"id", tenant_}}},
        {"description", descriptions[i % descriptions.size()]},
        {"is_failure", i % 3 == 0},
        {"fields", {{"n", std::to_string(i)}, {"s", "x,\"y\""}}}};
    if (i % 2) e["target"] = {{"id", "doc-" + std::to_string(i)}, {"type", "document"}};
    if (i % 4 == 1) e["source_ip"] = i % 8 == 1 ? "10.0.0.7" : "2001:db8::1";
    events.push_back(std::move(e));
  }
  for (std::size_t from = 0; from < events.size(); from += 6) {  // four times, a second apart
    std::vector<const boost::json::object*> batch;
    for (std::size_t i = from; i < std::min(events.size(), from + 6); ++i) {
      batch.push_back(&events[i]);
    }
    ASSERT_TRUE(Ingestor(*db_, clock_).Publish({.product = "certifai"}, batch, "/events").ok());
    clock_.Advance(1);
  }
  const Filter all{.tenant_id = tenant_};
  const auto expected = Search(*db_, all, 1000, std::nullopt);
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(expected->items.size(), 24U) << "tenant.create and the 23 events";

  // One reader; readers side by side; more readers than pages, each page in several queries.
  for (const PageWriter::Options options :
       {PageWriter::Options{.page_size = 5, .readers = 1}, PageWriter::Options{.page_size = 5},
        PageWriter::Options{.page_size = 5, .readers = 8, .fetch_limit = 2}}) {
    SCOPED_TRACE(std::to_string(options.readers) + " reader(s), fetch limit " +
                 std::to_string(options.fetch_limit));
    std::string csv = CsvHeader();
    int pages = 0;
    PageWriter writer(*db_, all, AppendCsv, options);
    for (auto page = writer.Next(); !page.empty(); page = writer.Next()) {
      csv += page;
      ++pages;
    }
    EXPECT_EQ(pages, 5) << "24 rows in pages of 5";
    const auto rows = testing::ParseCsv(csv);
    ASSERT_EQ(rows.size(), 25U);
    const auto defused = [](const std::string& v) {
      return !v.empty() && std::string_view("=+-@\t\r").find(v[0]) != std::string_view::npos
                 ? "'" + v
                 : v;
    };
    for (std::size_t i = 0; i < expected->items.size(); ++i) {
      const Entry& e = expected->items[i];
      const std::vector<std::string> want = {e.id,
                                             FormatRfc3339(e.created),
                                             FormatRfc3339(e.received),
                                             e.tenant_id.value_or(""),
                                             e.product,
                                             e.action,
                                             std::string(1, e.crud),
                                             e.actor_id,
                                             e.actor_name,
                                             e.target_type,
                                             e.target_id,
                                             e.target_name,
                                             defused(e.description),
                                             e.is_failure ? "true" : "false",
                                             e.source_ip,
                                             e.request_id,
                                             e.fields,
                                             std::to_string(e.seq),
                                             e.hash};
      EXPECT_EQ(rows[i + 1], want) << "row " << i + 1;
    }
  }
  PageWriter none(*db_, Filter{.tenant_id = tenant_, .actor_id = "nobody"}, AppendCsv,
                  {.page_size = 5});
  EXPECT_EQ(none.Next(), "") << "no match, no page";
  {
    PageWriter left(*db_, all, AppendCsv, {.page_size = 5});
    EXPECT_FALSE(left.Next().empty());
  }  // a download given up after one page: the stages stop, nothing hangs
  int formatted = 0;
  PageWriter failing(*db_, all,
                     [&](std::string&, const storage::RowView&) {
                       if (++formatted == 7) throw std::runtime_error("disk full");
                     },
                     {.page_size = 5});
  EXPECT_NO_THROW(failing.Next()) << "the first page formats";
  EXPECT_THROW(
      {
        for (int i = 0; i < 10; ++i) failing.Next();
      },
      std::runtime_error)
      << "the second page's failure reaches the caller";
}

// An export holds the events received by the time it started: one that arrives while the export
// streams is left out even where its own `created` (a Retraced client may send a past one) sorts
// it into a page not read yet.
TEST_P(AuditTrailTest, AnExportLeavesOutEventsReceivedAfterItStarted) {
  Publish(12);
  const Filter as_asked{.tenant_id = tenant_, .received_by = clock_.Now()};
  clock_.Advance(1);
  PageWriter writer(*db_, as_asked, AppendCsv, {.page_size = 2});
  std::string csv = CsvHeader() + writer.Next();  // the readers are a few pages ahead
  const boost::json::object late{{"action", "document.view"},
                                 {"crud", "r"},
                                 {"created", "2027-01-01T00:00:00Z"},  // before every other row
                                 {"group", {{"id", tenant_}}},
                                 {"description", "arrived during the export"}};
  const std::vector<const boost::json::object*> batch{&late};
  ASSERT_TRUE(Ingestor(*db_, clock_).Publish({.product = "certifai"}, batch, "/events").ok());
  for (auto page = writer.Next(); !page.empty(); page = writer.Next()) csv += page;
  EXPECT_EQ(testing::ParseCsv(csv).size(), 14U) << "the header, tenant.create and 12 events";
  EXPECT_EQ(csv.find("arrived during the export"), std::string::npos);

  const auto now = Search(*db_, Filter{.tenant_id = tenant_}, 1000, std::nullopt);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->items.size(), 14U) << "a search without the bound finds it";
  EXPECT_EQ(now->items.back().description, "arrived during the export") << "the oldest";
}

TEST_P(AuditTrailTest, DemoTenantEventsAreTaggedAndLeftOutOfStaffSearches) {
  auto demo = tenants_->EnsureDemoTenant(actor_);
  ASSERT_TRUE(demo.ok());
  Filter all;
  auto page = Search(*db_, all, 100, std::nullopt);
  for (const auto& e : page->items) EXPECT_FALSE(e.demo) << e.action;
  all.include_demo = true;
  bool found = false;
  auto with_demo = Search(*db_, all, 100, std::nullopt);
  ASSERT_TRUE(with_demo.ok());
  for (const auto& e : with_demo->items) {
    if (e.tenant_id == demo->id) found = e.demo;
  }
  EXPECT_TRUE(found) << "the demo tenant's event, tagged demo";
  Filter own{.tenant_id = demo->id};
  EXPECT_EQ(Search(*db_, own, 100, std::nullopt)->items.size(), 1U);
}

INSTANTIATE_TEST_SUITE_P(Stores, AuditTrailTest,
                         ::testing::Values(Store::kSqlite, Store::kPostgres),
                         [](const auto& p) { return testing::StoreName(p.param); });

}  // namespace
}  // namespace breakpilot::audit
