// Helpers for the authentication tests: a temporary directory that cleans up after itself,
// running the `openssl` command line (an implementation independent of ours, to make keys,
// signatures and HMACs), and small file utilities.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gw::gateway::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gw-auth-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs a shell command; returns its stdout. Fails the test (and throws) on a non-zero exit.
inline std::string run(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string out;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  if (status != 0) {
    ADD_FAILURE() << "command failed (" << status << "): " << command;
    throw std::runtime_error("command failed: " + command);
  }
  return out;
}

inline std::string trim_newline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

inline unsigned file_mode(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 0777;
}

// hex HMAC-SHA256 by the openssl command line. The message goes through a file, so newlines and
// any byte survive the shell. The key must not contain a single quote.
inline std::string openssl_hmac_hex(const TempDir& dir, std::string_view key,
                                    std::string_view message) {
  const auto file = dir / "hmac-message.bin";
  write_file(file, message);
  const std::string out =
      run("openssl dgst -sha256 -hmac '" + std::string(key) + "' -r '" + file.string() + "'");
  return out.substr(0, out.find(' '));  // "-r": "<hex> *<file>"
}

}  // namespace gw::gateway::testing
