// The CSV writer byte for byte: which cells are quoted (and only those), doubled quotes, defused
// formulas, the fixed columns. Rows come from a RowView over strings, as a store would give them.
#include "audit/export.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>

namespace breakpilot::audit {
namespace {

// An audit_log row in kColumns order, every value as text.
class TextRow final : public storage::RowView {
 public:
  TextRow() {
    cells_[kIdCol] = "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6";
    cells_[kSeqCol] = "42";
    cells_[kHashCol] = "ab12";
    cells_[kCrudCol] = "r";
    cells_[kIsFailureCol] = "0";
    cells_[kCreatedCol] = "2026-11-26 06:01:02.000003+00";
    cells_[kReceivedCol] = "2026-11-26 06:01:03+00";
  }
  std::string& operator[](Column c) { return cells_[c]; }

  bool IsNull(std::size_t i) const override { return cells_.at(i).empty(); }
  std::string_view Text(std::size_t i) const override { return cells_.at(i); }
  std::int64_t Int(std::size_t i) const override { return std::stoll(cells_.at(i)); }
  bool Bool(std::size_t i) const override { return cells_.at(i) == "1"; }
  Timestamp Time(std::size_t i) const override { return *ParseTimestamp(cells_.at(i)); }

 private:
  std::array<std::string, kDemoCol + 1> cells_;
};

std::string Csv(const TextRow& row) {
  std::string out;
  AppendCsv(out, row);
  return out;
}

TEST(CsvTest, ARowHasEveryColumnInTheHeadersOrder) {
  TextRow row;
  row[kTenantCol] = "0192f3a4-0000-7000-8000-000000000001";
  row[kProductCol] = "certifai";
  row[kActionCol] = "document.view";
  row[kActorIdCol] = "user:1";
  row[kIsFailureCol] = "1";
  row[kFieldsCol] = R"({"a":"b"})";
  EXPECT_EQ(Csv(row),
            "0192f3a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6,2026-11-26T06:01:02.000003Z,"
            "2026-11-26T06:01:03.000000Z,0192f3a4-0000-7000-8000-000000000001,certifai,"
            "document.view,r,user:1,,,,,,true,,,\"{\"\"a\"\":\"\"b\"\"}\",42,ab12\r\n");
  const std::string header = CsvHeader();
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), 18);
}

TEST(CsvTest, OnlyCellsWithCommasQuotesOrLineBreaksAreQuoted) {
  const auto cell = [](const std::string& v) {
    TextRow row;
    row[kActorNameCol] = v;
    const std::string line = Csv(row);
    // actor_name follows "r,<actor_id>," with an empty actor id.
    const std::size_t from = line.find(",r,,") + 4;
    const std::size_t to = line.find(",,,,,false");
    return line.substr(from, to - from);
  };
  EXPECT_EQ(cell("plain"), "plain");
  EXPECT_EQ(cell("a much longer plain value of many words"),
            "a much longer plain value of many words");
  EXPECT_EQ(cell("a, b"), "\"a, b\"");
  EXPECT_EQ(cell("abcdefgh,"), "\"abcdefgh,\"") << "a comma just past the first eight bytes";
  EXPECT_EQ(cell("abcdefghijklmnop\n"), "\"abcdefghijklmnop\n\"");
  EXPECT_EQ(cell("abcdefghijklmno\r"), "\"abcdefghijklmno\r\"");
  EXPECT_EQ(cell("say \"hi\" twice"), "\"say \"\"hi\"\" twice\"");
  EXPECT_EQ(cell("\""), "\"\"\"\"");
  EXPECT_EQ(cell("=SUM(A1)"), "\"'=SUM(A1)\"") << "a formula is defused";
  EXPECT_EQ(cell("-1"), "\"'-1\"");
  EXPECT_EQ(cell("@x"), "\"'@x\"");
  EXPECT_EQ(cell("Grüße \xC3\xA9\xE2\x82\xAC"), "Grüße \xC3\xA9\xE2\x82\xAC")
      << "bytes >= 0x80 are never special";
  EXPECT_EQ(cell(std::string("a\0b", 3)), std::string("a\0b", 3));
}

// The eight-bytes-at-a-time scan agrees with the obvious byte loop on random strings drawn from
// an alphabet rich in the special bytes and their neighbours.
TEST(CsvTest, QuotingAgreesWithAByteLoop) {
  std::mt19937 rng(7);
  const std::string alphabet = std::string(",\"\r\n+-x \x80\xff\x2b\x2d\x0b\x0c\x21\x23", 16);
  for (int n = 0; n < 20000; ++n) {
    std::string v(rng() % 40, 'a');
    for (auto& ch : v) {
      if (rng() % 4 == 0) ch = alphabet[rng() % alphabet.size()];
    }
    bool special = false;
    for (char ch : v) special = special || ch == ',' || ch == '"' || ch == '\r' || ch == '\n';
    const bool formula = !v.empty() && std::string_view("=+-@\t\r").find(v[0]) != std::string::npos;
    TextRow row;
    row[kHashCol] = v;  // the last cell: everything after the 18th comma
    const std::string line = Csv(row);
    std::size_t at = 0;
    for (int commas = 0; commas < 18; ++commas) at = line.find(',', at) + 1;
    const std::string written = line.substr(at, line.size() - 2 - at);
    EXPECT_EQ(!written.empty() && written.front() == '"', special || formula) << n;
  }
}

}  // namespace
}  // namespace breakpilot::audit
