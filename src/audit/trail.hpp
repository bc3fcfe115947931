// The audit trail (§1.9): recording inside the caller's transaction, the per-tenant hash chain,
// verification, search, retention and erase. The only UPDATE or DELETE on audit rows is here, in
// Prune and Erase, and each leaves a tombstone event that keeps the chain verifiable.
//
//   db.Write([&](Session& s) { UpdateTenant(s, ...); audit::Record(s, clock, actor, event); });
//   auto reports = audit::Verify(db, std::nullopt);     // every chain
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/entry.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/database.hpp"

namespace breakpilot::audit {

// Who acts and from where: carried from the request into every use case.
struct Actor {
  std::string id = "system";
  std::string request_id;
  std::string source_ip;
  std::string name;  // a username or client id, when known
};

// A state change of the platform itself, recorded by the use case that makes it.
struct Event {
  std::optional<std::string> tenant_id;
  std::string action;  // "tenant.create"
  char crud = 'u';     // c|r|u|d
  std::string target_type;
  std::string target_id;
  std::string description;
  std::string fields_json = "{}";
  bool is_failure = false;
};

// Stores the event. When its action is one customers may subscribe to as a webhook event
// (WebhookType), the event also goes to the webhook outbox (`webhook_events`) in the same
// transaction, and "webhooks" is notified: the webhooks/ fan-out delivers it.
void Record(storage::Session& s, const Clock& clock, const Actor& actor, const Event& event);

// The webhook event type of an audit action: tenant.activate, .cancel, .reactivate,
// .expire_trial, .archive -> "tenant.status_changed"; tenant.plan, subscription.create and
// .delete -> "subscription.updated"; api_key.create -> "api_key.created", api_key.revoke ->
// "api_key.revoked"; user.membership_add -> "user.added", user.membership_remove ->
// "user.removed"; usage.threshold_reached as it is. Empty for every other action.
std::string_view WebhookType(std::string_view action);
inline constexpr std::string_view kWebhooksEvent = "webhooks";

// An audit_log row selected with kColumns (its columns are moved out).
Entry EntryFromRow(storage::Row&& row);

// Chains and inserts events (id, created and received set; chain, seq, hash and demo filled in
// here), in one statement per batch. Events of one chain keep their order.
void Append(storage::Session& s, std::vector<Entry>& entries);

// Chains events recorded before migration 0003 (they have no seq), oldest first. Idempotent.
void SealUnchained(storage::Database& db);

struct ChainProblem {
  std::int64_t seq = 0;
  std::string kind;  // altered | missing | unchained | head_mismatch | base_unexplained
  std::string detail;
};
struct ChainReport {
  std::string chain;
  bool ok = true;
  std::int64_t checked = 0;
  std::int64_t base_seq = 0;
  std::int64_t head_seq = 0;
  std::vector<ChainProblem> problems;  // the first 100
};
// Recomputes every hash of one chain (or of all, `chain` absent) from the rows in the database.
std::vector<ChainReport> Verify(storage::Database& db, const std::optional<std::string>& chain);

// Search (newest first, by created time then id). Absent members do not filter.
struct Filter {
  std::optional<std::string> tenant_id;
  bool include_demo = false;  // without a tenant: demo-tenant events too
  std::optional<std::string> product;
  std::optional<std::string> actor_id;
  std::optional<std::string> action;  // a trailing '*' matches a prefix
  std::optional<char> crud;
  std::optional<std::string> target_id;
  std::optional<std::string> target_type;
  std::optional<Timestamp> from;  // inclusive
  std::optional<Timestamp> to;    // exclusive
  std::optional<bool> is_failure;
  std::optional<std::string> text;  // case-insensitive substring of the description
  // Only events received at or before this time: an export sets its own start, so an event that
  // arrives while it streams is left out, wherever its `created` sorts it.
  std::optional<Timestamp> received_by;
};

struct Page {
  std::vector<Entry> items;
  std::optional<std::string> next_cursor;
};

// `cursor` from a previous page; a malformed one is a 400 Error. At most 1,000 per page.
Result<Page> Search(storage::Database& db, const Filter& filter, int limit,
                    const std::optional<std::string>& cursor);
// Every matching event, page by page (constant memory); stops when `fn` returns false.
void ForEach(storage::Database& db, const Filter& filter,
             const std::function<bool(const std::vector<Entry>&)>& fn, int page_size = 2000);

// A position in the newest-first order: the events older than it come after it.
struct Cursor {
  Timestamp created;
  std::string id;
  bool operator==(const Cursor&) const = default;
};

// A search turned into text page by page, for an export, in stages that run at once on threads
// of their own. Readers (two by default, each on its own connection) fetch pages side by side:
// a reader claiming a page first asks for the key of the page's last match (a keys-only query,
// one row), which is where the next page begins, then fetches the page's rows between the two
// keys while the other reader claims the next page. A formatter turns the pages into text in
// order, and the caller sends. At most `readers` pages are fetched ahead of the formatter
// and one page of text ahead of the caller, so memory stays at a few pages whatever the
// export's size, and no connection is held between pages. `format` sees each row in place (a
// storage::RowView of kExportColumns, placed as kColumns; nothing copied). Destruction stops
// every stage after the page at hand.
class PageWriter {
 public:
  using Format = std::function<void(std::string& out, const storage::RowView& row)>;
  struct Options {
    int page_size = 5'000;
    int readers = 2;      // each reads on a connection of its own while it fetches
    int fetch_limit = 0;  // rows per page query (0: page_size); a page takes more queries if less
  };
  PageWriter(storage::Database& db, Filter filter, Format format, Options options);
  PageWriter(storage::Database& db, Filter filter, Format format)
      : PageWriter(db, std::move(filter), std::move(format), Options{}) {}
  ~PageWriter();
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;
  // The next page's text; empty once every match was written. Rethrows a stage's failure.
  std::string Next();

 private:
  void Read();
  void Write();
  void Fail();

  storage::Database& db_;
  const Filter filter_;
  const Format format_;
  const int page_size_;
  const int readers_;
  const int fetch_limit_;

  std::mutex mu_;
  std::condition_variable changed_;
  // Claiming: the next page starts below `next_start_` (the first page: at the newest match).
  std::optional<Cursor> next_start_;
  bool finding_next_ = false;   // a reader is asking where the next page starts
  bool claimed_all_ = false;    // the last page is claimed
  std::int64_t claimed_ = 0;    // pages claimed so far; page numbers count from 0
  std::int64_t formatted_ = 0;  // pages taken by the formatter so far
  // Fetched, by page number: a page is one query's rows, or more if events came in meanwhile.
  std::map<std::int64_t, std::vector<std::shared_ptr<storage::RowSet>>> read_;
  int readers_done_ = 0;
  std::deque<std::string> written_;  // formatted, not yet taken
  bool written_all_ = false;
  bool stop_ = false;
  std::exception_ptr failure_;
  std::vector<std::thread> reader_threads_;
  std::thread writer_;
};

// Retention: removes a chain's events received before `cutoff`, moves the chain's base past
// them and appends an "audit.pruned" tombstone naming the new base. Returns how many went.
std::int64_t Prune(storage::Database& db, const Clock& clock, const std::string& chain,
                   Timestamp cutoff);
// Runs Prune for every tenant with a retention period set.
std::int64_t PruneByRetention(storage::Database& db, const Clock& clock);

// Erase at offboarding: removes every event of the tenant's chain and appends an "audit.erased"
// tombstone carrying a signed summary (count, first and last time, the hash erased through).
// `sign` turns the summary's JSON into a compact JWS.
struct ErasedSummary {
  std::int64_t count = 0;
  std::string summary_json;
  std::string signature;  // compact JWS over summary_json
};
ErasedSummary Erase(storage::Database& db, const Clock& clock, const Actor& actor,
                    const std::string& tenant_id,
                    const std::function<std::string(const std::string&)>& sign);

}  // namespace breakpilot::audit
