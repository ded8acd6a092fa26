#include "http/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "http/response.hpp"

namespace gw::http {
namespace {

constexpr std::string_view kHashedAssets = "assets/";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";
constexpr std::string_view kRevalidate = "no-cache";

struct TypeByExtension {
  std::string_view extension;
  std::string_view type;
};

// What Vite's build emits, plus the usual suspects of a static site.
constexpr std::array<TypeByExtension, 18> kContentTypes = {{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"txt", "text/plain; charset=utf-8"},
}};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict percent-decoding: a '%' not followed by two hex digits makes the path invalid.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_digit(text[i + 1]);
    const int low = hex_digit(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

// A segment we are willing to look up: no "." or "..", no hidden names, nothing that a file
// system or a shell would read as anything but a plain name.
bool ordinary_segment(std::string_view segment) {
  if (segment.empty() || segment.front() == '.') return false;
  for (char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\') return false;
  }
  return true;
}

std::string etag_of(const struct stat& st) {
  // Size and modification time: a rebuilt file gets a new tag even when its size is the same.
  const auto mtime_ns = static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1'000'000'000ull +
                        static_cast<unsigned long long>(st.st_mtim.tv_nsec);
  char tag[64];
  std::snprintf(tag, sizeof tag, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                mtime_ns);
  return tag;
}

std::optional<std::string> real_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
  return std::string(resolved);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string not_found() {
  return error_response(404, "not found");
}

}  // namespace

std::string_view content_type_for(std::string_view file_name) {
  const std::size_t dot = file_name.rfind('.');
  const std::size_t slash = file_name.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  const std::string_view extension = file_name.substr(dot + 1);
  for (const auto& entry : kContentTypes) {
    if (iequals(entry.extension, extension)) return entry.type;
  }
  return "application/octet-stream";
}

std::optional<std::string> relative_file_path(std::string_view request_path) {
  if (request_path.empty() || request_path.front() != '/') return std::nullopt;
  const auto decoded = percent_decode(request_path);
  if (!decoded) return std::nullopt;
  if (*decoded == "/") return std::string("index.html");
  // Segments are checked after decoding, so "%2e%2e" is "..", and "%2f" a separator.
  std::string_view rest = std::string_view(*decoded).substr(1);
  while (true) {
    const std::size_t slash = rest.find('/');
    if (!ordinary_segment(rest.substr(0, slash))) return std::nullopt;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return decoded->substr(1);
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  auto strip_weak = [](std::string_view tag) {
    return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag;
  };
  const std::string_view wanted = strip_weak(etag);
  while (!if_none_match.empty()) {
    const std::size_t comma = if_none_match.find(',');
    std::string_view candidate = if_none_match.substr(0, comma);
    while (!candidate.empty() && (candidate.front() == ' ' || candidate.front() == '\t')) {
      candidate.remove_prefix(1);
    }
    while (!candidate.empty() && (candidate.back() == ' ' || candidate.back() == '\t')) {
      candidate.remove_suffix(1);
    }
    if (candidate == "*" || strip_weak(candidate) == wanted) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

struct StaticFiles::File {
  std::string path;  // real path, inside the root
  std::string etag;
  std::size_t size = 0;
  int fd = -1;
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  File(File&& other) noexcept
      : path(std::move(other.path)),
        etag(std::move(other.etag)),
        size(other.size),
        fd(std::exchange(other.fd, -1)) {}
  File& operator=(File&&) = delete;
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

StaticFiles::StaticFiles(std::string root, StaticFileOptions options) : options_(options) {
  if (auto resolved = real_path(root)) root_ = std::move(*resolved);
  available_ = !root_.empty() && is_regular_file(root_ + "/index.html");
}

std::optional<StaticFiles::File> StaticFiles::open_file(const std::string& relative) const {
  if (root_.empty()) return std::nullopt;
  // The real path must stay under the root: a symlink pointing out of it is refused.
  auto resolved = real_path(root_ + "/" + relative);
  if (!resolved || resolved->size() <= root_.size() ||
      resolved->compare(0, root_.size(), root_) != 0 || (*resolved)[root_.size()] != '/') {
    return std::nullopt;
  }
  File file;
  file.path = std::move(*resolved);
  // O_NOFOLLOW: the resolved path has no symlinks left, unless one was swapped in since.
  file.fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (file.fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
      static_cast<std::size_t>(st.st_size) > options_.max_file_bytes) {
    return std::nullopt;
  }
  file.size = static_cast<std::size_t>(st.st_size);
  file.etag = etag_of(st);
  return file;
}

std::string StaticFiles::respond(const Request& request) const {
  const bool head = request.method == "HEAD";
  if (!head && request.method != "GET") {
    return error_response(405, "method not allowed", {{"Allow", "GET, HEAD"}});
  }
  const auto relative = relative_file_path(request.path());
  if (!relative) return not_found();
  auto file = open_file(*relative);
  if (!file) return not_found();

  ResponseHead response;
  const bool hashed = relative->compare(0, kHashedAssets.size(), kHashedAssets) == 0;
  response.headers = {
      {"Content-Type", std::string(content_type_for(*relative))},
      {"Cache-Control", std::string(hashed ? kImmutable : kRevalidate)},
      {"ETag", file->etag},
      {"X-Content-Type-Options", "nosniff"},
  };
  if (const auto tags = request.headers.get("If-None-Match");
      tags && etag_matches(*tags, file->etag)) {
    response.status = 304;
    return format_response(response, {}, /*close=*/true);
  }
  if (head) {
    response.headers.emplace_back("Content-Length", std::to_string(file->size));
    return format_response(response, {}, /*close=*/true);
  }
  std::string body(file->size, '\0');
  std::size_t done = 0;
  while (done < body.size()) {
    const ssize_t n =
        ::pread(file->fd, body.data() + done, body.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return error_response(500, "could not read the file");  // truncated meanwhile
    done += static_cast<std::size_t>(n);
  }
  return format_response(response, body, /*close=*/true);
}

}  // namespace gw::http
