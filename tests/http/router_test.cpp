// Router: exact paths, "/prefix/*" wildcards, 404 and 405 with the Allow list.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gw::http {
namespace {

using TestRouter = Router<std::string>;

TestRouter make_router() {
  TestRouter router;
  router.add("GET", "/healthz", "health");
  router.add("GET", "/ws", "ws");
  router.add("HEAD", "/ws", "ws-head");
  router.add("GET", "/api/v2/*", "api");
  router.add("POST", "/api/v2/*", "api-post");
  return router;
}

TEST(Router, ExactMatch) {
  const TestRouter router = make_router();
  const auto match = router.match("GET", "/healthz");
  ASSERT_EQ(match.status, RouteStatus::found);
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(*match.handler, "health");
  EXPECT_TRUE(match.allow.empty());
}

TEST(Router, ExactMatchIsNotAPrefix) {
  const TestRouter router = make_router();
  EXPECT_EQ(router.match("GET", "/healthz/").status, RouteStatus::not_found);
  EXPECT_EQ(router.match("GET", "/health").status, RouteStatus::not_found);
  EXPECT_EQ(router.match("GET", "/healthzz").status, RouteStatus::not_found);
}

TEST(Router, MethodSelectsTheHandler) {
  const TestRouter router = make_router();
  EXPECT_EQ(*router.match("GET", "/ws").handler, "ws");
  EXPECT_EQ(*router.match("HEAD", "/ws").handler, "ws-head");
}

TEST(Router, MethodIsCaseSensitive) {
  // RFC 9110 §9.1: method names are case-sensitive.
  const TestRouter router = make_router();
  EXPECT_EQ(router.match("get", "/healthz").status, RouteStatus::method_not_allowed);
}

TEST(Router, PrefixMatch) {
  const TestRouter router = make_router();
  for (const char* path : {"/api/v2/", "/api/v2/book", "/api/v2/book/BTC-PERP"}) {
    const auto match = router.match("GET", path);
    ASSERT_EQ(match.status, RouteStatus::found) << path;
    EXPECT_EQ(*match.handler, "api");
  }
  EXPECT_EQ(*router.match("POST", "/api/v2/order").handler, "api-post");
}

TEST(Router, PrefixNeedsTheSlash) {
  const TestRouter router = make_router();
  EXPECT_EQ(router.match("GET", "/api/v2").status, RouteStatus::not_found);
  EXPECT_EQ(router.match("GET", "/api/v20").status, RouteStatus::not_found);
  EXPECT_EQ(router.match("GET", "/api/v1/x").status, RouteStatus::not_found);
}

TEST(Router, NotFound) {
  const TestRouter router = make_router();
  const auto match = router.match("GET", "/nope");
  EXPECT_EQ(match.status, RouteStatus::not_found);
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_TRUE(match.allow.empty());
  EXPECT_EQ(TestRouter{}.match("GET", "/").status, RouteStatus::not_found);
}

TEST(Router, MethodNotAllowedListsAllowedMethods) {
  const TestRouter router = make_router();
  const auto ws = router.match("DELETE", "/ws");
  EXPECT_EQ(ws.status, RouteStatus::method_not_allowed);
  EXPECT_EQ(ws.handler, nullptr);
  EXPECT_EQ(ws.allow, "GET, HEAD");

  const auto health = router.match("POST", "/healthz");
  EXPECT_EQ(health.status, RouteStatus::method_not_allowed);
  EXPECT_EQ(health.allow, "GET");

  EXPECT_EQ(router.match("PUT", "/api/v2/x").allow, "GET, POST");
}

TEST(Router, OverlappingRoutesListAMethodOnce) {
  // A static-file wildcard behind exact routes: POST /healthz is refused with each method once.
  TestRouter router;
  router.add("GET", "/healthz", "health");
  router.add("GET", "/*", "files");
  router.add("HEAD", "/*", "files-head");
  const auto match = router.match("POST", "/healthz");
  EXPECT_EQ(match.status, RouteStatus::method_not_allowed);
  EXPECT_EQ(match.allow, "GET, HEAD");
}

TEST(Router, FoundAfterAnEarlierMethodMismatch) {
  const TestRouter router = make_router();
  const auto match = router.match("HEAD", "/ws");  // the GET route comes first
  EXPECT_EQ(match.status, RouteStatus::found);
  EXPECT_EQ(*match.handler, "ws-head");
}

TEST(Router, FirstMatchingRouteWins) {
  TestRouter router;
  router.add("GET", "/a/*", "wild");
  router.add("GET", "/a/b", "exact");
  EXPECT_EQ(*router.match("GET", "/a/b").handler, "wild");
}

TEST(Router, RootWildcardMatchesEverything) {
  TestRouter router;
  router.add("GET", "/*", "all");
  EXPECT_EQ(router.match("GET", "/").status, RouteStatus::found);
  EXPECT_EQ(router.match("GET", "/x/y").status, RouteStatus::found);
  EXPECT_EQ(router.match("GET", "").status, RouteStatus::not_found);
}

}  // namespace
}  // namespace gw::http
