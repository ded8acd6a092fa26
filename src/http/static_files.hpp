// Serving a directory of built web assets (the dashboard's web/dist) over plain HTTP.
//
// Only GET and HEAD; only paths made of ordinary segments: after percent-decoding, a path with
// "..", ".", an empty segment, a hidden name (".env"), a backslash or a NUL is refused (404), and
// a file whose real path (symlinks resolved) is not inside the root is refused too. Files are
// read whole, up to a size cap, into the response.
//
// Caching follows what Vite emits: files under /assets/ carry a content hash in their names, so
// they are `immutable` for a year; everything else (index.html, favicon) is `no-cache`, i.e.
// revalidated each time, which the ETag makes cheap (If-None-Match -> 304).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/parser.hpp"

namespace gw::http {

// The Content-Type for a file name, by its extension (case-insensitive);
// "application/octet-stream" when unknown.
std::string_view content_type_for(std::string_view file_name);

// The file a request path names, relative to the root ("/" is "index.html"), or nullopt when
// the path is not an ordinary one (see above). Does not touch the file system.
std::optional<std::string> relative_file_path(std::string_view request_path);

// True if an If-None-Match value matches `etag` (weak comparison, "*" matches anything).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

struct StaticFileOptions {
  std::size_t max_file_bytes = 16u << 20;  // larger files are not served
};

class StaticFiles {
 public:
  explicit StaticFiles(std::string root, StaticFileOptions options = {});

  // The root exists and holds an index.html.
  bool available() const { return available_; }
  // The root, canonical (symlinks resolved); empty when it does not exist.
  const std::string& root() const { return root_; }

  // The complete response (Connection: close) to `request`: 200 with the file, 304, 404, or
  // 405 for a method other than GET and HEAD. HEAD gets GET's headers and no body.
  std::string respond(const Request& request) const;

 private:
  struct File;
  std::optional<File> open_file(const std::string& relative) const;

  std::string root_;
  StaticFileOptions options_;
  bool available_ = false;
};

}  // namespace gw::http
