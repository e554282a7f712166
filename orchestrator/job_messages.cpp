#include "orchestrator/job_messages.h"

#include <fmt/format.h>

#include "core/util/wire.h"

namespace strata {

std::string JobMessage::encode() const {
  wire::Writer w;
  w.bytes(request).bytes(group).value<std::uint64_t>(drops.size());
  for (const auto& object : drops) w.bytes(object);
  for (const auto& [object, payload] : inputs) w.bytes(object).bytes(payload.serialize());
  return w.take();
}

JobMessage JobMessage::decode(std::string_view bytes, const std::string& what) {
  wire::Reader r(bytes, what);
  JobMessage m;
  m.request = r.string();
  m.group = r.string();
  for (auto n = r.count(sizeof(std::uint64_t), "dropped inputs"); n > 0; --n) m.drops.push_back(r.string());
  while (!r.done()) {
    std::string object = r.string();
    m.inputs.emplace_back(std::move(object), workers::Payload::deserialize(r.bytes()));
  }
  return m;
}

std::string encode_outcome(const Outcome& o) {
  wire::Writer w;
  w.bytes(o.object).value(o.ok).value(o.input_error).value(o.group_failure).value(o.seconds).bytes(o.error);
  w.bytes(o.ok ? o.payload.serialize() : std::string()).value<std::int32_t>(o.inputs_held);
  return w.take();
}

Outcome decode_outcome(std::string_view bytes, int rank) {
  wire::Reader r(bytes, fmt::format("outcome from rank {}", rank));
  Outcome o;
  o.object = r.string();
  o.ok = r.value<std::uint8_t>() != 0;
  o.input_error = r.value<std::uint8_t>() != 0;
  o.group_failure = r.value<std::uint8_t>() != 0;
  o.seconds = r.value<double>();
  o.error = r.string();
  const auto payload = r.bytes();
  if (o.ok) o.payload = workers::Payload::deserialize(payload);
  o.inputs_held = r.value<std::int32_t>();
  o.rank = rank;
  return o;
}

}  // namespace strata
