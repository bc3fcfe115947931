// The arrows between the folders of src/ (docs/ARCHITECTURE.md, "Which folder may include
// which") hold: every `#include "<folder>/..."` of a product source is in its folder's row, and
// the rows have no cycle. The table is read from the document, so the two cannot drift apart.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace breakpilot {
namespace {

namespace fs = std::filesystem;
using Arrows = std::map<std::string, std::set<std::string>>;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

Arrows AllowedArrows() {
  const std::string doc = ReadFile(BREAKPILOT_SOURCE_DIR "/docs/ARCHITECTURE.md");
  const auto begin = doc.find("<!-- arrows:begin -->");
  const auto end = doc.find("<!-- arrows:end -->");
  Arrows allowed;
  if (begin == std::string::npos || end == std::string::npos) return allowed;
  std::istringstream table(doc.substr(begin, end - begin));
  const std::regex row(R"(^\| ([a-z_]+) \| *([a-z_, ]*?) *\|$)");  // "| core | |" too
  for (std::string line; std::getline(table, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, row) || m[1] == "folder") continue;
    auto& to = allowed[m[1]];
    std::istringstream list(m[2]);
    for (std::string f; std::getline(list, f, ',');) {
      f.erase(0, f.find_first_not_of(' '));
      if (!f.empty()) to.insert(f);
    }
  }
  return allowed;
}

// "api/api.cpp -> http/server.hpp" for each include of src/ that crosses folders.
std::vector<std::pair<std::string, std::string>> IncludesOf(const fs::path& src) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::regex include(R"(^\s*#\s*include\s+"([a-z_]+)/[^"]+")");
  const std::regex test_file(R"(_(test|storetest|contract_test|fuzz)\.cpp$)");
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    const auto path = entry.path();
    if (!entry.is_regular_file() || (path.extension() != ".cpp" && path.extension() != ".hpp")) {
      continue;
    }
    const std::string rel = fs::relative(path, src).string();
    if (std::regex_search(rel, test_file) || rel.find('/') == std::string::npos) continue;
    std::istringstream text(ReadFile(path));
    for (std::string line; std::getline(text, line);) {
      std::smatch m;
      if (std::regex_search(line, m, include)) out.emplace_back(rel, m[1]);
    }
  }
  return out;
}

bool HasCycle(const Arrows& arrows) {
  std::map<std::string, int> state;  // 1: on the path, 2: done
  std::function<bool(const std::string&)> visit = [&](const std::string& f) {
    if (state[f] == 1) return true;
    if (state[f] == 2) return false;
    state[f] = 1;
    if (auto it = arrows.find(f); it != arrows.end()) {
      for (const auto& to : it->second) {
        if (visit(to)) return true;
      }
    }
    state[f] = 2;
    return false;
  };
  for (const auto& [f, _] : arrows) {
    if (visit(f)) return true;
  }
  return false;
}

// The violations of `allowed` among `includes` ("file -> folder").
std::vector<std::string> Violations(
    const Arrows& allowed, const std::vector<std::pair<std::string, std::string>>& includes) {
  std::vector<std::string> out;
  for (const auto& [file, to] : includes) {
    const std::string from = file.substr(0, file.find('/'));
    if (to == from) continue;
    const auto it = allowed.find(from);
    if (it == allowed.end()) {
      out.push_back(file + ": folder '" + from + "' has no row in the table");
    } else if (!it->second.count(to)) {
      out.push_back(file + " includes " + to + "/, which '" + from + "' may not");
    }
  }
  return out;
}

TEST(IncludeArrows, EveryIncludeOfSrcFollowsTheTable) {
  const Arrows allowed = AllowedArrows();
  ASSERT_GE(allowed.size(), 10u) << "the table in docs/ARCHITECTURE.md was not found";
  EXPECT_TRUE(allowed.count("core")) << "the row of core, which includes no other folder";
  EXPECT_FALSE(HasCycle(allowed)) << "the table itself has a cycle";
  const auto includes = IncludesOf(BREAKPILOT_SOURCE_DIR "/src");
  ASSERT_GT(includes.size(), 200u);
  for (const auto& v : Violations(allowed, includes)) ADD_FAILURE() << v;
}

// The check itself: an arrow against the rules is caught, and so is a cycle.
TEST(IncludeArrows, AnArrowAgainstTheRulesOrACycleIsCaught) {
  const Arrows allowed = AllowedArrows();
  EXPECT_EQ(Violations(allowed, {{"core/time.cpp", "http"}}).size(), 1u);
  EXPECT_EQ(Violations(allowed, {{"catalog/manifest.cpp", "tenants"}}).size(), 1u);
  EXPECT_EQ(Violations(allowed, {{"newfolder/x.cpp", "core"}}).size(), 1u);
  EXPECT_TRUE(Violations(allowed, {{"api/api.cpp", "http"}}).empty());
  Arrows cyclic = allowed;
  cyclic["core"].insert("api");
  EXPECT_TRUE(HasCycle(cyclic));
}

}  // namespace
}  // namespace breakpilot
