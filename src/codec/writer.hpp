// The streaming writer interface shared by JsonWriter and MsgpackWriter, so that each message
// is written once, as a template over the writer:
//
//   template <codec::Writer W>
//   void write_level(W& w, double price, double amount) {
//     w.begin_array(3);
//     w.value("new");
//     w.value(price);
//     w.value(amount);
//     w.end_array();
//   }
//
// Containers announce their size up front: begin_object(n) takes the number of key/value pairs,
// begin_array(n) the number of elements. MessagePack needs the counts before the elements; JSON
// ignores them. Debug builds check every count and the key/value alternation (an assert fires
// at the end_* of a container whose count did not match); release builds check nothing.
//
// One writer writes one message (one top-level value), appending to a caller-owned buffer;
// construct a writer per message (it is cheap: no allocation) and clear the buffer to reuse its
// capacity.
#pragma once

#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace gw::codec {

template <class W>
concept Writer = requires(W& w, std::string_view s, double d, std::int64_t i, std::uint64_t u,
                          bool b, std::size_t n, std::span<const std::uint8_t> bytes) {
  w.begin_object(n);
  w.end_object();
  w.begin_array(n);
  w.end_array();
  w.key(s);
  w.value(s);
  w.value(d);
  w.value(i);
  w.value(u);
  w.value(b);
  w.null();
  w.binary(bytes);
  w.raw_json(s);
  { W::kText } -> std::convertible_to<bool>;  // true: JSON text frames; false: binary frames
};

// Integers the writers accept as numbers: any integral type but bool and the character types,
// which would otherwise silently become numbers.
template <class T>
concept Integer =
    std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
    !std::same_as<T, signed char> && !std::same_as<T, unsigned char> && !std::same_as<T, char8_t> &&
    !std::same_as<T, char16_t> && !std::same_as<T, char32_t> && !std::same_as<T, wchar_t>;

namespace detail {

#ifndef NDEBUG
// Debug-only bookkeeping of the open containers (see the header comment).
class StructureCheck {
 public:
  void open(std::size_t count, bool object) {
    value();
    assert(depth_ < kMaxDepth && "writer: containers nested too deeply for the debug check");
    levels_[depth_++] = {count, 0, object, false};
  }
  void close(bool object) {
    assert(depth_ > 0 && "writer: end_* without begin_*");
    const Level& top = levels_[depth_ - 1];
    assert(top.object == object && "writer: end_object/end_array mismatch");
    assert(!top.after_key && "writer: key without a value");
    assert(top.seen == top.expected && "writer: element count differs from begin_*(n)");
    (void)top;
    (void)object;
    --depth_;
  }
  void key() {
    assert(depth_ > 0 && levels_[depth_ - 1].object && "writer: key outside an object");
    Level& top = levels_[depth_ - 1];
    assert(!top.after_key && "writer: two keys in a row");
    ++top.seen;
    top.after_key = true;
  }
  void value() {
    if (depth_ == 0) {
      assert(!done_ && "writer: a second top-level value (use one writer per message)");
      done_ = true;
      return;
    }
    Level& top = levels_[depth_ - 1];
    if (top.object) {
      assert(top.after_key && "writer: value in an object without a key");
      top.after_key = false;
    } else {
      ++top.seen;
    }
  }

 private:
  static constexpr int kMaxDepth = 64;
  struct Level {
    std::size_t expected;
    std::size_t seen;
    bool object;
    bool after_key;
  };
  Level levels_[kMaxDepth];
  int depth_ = 0;
  bool done_ = false;
};
#else
struct StructureCheck {
  void open(std::size_t, bool) {}
  void close(bool) {}
  void key() {}
  void value() {}
};
#endif

}  // namespace detail

}  // namespace gw::codec
