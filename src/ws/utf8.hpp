// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), both in one
// call and incrementally across fragments so that invalid text fails fast, on the first
// offending byte, even when a code point is split between frames.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gw::ws {

// True if [data, data+size) is complete, valid UTF-8.
bool is_valid_utf8(const std::uint8_t* data, std::size_t size);

class Utf8Validator {
 public:
  // Feeds the next bytes. Returns false as soon as the bytes so far cannot be the prefix of
  // valid UTF-8 (the validator then stays failed until reset()).
  bool feed(const std::uint8_t* data, std::size_t size);
  // True if everything fed so far is valid and ends on a code point boundary.
  bool complete() const { return state_ == kAccept; }
  void reset() { state_ = kAccept; }

 private:
  // See utf8.cpp for the state layout.
  static constexpr std::uint32_t kAccept = 0;
  static constexpr std::uint32_t kReject = 0xFFFFFFFF;
  static std::uint32_t expect(std::uint32_t remaining, std::uint32_t lo, std::uint32_t hi);
  static std::uint32_t step(std::uint32_t state, std::uint8_t byte);
  std::uint32_t state_ = kAccept;
};

}  // namespace gw::ws
