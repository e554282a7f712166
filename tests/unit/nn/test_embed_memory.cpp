// What an embedding job's vectors take at least, from its spec and the model's shape.
#include "core/nn/embed_spec.h"
#include "tests/catch.hpp"

TEST_CASE("embedding memory: float32 rows x features x layers, token rows capped by token_rows", "[memory]") {
  strata::nn::EmbedSpec s;
  CHECK(s.output_bytes(1000, 384, 1) == 4.0 * 1000 * 384);
  CHECK(s.output_bytes(1000, 2048, 17) == 4.0 * 1000 * 2048 * 17);
  s.pooling = "tokens";
  s.token_rows = 200;
  CHECK(s.output_bytes(1000, 384, 2) == 4.0 * 200 * 384 * 2);  // at most token_rows
  s.token_rows = 0;
  CHECK(s.output_bytes(1000, 384, 2) == 4.0 * 1000 * 384 * 2);  // at least one row a text
}
