#include "portal/view.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace breakpilot::portal {
namespace {

TEST(ViewTest, BothLanguagesHaveTheSameStrings) {
  const auto& en = Strings(Lang::kEn);
  const auto& de = Strings(Lang::kDe);
  for (const auto& kv : en) EXPECT_TRUE(de.contains(kv.key())) << "de lacks " << kv.key();
  for (const auto& kv : de) EXPECT_TRUE(en.contains(kv.key())) << "en lacks " << kv.key();
  EXPECT_GT(en.size(), 50U);
}

TEST(ViewTest, DomainRefusalsSpeakTheVisitorsLanguageWhereTheTableKnowsThem) {
  const Error taken{ErrorKind::kConflict, "duplicate-project", "Project name already taken",
                    "a project named Alpha exists"};
  EXPECT_EQ(DomainMessage(Lang::kEn, taken), "a project named Alpha exists");
  EXPECT_EQ(DomainMessage(Lang::kDe, taken), "Ein Projekt mit diesem Namen gibt es schon.");
  const Error invalid =
      InvalidInput("validation", "Request body failed validation", "2 fields are invalid",
                   {{"/name", "is required"}, {"/description", "must be at most 2000 bytes"}});
  EXPECT_EQ(DomainMessage(Lang::kDe, invalid),
            "Einige Angaben passen nicht. (/name: ist erforderlich) (/description: darf höchstens "
            "so lang sein: 2000 bytes)");
  EXPECT_EQ(DomainMessage(Lang::kEn, invalid),
            "2 fields are invalid (/name: is required) (/description: must be at most 2000 bytes)");
  // What the table lacks stays English: nothing said is lost.
  const Error odd{ErrorKind::kConflict, "something-new", "New", "a new kind of refusal"};
  EXPECT_EQ(DomainMessage(Lang::kDe, odd), "a new kind of refusal");
  EXPECT_EQ(DomainMessage(Lang::kDe, Invalid("must be an email address")),
            "Einige Angaben passen nicht. (muss eine E-Mail-Adresse sein)");
}

// Every {{t.key}} a template uses has a string: a missing one would render empty.
TEST(ViewTest, EveryStringATemplateUsesExists) {
  const std::regex use(R"(\{\{t\.([a-z_]+)\}\})");
  int seen = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(BREAKPILOT_SOURCE_DIR "/templates/portal")) {
    if (f.path().extension() != ".mustache") continue;
    std::ifstream in(f.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    for (auto m = std::sregex_iterator(s.begin(), s.end(), use); m != std::sregex_iterator(); ++m) {
      ++seen;
      EXPECT_TRUE(Strings(Lang::kEn).contains((*m)[1].str()))
          << f.path().filename() << " uses t." << (*m)[1].str();
    }
  }
  EXPECT_GT(seen, 50);
}

TEST(ViewTest, LanguageFromCookieThenAcceptLanguage) {
  EXPECT_EQ(PickLang("de", "en-GB"), Lang::kDe);
  EXPECT_EQ(PickLang("", "fr-FR, de;q=0.8, en;q=0.5"), Lang::kDe);
  EXPECT_EQ(PickLang("", "fr-FR"), Lang::kEn);
  EXPECT_EQ(PickLang("xx", "en-US,de"), Lang::kEn);
}

}  // namespace
}  // namespace breakpilot::portal
