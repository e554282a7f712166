#pragma once
// For headers that declare a spec type's `static const spec::Schema<T>& schema();` without
// needing the schema machinery (core/spec/fields.h, where the schema is defined).
namespace strata::spec {
template <typename S>
class Schema;
}  // namespace strata::spec
