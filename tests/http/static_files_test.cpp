// Static files (the dashboard's web/dist): content types, caching headers, ETag and 304, HEAD,
// and every way out of the root that a request path can try (.., %2e%2e, encoded slashes,
// absolute paths, hidden files, symlinks) -> 404.
#include "http/static_files.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/parser.hpp"

namespace gw::http {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/gw-static-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    base_ = pattern;
    root_ = base_ / "dist";
    fs::create_directories(root_ / "assets");
    fs::create_directories(root_ / "sub");
    write(root_ / "index.html", "<!doctype html><title>t</title>");
    write(root_ / "assets" / "index-AbC123.js", "console.log(1);");
    write(root_ / "assets" / "index-AbC123.css", "body{}");
    write(root_ / "assets" / "index-AbC123.js.map", "{}");
    write(root_ / "favicon.svg", "<svg/>");
    write(root_ / ".env", "SECRET=1");
    write(base_ / "secret.txt", "outside the root");
    fs::create_symlink(base_ / "secret.txt", root_ / "escape.txt");
    fs::create_symlink(root_ / "favicon.svg", root_ / "inside.svg");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }

  // Serves "METHOD target" with optional extra header lines; `raw_` keeps the request bytes.
  std::string serve(const StaticFiles& files, std::string_view method, std::string_view target,
                    std::string_view extra = "") {
    raw_ = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" +
           std::string(extra) + "\r\n";
    Request request;
    EXPECT_EQ(parse_request(raw_, request).status, ParseStatus::complete) << raw_;
    return files.respond(request);
  }

  struct Answer {
    int status = 0;
    std::string head;
    std::string body;
    std::string header(std::string_view name) const {
      Response response;
      parse_response(head, response);
      return std::string(response.headers.get(name).value_or(""));
    }
  };

  static Answer parse(const std::string& text) {
    Answer answer;
    Response response;
    const ParseResult result = parse_response(text, response);
    EXPECT_EQ(result.status, ParseStatus::complete) << text;
    answer.status = response.status;
    answer.head = text.substr(0, result.head_length);
    answer.body = text.substr(result.head_length);
    return answer;
  }

  Answer get(const StaticFiles& files, std::string_view target, std::string_view extra = "") {
    return parse(serve(files, "GET", target, extra));
  }

  fs::path base_;
  fs::path root_;
  std::string raw_;
};

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/a-1.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("assets/a-1.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("logo.png"), "image/png");
  EXPECT_EQ(content_type_for("favicon.ico"), "image/x-icon");
  EXPECT_EQ(content_type_for("data.json"), "application/json");
  EXPECT_EQ(content_type_for("assets/a-1.js.map"), "application/json");
  EXPECT_EQ(content_type_for("fonts/x.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("dir.d/README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("x.exe"), "application/octet-stream");
}

TEST(RelativeFilePath, OrdinaryPaths) {
  EXPECT_EQ(relative_file_path("/"), "index.html");
  EXPECT_EQ(relative_file_path("/index.html"), "index.html");
  EXPECT_EQ(relative_file_path("/assets/index-AbC.js"), "assets/index-AbC.js");
  EXPECT_EQ(relative_file_path("/a%20b.txt"), "a b.txt");
}

TEST(RelativeFilePath, RefusesEveryWayOut) {
  for (const char* path : {"",
                           "index.html",
                           "/..",
                           "/../etc/passwd",
                           "/assets/../../etc/passwd",
                           "/%2e%2e/etc/passwd",
                           "/%2E%2E/x",
                           "/assets/%2e%2e%2f%2e%2e%2fetc/passwd",
                           "/./index.html",
                           "/assets//x.js",
                           "//etc/passwd",
                           "/%2fetc/passwd",
                           "/.env",
                           "/assets/.hidden",
                           "/a%00b",
                           "/a\\..\\b",
                           "/a%5c..%5cb",
                           "/%",
                           "/%2",
                           "/%zz",
                           "/assets/",
                           "/x/"}) {
    EXPECT_FALSE(relative_file_path(path).has_value()) << path;
  }
}

TEST(EtagMatches, WeakComparisonListsAndStar) {
  EXPECT_TRUE(etag_matches("\"a-1\"", "\"a-1\""));
  EXPECT_TRUE(etag_matches("W/\"a-1\"", "\"a-1\""));
  EXPECT_TRUE(etag_matches("\"x\", \"a-1\"", "\"a-1\""));
  EXPECT_TRUE(etag_matches("*", "\"a-1\""));
  EXPECT_FALSE(etag_matches("\"a-2\"", "\"a-1\""));
  EXPECT_FALSE(etag_matches("a-1", "\"a-1\""));
  EXPECT_FALSE(etag_matches("", "\"a-1\""));
}

TEST_F(StaticFilesTest, AvailableOnlyWithAnIndex) {
  EXPECT_TRUE(StaticFiles(root_.string()).available());
  EXPECT_FALSE(StaticFiles((root_ / "assets").string()).available());
  EXPECT_FALSE(StaticFiles((base_ / "missing").string()).available());
  const StaticFiles missing((base_ / "missing").string());
  EXPECT_EQ(get(missing, "/").status, 404);
}

TEST_F(StaticFilesTest, IndexIsRevalidatedEachTime) {
  const StaticFiles files(root_.string());
  for (const char* target : {"/", "/index.html"}) {
    const Answer answer = get(files, target);
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(answer.body, "<!doctype html><title>t</title>");
    EXPECT_EQ(answer.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(answer.header("Cache-Control"), "no-cache");
    EXPECT_EQ(answer.header("Content-Length"), "31");
    EXPECT_EQ(answer.header("X-Content-Type-Options"), "nosniff");
    EXPECT_FALSE(answer.header("ETag").empty());
  }
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutable) {
  const StaticFiles files(root_.string());
  const Answer js = get(files, "/assets/index-AbC123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1);");
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(get(files, "/assets/index-AbC123.css").header("Content-Type"),
            "text/css; charset=utf-8");
  EXPECT_EQ(get(files, "/assets/index-AbC123.js.map").header("Content-Type"), "application/json");
  const Answer icon = get(files, "/favicon.svg");
  EXPECT_EQ(icon.header("Content-Type"), "image/svg+xml");
  EXPECT_EQ(icon.header("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, QueryStringIsIgnored) {
  const StaticFiles files(root_.string());
  EXPECT_EQ(get(files, "/favicon.svg?v=2").body, "<svg/>");
}

TEST_F(StaticFilesTest, IfNoneMatchGives304) {
  const StaticFiles files(root_.string());
  const std::string etag = get(files, "/").header("ETag");
  ASSERT_FALSE(etag.empty());
  const Answer cached = get(files, "/", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  EXPECT_EQ(cached.header("ETag"), etag);
  EXPECT_EQ(cached.header("Cache-Control"), "no-cache");
  EXPECT_EQ(get(files, "/", "If-None-Match: \"other\"\r\n").status, 200);

  // A rebuilt file (new content, same size) gets a new tag.
  const fs::path index = root_ / "index.html";
  fs::last_write_time(index, fs::last_write_time(index) + std::chrono::seconds(5));
  EXPECT_NE(get(files, "/").header("ETag"), etag);
  EXPECT_EQ(get(files, "/", "If-None-Match: " + etag + "\r\n").status, 200);
}

TEST_F(StaticFilesTest, HeadHasTheHeadersAndNoBody) {
  const StaticFiles files(root_.string());
  const Answer answer = parse(serve(files, "HEAD", "/assets/index-AbC123.js"));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.header("Content-Length"), "15");
  EXPECT_EQ(answer.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_TRUE(answer.body.empty());
}

TEST_F(StaticFilesTest, OtherMethodsAre405) {
  const StaticFiles files(root_.string());
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    const Answer answer = parse(serve(files, method, "/"));
    EXPECT_EQ(answer.status, 405) << method;
    EXPECT_EQ(answer.header("Allow"), "GET, HEAD");
  }
}

TEST_F(StaticFilesTest, MissingFilesAndDirectoriesAre404) {
  const StaticFiles files(root_.string());
  EXPECT_EQ(get(files, "/nope.js").status, 404);
  EXPECT_EQ(get(files, "/assets").status, 404);
  EXPECT_EQ(get(files, "/sub").status, 404);
}

TEST_F(StaticFilesTest, TraversalAttemptsAre404) {
  const StaticFiles files(root_.string());
  for (const char* target : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
                             "/assets/%2E%2E/%2E%2E/secret.txt", "/.env", "/%2eenv", "//secret.txt",
                             "/%2f"
                             "tmp/secret.txt",
                             "/escape.txt", "/..%5csecret.txt"}) {
    const Answer answer = get(files, target);
    EXPECT_EQ(answer.status, 404) << target;
    EXPECT_EQ(answer.body.find("outside the root"), std::string::npos) << target;
    EXPECT_EQ(answer.body.find("SECRET"), std::string::npos) << target;
  }
  // An absolute path through the root's own name does not escape either.
  EXPECT_EQ(get(files, "/" + (base_ / "secret.txt").string()).status, 404);
}

TEST_F(StaticFilesTest, SymlinksInsideTheRootAreServed) {
  const StaticFiles files(root_.string());
  EXPECT_EQ(get(files, "/inside.svg").body, "<svg/>");
}

TEST_F(StaticFilesTest, TheRootMayItselfBeASymlink) {
  fs::create_directory_symlink(root_, base_ / "link");
  const StaticFiles files((base_ / "link").string());
  EXPECT_TRUE(files.available());
  EXPECT_EQ(get(files, "/favicon.svg").status, 200);
  EXPECT_EQ(get(files, "/escape.txt").status, 404);
}

TEST_F(StaticFilesTest, FilesOverTheCapAreNotServed) {
  write(root_ / "big.json", std::string(2048, 'x'));
  const StaticFiles files(root_.string(), {.max_file_bytes = 1024});
  EXPECT_EQ(get(files, "/big.json").status, 404);
  EXPECT_EQ(get(files, "/favicon.svg").status, 200);
}

}  // namespace
}  // namespace gw::http
