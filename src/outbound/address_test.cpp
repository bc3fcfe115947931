// The SSRF guard's address classifier (M15.2): every internal range, in every form a URL can
// spell it, and names that resolve to loopback. Nothing here sends a packet: getaddrinfo reads
// /etc/hosts for "localhost".
#include "outbound/address.hpp"

#include <gtest/gtest.h>

namespace breakpilot::outbound {
namespace {

AddressClass Of(const char* text) {
  auto a = ParseAddress(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a ? Classify(*a) : AddressClass::kPublic;
}

TEST(AddressTest, EveryInternalRangeIsNamed) {
  struct Case {
    const char* text;
    AddressClass want;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"127.0.0.1", AddressClass::kLoopback},
           {"127.255.255.254", AddressClass::kLoopback},
           {"10.0.0.1", AddressClass::kPrivate},
           {"10.255.255.255", AddressClass::kPrivate},
           {"172.16.0.1", AddressClass::kPrivate},
           {"172.31.255.255", AddressClass::kPrivate},
           {"192.168.1.1", AddressClass::kPrivate},
           {"169.254.169.254", AddressClass::kLinkLocal},  // cloud metadata
           {"169.254.0.1", AddressClass::kLinkLocal},
           {"100.64.0.1", AddressClass::kSharedNat},
           {"100.127.255.255", AddressClass::kSharedNat},
           {"224.0.0.1", AddressClass::kMulticast},
           {"239.255.255.250", AddressClass::kMulticast},
           {"0.0.0.0", AddressClass::kUnspecified},
           {"255.255.255.255", AddressClass::kReserved},
           {"240.0.0.1", AddressClass::kReserved},
           {"192.0.2.1", AddressClass::kReserved},
           {"::1", AddressClass::kLoopback},
           {"[::1]", AddressClass::kLoopback},
           {"::", AddressClass::kUnspecified},
           {"fc00::1", AddressClass::kPrivate},
           {"fd12:3456::1", AddressClass::kPrivate},  // ULA
           {"fe80::1", AddressClass::kLinkLocal},
           {"ff02::1", AddressClass::kMulticast},
           {"2001:db8::1", AddressClass::kReserved},
           // IPv4 inside IPv6: judged by the IPv4 address.
           {"::ffff:127.0.0.1", AddressClass::kLoopback},
           {"::ffff:7f00:1", AddressClass::kLoopback},
           {"::ffff:169.254.169.254", AddressClass::kLinkLocal},
           {"::ffff:10.1.2.3", AddressClass::kPrivate},
           {"::127.0.0.1", AddressClass::kLoopback},
           {"64:ff9b::a9fe:a9fe", AddressClass::kLinkLocal},  // NAT64 of 169.254.169.254
           {"2002:7f00:1::", AddressClass::kLoopback},        // 6to4 of 127.0.0.1
           // Numeric forms the resolver accepts.
           {"0x7f000001", AddressClass::kLoopback},
           {"2130706433", AddressClass::kLoopback},
           {"127.1", AddressClass::kLoopback},
           {"0177.0.0.1", AddressClass::kLoopback},
           {"0x7f.1", AddressClass::kLoopback},
           {"0xa9fea9fe", AddressClass::kLinkLocal},
           {"10.1", AddressClass::kPrivate},
           // Public.
           {"8.8.8.8", AddressClass::kPublic},
           {"172.32.0.1", AddressClass::kPublic},
           {"100.128.0.1", AddressClass::kPublic},
           {"2606:4700:4700::1111", AddressClass::kPublic},
       }) {
    EXPECT_EQ(Of(c.text), c.want) << c.text << " is " << ToString(Of(c.text));
  }
  EXPECT_FALSE(ParseAddress("example.com"));
  EXPECT_FALSE(ParseAddress("1.2.3.4.5"));
  EXPECT_FALSE(ParseAddress("[::1"));
  EXPECT_FALSE(ParseAddress(""));
}

TEST(AddressTest, UrlsToInternalAddressesAreRefusedBeforeAnyConnection) {
  const TargetPolicy production{};
  for (const char* url :
       {"https://127.0.0.1/hook", "https://[::1]/hook", "https://0x7f000001/hook",
        "https://2130706433/x", "https://127.1/x", "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:169.254.169.254]/x", "https://10.0.0.5:8443/x", "https://localhost/x",
        "https://192.168.0.1/x", "https://100.64.1.1/x", "https://224.0.0.1/x",
        "https://[fd00::1]/x", "https://[fe80::1]/x"}) {
    auto r = CheckUrl(url, production);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput) << url;
    EXPECT_EQ(r.error().type, "unsafe-url") << url << ": " << r.error().detail;
  }
  // Scheme and form.
  EXPECT_EQ(CheckUrl("http://8.8.8.8/x", production).error().type, "unsafe-url") << "https only";
  EXPECT_EQ(CheckUrl("ftp://8.8.8.8/x", production).error().type, "unsafe-url");
  EXPECT_EQ(CheckUrl("https://user:pw@8.8.8.8/x", production).error().type, "unsafe-url");
  EXPECT_EQ(CheckUrl("not a url", production).error().type, "unsafe-url");
  EXPECT_TRUE(CheckUrl("https://8.8.8.8/x", production)) << "a public literal; nothing is sent";
  // The test switch: loopback and private allowed, metadata and the rest still not.
  const TargetPolicy tests{.https_only = false, .allow_private = true};
  EXPECT_TRUE(CheckUrl("http://127.0.0.1:9/x", tests));
  EXPECT_TRUE(CheckUrl("http://localhost:9/x", tests));
  EXPECT_FALSE(CheckUrl("http://169.254.169.254/x", tests));
  EXPECT_FALSE(CheckUrl("http://0.0.0.0/x", tests));
}

}  // namespace
}  // namespace breakpilot::outbound
