//===- StringsTest.cpp - Rules for user strings and the quoting helpers ---===//
#include "moec/Support/Strings.h"

#include <gtest/gtest.h>

using namespace moec;

TEST(Strings, HostNamesFollowRfc1123OrAreAddresses) {
  for (const char *ok : {"node-0", "gpu01.cluster.local", "a", "10.0.0.7", "255.255.255.255", "fe80::1", "::1",
                         "2001:db8:0:0:0:0:0:1", "2001:db8::", "xn--bcher-kva.example"})
    EXPECT_FALSE(checkHostName(ok)) << ok;
  struct Bad {
    const char *host;
    size_t index;
  };
  for (Bad bad : {Bad{"a$(touch pwned)", 1}, Bad{"b`id`", 1}, Bad{"c;reboot", 1}, Bad{"d e", 1}, Bad{"f|g", 1},
                  Bad{"h&i", 1}, Bad{"j'k", 1}, Bad{"l\"m", 1}, Bad{"n\necho", 1}, Bad{"-e", 0}, Bad{"e-", 1},
                  Bad{"a..b", 2}, Bad{"a_b", 1}, Bad{"1:2:3", 1}}) {
    std::optional<StringProblem> p = checkHostName(bad.host);
    ASSERT_TRUE(p) << bad.host;
    EXPECT_EQ(p->index, bad.index) << bad.host << ": " << p->message;
  }
  EXPECT_TRUE(checkHostName(""));
  EXPECT_TRUE(checkHostName(std::string(64, 'a')));
  EXPECT_FALSE(checkHostName(std::string(63, 'a')));
  std::string long254 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                        std::string(62, 'd');
  EXPECT_EQ(long254.size(), 254u);
  EXPECT_TRUE(checkHostName(long254));
  EXPECT_FALSE(checkHostName(long254.substr(1)));
  // Not IPv6: two gaps, too many groups, a group of five digits.
  EXPECT_TRUE(checkHostName("1::2::3"));
  EXPECT_TRUE(checkHostName("1:2:3:4:5:6:7:8:9"));
  EXPECT_TRUE(checkHostName("12345::1"));
}

TEST(Strings, InterfaceNames) {
  for (const char *ok : {"eth0", "ib0.8001", "enp1s0f0", "bond0:1", "br_lan"})
    EXPECT_FALSE(checkInterfaceName(ok)) << ok;
  for (const char *bad : {"", "-eth0", "eth0;x", "eth 0", "a234567890123456", "eth$(x)"})
    EXPECT_TRUE(checkInterfaceName(bad)) << bad;
}

TEST(Strings, ShellQuoteMakesOneWord) {
  EXPECT_EQ(shellQuote("node-0"), "node-0");
  EXPECT_EQ(shellQuote("fe80::1"), "fe80::1");
  EXPECT_EQ(shellQuote("a b"), "'a b'");
  EXPECT_EQ(shellQuote("$(touch pwned)"), "'$(touch pwned)'");
  EXPECT_EQ(shellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(shellQuote("-rf"), "'-rf'");
  EXPECT_EQ(shellQuote(""), "''");
  EXPECT_EQ(shellQuote("a\nb"), "'a\nb'");
}

TEST(Strings, YamlQuoteAndComments) {
  EXPECT_EQ(yamlQuote("eth0"), "\"eth0\"");
  EXPECT_EQ(yamlQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(yamlQuote("a\nb"), "\"a\\x0ab\"");
  // A newline in a comment would start a line of script.
  EXPECT_EQ(commentText("spec\nrm -rf /.moe"), "spec\\x0arm -rf /.moe");
  EXPECT_EQ(commentText("plain $(x) `y`"), "plain $(x) `y`");
}
