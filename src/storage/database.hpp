// The storage layer: one interface, two drivers (SQLite and PostgreSQL), named SQL.
//
// Every statement is a named constant, so logs and metrics can say which query was slow:
//
//   constexpr Query kSelectTenant{"tenant_select_by_id", "SELECT ... WHERE id = $1"};
//   db.Read([&](Session& s) { auto rows = s.Fetch(kSelectTenant, {id}); ... });
//   db.Write([&](Session& s) { s.Execute(kInsertTenant, {...}); });   // one transaction
//
// Parameters are `$1..$n` in both dialects and travel as text (or NULL); the few places where
// the dialects differ carry a second SQL text (Query::sqlite). Timestamps are bound in the
// storage form of core/time.hpp, which both databases order correctly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace breakpilot::storage {

enum class Dialect { kSqlite, kPostgres };

struct Query {
  std::string_view name;
  std::string_view sql;          // PostgreSQL text, and SQLite's when `sqlite` is empty
  std::string_view sqlite = {};  // SQLite text where the dialects differ
  // The text is built per call from named fragments (a search with optional filters): the
  // drivers do not keep it prepared under the name. PostgreSQL plans it with the values at hand,
  // so an absent filter costs nothing and the right index is chosen.
  bool dynamic = false;
  std::string_view For(Dialect d) const {
    return d == Dialect::kSqlite && !sqlite.empty() ? sqlite : sql;
  }
};

using Param = std::optional<std::string>;  // nullopt binds SQL NULL

// A timestamp in either store's text form; DatabaseError naming `column` when it is none.
Timestamp StoredTime(std::string_view text, std::size_t column);

// A timestamp parameter in the storage form; NULL when absent.
inline Param TimeParam(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return FormatStorage(*t);
}

// A LIKE pattern (for `ESCAPE '\'`) that matches `text` anywhere: LIKE's own characters in it
// escaped; with `lower`, ASCII letters in lower case (compared against lower(column)).
std::string LikeContains(std::string_view text, bool lower);

class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cols) : cols_(std::move(cols)) {}
  bool IsNull(std::size_t i) const { return !cols_.at(i).has_value(); }
  const std::string& Text(std::size_t i) const;  // throws on NULL
  std::optional<std::string> Optional(std::size_t i) const { return cols_.at(i); }
  // Moves a column out (the row keeps an empty value): for reading many rows cheaply.
  std::optional<std::string> Take(std::size_t i) { return std::move(cols_.at(i)); }
  std::int64_t Int(std::size_t i) const;
  Timestamp Time(std::size_t i) const;  // a timestamp in either store's text form
  std::optional<Timestamp> OptionalTime(std::size_t i) const;
  std::size_t size() const { return cols_.size(); }

 private:
  std::vector<std::optional<std::string>> cols_;
};

// A row of a RowSet, read in place: nothing is copied. Reads are typed because on PostgreSQL
// the rows arrive in binary form, which spares the server formatting UUIDs and timestamps as
// text (most of a large export's cost there). NULL reads as empty text, 0, false or the epoch;
// IsNull tells them apart. A read of a type the column does not hold throws DatabaseError.
class RowView {
 public:
  virtual ~RowView() = default;
  virtual bool IsNull(std::size_t i) const = 0;
  // A text column as stored, a UUID in its canonical form; valid until the next row is taken.
  virtual std::string_view Text(std::size_t i) const = 0;
  virtual std::int64_t Int(std::size_t i) const = 0;
  virtual bool Bool(std::size_t i) const = 0;
  virtual Timestamp Time(std::size_t i) const = 0;
};

// A result kept in the driver's own form (PostgreSQL's result buffer; one compact copy on
// SQLite), for reading many rows without a string per cell. It outlives its session.
class RowSet {
 public:
  virtual ~RowSet() = default;
  virtual std::size_t size() const = 0;
  bool empty() const { return size() == 0; }
  // Row i; the view stays valid until the next call of At.
  virtual const RowView& At(std::size_t i) = 0;
};

// Thrown by drivers. A unique violation is its own type because the domain expects it
// (a duplicate slug); everything else aborts the request.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class UniqueViolation : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};
class ForeignKeyViolation : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

// One connection, inside a transaction (Write) or in autocommit mode (Read).
class Session {
 public:
  virtual ~Session() = default;
  virtual std::vector<Row> Fetch(const Query& q, const std::vector<Param>& params) = 0;
  // The rows read in place (an export's pages); see RowSet.
  virtual std::unique_ptr<RowSet> FetchInPlace(const Query& q,
                                               const std::vector<Param>& params) = 0;
  // Returns the number of rows changed.
  virtual std::int64_t Execute(const Query& q, const std::vector<Param>& params) = 0;
  // Runs several statements with no parameters (migrations).
  virtual void ExecuteScript(std::string_view sql) = 0;
  // Publishes an event to every subscriber of every process on this database (Subscribe), once
  // the transaction commits; dropped on rollback. At most 7,000 bytes. Used for invalidating
  // caches: "apikey:<id>", "tenant:<id>".
  virtual void Notify(std::string_view payload) = 0;
  virtual Dialect dialect() const = 0;

  std::optional<Row> FetchOne(const Query& q, const std::vector<Param>& params) {
    auto rows = Fetch(q, params);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  // Runs fn in one transaction; commits when fn returns, rolls back when it throws.
  virtual void Write(const std::function<void(Session&)>& fn) = 0;
  // Runs fn on a connection for reading, outside a transaction: each statement sees a
  // consistent snapshot of its own (both drivers). Use Write for read-modify-write.
  virtual void Read(const std::function<void(Session&)>& fn) = 0;
  // Runs one statement outside a transaction (DDL that cannot run inside one, maintenance).
  virtual void ExecuteRaw(std::string_view sql) = 0;
  // True when the database answers a trivial query now.
  virtual bool Ping() noexcept = 0;
  // A description for logs, without credentials.
  virtual std::string Describe() const = 0;

  // Calls `fn` with every payload any process Notify'd, after its transaction committed;
  // returns once listening has started. Events of this process are delivered on the writing
  // thread before Write returns (both drivers), so a cache is right for the writer's next
  // request. Other processes' events arrive on PostgreSQL through LISTEN/NOTIFY on a
  // connection of its own (a background thread; this process's events come that way once more,
  // which must be harmless); after that connection is lost and regained, `fn` gets "*": events
  // may have been missed, so drop everything cached.
  // Returns a handle for Unsubscribe, which waits for a running callback to finish.
  using Listener = std::function<void(std::string_view payload)>;
  virtual std::uint64_t Subscribe(Listener fn) = 0;
  void Unsubscribe(std::uint64_t handle);

 protected:
  std::uint64_t AddListener(Listener fn);
  void Deliver(std::string_view payload);

 private:
  std::mutex listeners_mu_;  // held while callbacks run
  std::uint64_t next_listener_ = 1;
  std::vector<std::pair<std::uint64_t, Listener>> listeners_;
};

inline constexpr std::string_view kEventChannel = "breakpilot_events";

struct DatabaseOptions {
  int pool_size = 8;           // PostgreSQL connections; SQLite reader connections
  int busy_timeout_ms = 5000;  // SQLite
  int connect_timeout_s = 5;   // PostgreSQL
};

// "sqlite:var/breakpilot.db", "sqlite::memory:", "postgresql://user@host:port/db?..."
std::unique_ptr<Database> OpenDatabase(const std::string& url, const DatabaseOptions& options = {});

// Removes user and password from a URL, for logs.
std::string RedactUrl(std::string_view url);

}  // namespace breakpilot::storage
