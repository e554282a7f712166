#pragma once
// The one binary format of messages between ranks (job requests, inputs, outcomes, result
// payloads): values of fixed size in native byte order and length-prefixed byte strings, read
// back in the order written. Both ends run the same build, so nothing is versioned; a message
// that ends early is a RunError naming what was being read.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/util/error.h"

namespace strata::wire {

class Writer {
 public:
  template <class T>
  Writer& value(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Writer& bytes(std::string_view s) {
    value<std::uint64_t>(s.size());
    out_.append(s);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  // `what` names the message in errors ("payload", "job message from rank 0").
  Reader(std::string_view in, std::string what) : in_(in), what_(std::move(what)) {}
  template <class T>
  T value() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  std::string_view bytes() { return take(value<std::uint64_t>()); }
  std::string string() { return std::string(bytes()); }
  bool done() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }
  // A count of items that follow, each at least `min_item_bytes` long: refused where the rest
  // of the message could not hold them, so a damaged count allocates nothing.
  std::uint64_t count(std::size_t min_item_bytes, const char* of) {
    const auto n = value<std::uint64_t>();
    if (n > remaining() / min_item_bytes) fail_run("{}: {} {} claimed, more than its bytes hold", what_, n, of);
    return n;
  }

 private:
  std::string_view take(std::uint64_t n) {
    if (n > in_.size() - pos_) fail_run("{}: truncated message ({} bytes wanted at byte {} of {})", what_, n, pos_, in_.size());
    const auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string what_;
};

}  // namespace strata::wire
