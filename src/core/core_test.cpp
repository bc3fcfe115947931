#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "core/ascii.hpp"
#include "core/crypto.hpp"
#include "core/event_guarded.hpp"
#include "core/memory_only.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "core/uuid.hpp"

namespace breakpilot {
namespace {

TEST(Utf8Test, AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("Grüße, 日本, \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(IsUtf8("\xFF"));              // never a UTF-8 byte
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsUtf8("ok\xC3"));            // cut short
  EXPECT_FALSE(IsUtf8("\xE2\x82"));          // cut short
  EXPECT_FALSE(IsUtf8("\x80"));              // a lone continuation byte
}

TEST(EventGuardedTest, AValueReadBeforeAnEventIsNotStored) {
  EventGuarded<std::map<std::string, int>> cache;
  const auto find = [&](const std::string& k) {
    return cache.Read([&](const auto& m) { return m.contains(k) ? m.at(k) : -1; });
  };
  const auto before = cache.Ticket();
  cache.OnEvent([](auto& m) { m.erase("a"); });  // arrives while "a" is read from the database
  EXPECT_FALSE(cache.StoreIfCurrent(before, [](auto& m) { m["a"] = 1; }));
  EXPECT_EQ(find("a"), -1) << "the value read before the event could be stale";
  const auto after = cache.Ticket();
  EXPECT_TRUE(cache.StoreIfCurrent(after, [](auto& m) { m["a"] = 2; }));
  EXPECT_EQ(find("a"), 2);
  cache.OnEvent([](auto& m) { m.erase("a"); });
  EXPECT_EQ(find("a"), -1) << "an event drops what it names";
  EXPECT_FALSE(cache.StoreIfCurrent(after, [](auto& m) { m["a"] = 3; }))
      << "a ticket from before the last event";
}

TEST(TimeTest, FormatsAndParsesBothForms) {
  const Timestamp t{1'764'091'355'123'456};  // 2025-11-25T17:22:35.123456Z
  EXPECT_EQ(FormatRfc3339(t), "2025-11-25T17:22:35.123456Z");
  EXPECT_EQ(FormatStorage(t), "2025-11-25 17:22:35.123456+00");
  EXPECT_EQ(ParseTimestamp(FormatRfc3339(t)), t);
  EXPECT_EQ(ParseTimestamp(FormatStorage(t)), t);
  EXPECT_EQ(ParseTimestamp("2025-11-25 17:22:35.123456+00"), t);
  EXPECT_EQ(ParseTimestamp("2025-11-25 17:22:35.1+00")->micros, 1'764'091'355'100'000);
  EXPECT_EQ(ParseTimestamp("2025-11-25 17:22:35+00")->micros, 1'764'091'355'000'000);
  EXPECT_EQ(ParseTimestamp("2025-11-25T19:22:35+02:00")->micros, 1'764'091'355'000'000);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z")->micros, 0);
  EXPECT_EQ(FormatRfc3339(Timestamp{-1}), "1969-12-31T23:59:59.999999Z");
  std::string cells = "a,";
  AppendRfc3339(cells, t);
  AppendRfc3339(cells, Timestamp{-1});
  EXPECT_EQ(cells, "a,2025-11-25T17:22:35.123456Z1969-12-31T23:59:59.999999Z");
}

TEST(TimeTest, RejectsWhatIsNotATimestamp) {
  for (const char* bad :
       {"", "2025-11-25", "2025-11-25T17:22:35", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z", "2025-11-25T24:00:00Z", "2025-11-25T17:22:35.Z",
        "2025-11-25T17:22:35Zjunk", "yesterday", "2025-11-25T17:22:35+25:00"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseTimestamp("2024-02-29T00:00:00Z").has_value());
}

// 03:00 Europe/Berlin across both daylight-saving changes of 2027 (28 March, 31 October).
TEST(TimeTest, NextLocalTimeIsRightAcrossDaylightSaving) {
  const auto at = [](const char* s) { return *ParseTimestamp(s); };
  const auto next = [](Timestamp t, int h, int m) {
    return FormatRfc3339(*NextLocalTime(t, "Europe/Berlin", h, m));
  };
  // Winter: 03:00 CET is 02:00Z. The spring-forward night: 03:00 CEST is 01:00Z.
  EXPECT_EQ(next(at("2027-03-26T12:00:00Z"), 3, 0), "2027-03-27T02:00:00.000000Z");
  EXPECT_EQ(next(at("2027-03-27T02:00:00Z"), 3, 0), "2027-03-28T01:00:00.000000Z");
  EXPECT_EQ(next(at("2027-03-28T01:00:00Z"), 3, 0), "2027-03-29T01:00:00.000000Z");
  // 02:30 does not exist that night: the first instant after the gap (03:00 CEST).
  EXPECT_EQ(next(at("2027-03-27T12:00:00Z"), 2, 30), "2027-03-28T01:00:00.000000Z");
  // The fall-back night: 03:00 CET comes once (02:00Z); 02:30 twice, and runs the first time.
  EXPECT_EQ(next(at("2027-10-30T01:00:00Z"), 3, 0), "2027-10-31T02:00:00.000000Z");
  EXPECT_EQ(next(at("2027-10-31T02:00:00Z"), 3, 0), "2027-11-01T02:00:00.000000Z");
  EXPECT_EQ(next(at("2027-10-30T12:00:00Z"), 2, 30), "2027-10-31T00:30:00.000000Z");
  EXPECT_EQ(next(at("2027-10-31T00:30:00Z"), 2, 30), "2027-11-01T01:30:00.000000Z");
  EXPECT_FALSE(NextLocalTime(at("2027-01-01T00:00:00Z"), "Mars/Olympus_Mons", 3, 0));
  EXPECT_EQ(FormatRfc5322(at("2026-11-26T00:32:04Z")), "Thu, 26 Nov 2026 00:32:04 +0000");
}

TEST(CryptoTest, SignedTokensBindKeyPurposeAndPayload) {
  const std::string token = SignToken("key-1", "mail.unsubscribe", "ann@example.com");
  std::string payload;
  EXPECT_TRUE(VerifySignedToken("key-1", "mail.unsubscribe", token, payload));
  EXPECT_EQ(payload, "ann@example.com");
  EXPECT_FALSE(VerifySignedToken("key-2", "mail.unsubscribe", token, payload));
  EXPECT_FALSE(VerifySignedToken("key-1", "export.download", token, payload));
  std::string forged = SignToken("key-1", "mail.unsubscribe", "bob@example.com");
  forged = forged.substr(0, forged.find('.')) + token.substr(token.find('.'));
  EXPECT_FALSE(VerifySignedToken("key-1", "mail.unsubscribe", forged, payload));
  EXPECT_FALSE(VerifySignedToken("key-1", "mail.unsubscribe", "no-dot", payload));
}

TEST(CryptoTest, SealedSecretsOpenOnlyWithTheirKeyAndPurpose) {
  const std::string sealed = Seal("cookie-token", "idp.refresh", "the refresh token");
  EXPECT_EQ(sealed.find("refresh"), std::string::npos) << "not readable";
  EXPECT_NE(Seal("cookie-token", "idp.refresh", "the refresh token"), sealed) << "a fresh nonce";
  std::string out;
  ASSERT_TRUE(Unseal("cookie-token", "idp.refresh", sealed, out));
  EXPECT_EQ(out, "the refresh token");
  EXPECT_FALSE(Unseal("other-token", "idp.refresh", sealed, out));
  EXPECT_FALSE(Unseal("cookie-token", "idp.other", sealed, out));
  std::string raw;
  ASSERT_TRUE(Base64UrlDecode(sealed, raw));
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string flipped = raw;
    flipped[i] = static_cast<char>(flipped[i] ^ 1);
    EXPECT_FALSE(Unseal("cookie-token", "idp.refresh", Base64UrlEncode(flipped), out)) << i;
  }
  EXPECT_FALSE(Unseal("cookie-token", "idp.refresh", "short", out));
  EXPECT_FALSE(Unseal("cookie-token", "idp.refresh", "not base64 !", out));
  ASSERT_TRUE(Unseal("k", "p", Seal("k", "p", ""), out));
  EXPECT_EQ(out, "");
}

TEST(UuidTest, V7IsCanonicalOrderedAndUnique) {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    const auto id = NewUuidV7(Timestamp{1'764'091'355'000'000 + i * 1000});
    EXPECT_TRUE(IsCanonicalUuid(id));
    EXPECT_EQ(id[14], '7');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
    EXPECT_GT(id, previous) << "ids from later milliseconds sort later";
    previous = id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_FALSE(IsCanonicalUuid("0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e0"));
  EXPECT_FALSE(IsCanonicalUuid("0192f2c48b7a7c3e9d415a6b7c8d9e0f"));
  EXPECT_FALSE(IsCanonicalUuid("0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e0g"));
  EXPECT_EQ(NormalizeUuid("0192F2C4-8B7A-7C3E-9D41-5A6B7C8D9E0F"),
            "0192f2c4-8b7a-7c3e-9d41-5a6b7c8d9e0f");
}

TEST(CryptoTest, StandardBase64MatchesRfc4648) {
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  std::string out;
  ASSERT_TRUE(Base64Decode("+/8=", out));
  EXPECT_EQ(out, "\xfb\xff");
  EXPECT_FALSE(Base64Decode("-_8", out)) << "the URL alphabet is another encoding";
  EXPECT_FALSE(Base64Decode("Z", out));
}

TEST(CryptoTest, Base64UrlRoundTripsAndRejectsJunk) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                       "foobar", std::string("\0\xff\x10", 3)}) {
    std::string back;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(s), back)) << s;
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Zm9v!", out));
  EXPECT_FALSE(Base64UrlDecode("Z", out));
  EXPECT_FALSE(Base64UrlDecode("Zm9=", out));
}

TEST(AsciiTest, ComparesWithoutCaseAndWithoutLocale) {
  EXPECT_TRUE(AsciiIEquals("Content-Type", "content-TYPE"));
  EXPECT_FALSE(AsciiIEquals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(AsciiIEquals("a", "\xc1"));     // only A-Z fold
  EXPECT_FALSE(AsciiIEquals("\xe4", "\xc4"));  // Latin-1 a-umlaut is not folded
  EXPECT_FALSE(AsciiIEquals("[", "{"));        // '[' + 32 is '{', but neither is a letter
  EXPECT_TRUE(AsciiIStartsWith("Bearer abc", "bearer "));
  EXPECT_FALSE(AsciiIStartsWith("Bear", "bearer "));
  EXPECT_TRUE(AsciiIStartsWith("", ""));
}

// Compared eight bytes at a time, then byte by byte: a difference in any byte, of any length
// around the word size, makes the strings unequal.
TEST(CryptoTest, ConstantTimeEqualsSeesEveryByte) {
  for (std::size_t n = 0; n <= 41; ++n) {
    std::string a(n, 'k');
    for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
    EXPECT_TRUE(ConstantTimeEquals(a, std::string(a))) << n;
    for (std::size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x80);
      EXPECT_FALSE(ConstantTimeEquals(a, b)) << n << " " << i;
    }
    EXPECT_FALSE(ConstantTimeEquals(a, a + "x")) << n;
  }
}

TEST(CryptoTest, HashesAndComparisons) {
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(Sha256Hex("abc"), abc);
  // The digest context is reused per thread: each call must start from a clean state.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  EXPECT_EQ(Sha256Hex("abc"), abc);
  EXPECT_EQ(HexEncode(Sha256("abc")), abc);
  std::string other_thread;
  std::thread([&] { other_thread = Sha256Hex("abc"); }).join();
  EXPECT_EQ(other_thread, abc);
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_NE(RandomToken(32), RandomToken(32));
  EXPECT_EQ(RandomToken(30).size(), 40u);
}

TEST(MemoryOnlyTest, MayBlockThrowsOnlyInsideTheScopeOfThisThread) {
  EXPECT_NO_THROW(MayBlock());
  {
    MemoryOnly outer;
    EXPECT_THROW(MayBlock(), WouldBlock);
    {
      MemoryOnly inner;
      EXPECT_THROW(MayBlock(), WouldBlock);
    }
    EXPECT_THROW(MayBlock(), WouldBlock) << "the inner scope restores, not clears";
    bool other_thread_threw = true;
    std::thread([&] {
      try {
        MayBlock();
        other_thread_threw = false;
      } catch (const WouldBlock&) {
      }
    }).join();
    EXPECT_FALSE(other_thread_threw);
  }
  EXPECT_NO_THROW(MayBlock());
}

}  // namespace
}  // namespace breakpilot
