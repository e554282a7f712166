// Exercises the MPI layer under mpirun and writes what each rank saw to <out>/rank<R>.json;
// tests/mpi/test_cluster_comm.py checks the files against values it computes itself.
//
//   cluster_selftest --out DIR [--chunk-bytes N] [--payload-bytes N] [--seed N]
//   cluster_selftest --launch-check      (prints whether the environment says mpirun/srun)
//   cluster_selftest --pingpong N [--spin-us US]   (2+ ranks: latency between ranks 0 and 1)
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/data_parallel.h"
#include "cluster/mpi_comm.h"
#include "cluster/mpi_group.h"
#include "core/util/hash.h"

namespace {

using nlohmann::json;
using strata::cluster::kAnySource;
using strata::cluster::kAnyTag;
using strata::cluster::MpiComm;
using strata::cluster::MpiGroup;

struct Options {
  std::filesystem::path out;
  std::size_t chunk_bytes = 64 << 10;
  std::size_t payload_bytes = 10'000'000;
  std::uint64_t seed = 7;
  bool launch_check = false;
  int pingpong = 0;
  long spin_us = -1;  // --pingpong only: WaitPolicy::spin (default: the library's)
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("missing value after " + a);
      return argv[++i];
    };
    if (a == "--out") o.out = next();
    else if (a == "--chunk-bytes") o.chunk_bytes = std::stoull(next());
    else if (a == "--payload-bytes") o.payload_bytes = std::stoull(next());
    else if (a == "--seed") o.seed = std::stoull(next());
    else if (a == "--launch-check") o.launch_check = true;
    else if (a == "--pingpong") o.pingpong = std::stoi(next());
    else if (a == "--spin-us") o.spin_us = std::stol(next());
    else throw std::invalid_argument("unknown argument " + a);
  }
  if (!o.launch_check && o.pingpong == 0 && o.out.empty()) throw std::invalid_argument("--out DIR is required");
  return o;
}

// The payload rank `r` sends; the test script computes the same bytes with numpy.
std::string payload_of(int r, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + (i >> 11) * 7 + static_cast<std::size_t>(r) * 29) % 251);
  return s;
}

std::size_t payload_size_of(int r, std::size_t base) { return base + static_cast<std::size_t>(r) * 12345 + 1; }

template <typename T>
json values_of(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return json(std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel()));
}

// Float, double and int64 tensors of several MPI pieces, summed over the world.
json check_allreduce(const MpiComm& world, std::uint64_t seed) {
  MpiGroup group(world, /*piece_bytes=*/4096);
  auto gen = at::detail::createCPUGenerator(seed * 1000 + static_cast<std::uint64_t>(world.rank()));
  torch::Tensor f = torch::randn({5000}, gen, torch::kFloat);
  torch::Tensor d = torch::randn({3001}, gen, torch::kDouble);
  // Values above 2^53 so a detour through double would show.
  torch::Tensor l = torch::randint(0, 1'000'000, {2000}, gen, torch::kLong) + (std::int64_t{1} << 58);
  json j;
  j["float_in"] = values_of<float>(f);
  j["double_in"] = values_of<double>(d);
  j["int64_in"] = values_of<std::int64_t>(l);
  group.allreduce_sum(f);
  group.allreduce_sum(d);
  group.allreduce_sum(l);
  j["float_out"] = values_of<float>(f);
  j["double_out"] = values_of<double>(d);
  j["int64_out"] = values_of<std::int64_t>(l);
  j["backend"] = group.backend();
  return j;
}

json check_broadcast(MpiComm& world) {
  MpiGroup group(world, /*piece_bytes=*/1000);
  const int root = world.size() - 1;
  torch::Tensor t = world.rank() == root ? torch::arange(3000, torch::kLong) * 7 + root
                                         : torch::zeros({3000}, torch::kLong);
  group.broadcast(t, root);
  std::string bytes = world.rank() == root ? payload_of(root, 100'003) : std::string("stale");
  const std::size_t saved_chunk = world.chunk_bytes();
  world.set_chunk_bytes(world.rank() == root ? 999 : 123'456);  // the root's chunk size wins
  world.broadcast_bytes(bytes, root);
  world.set_chunk_bytes(saved_chunk);
  json j;
  j["root"] = root;
  j["tensor"] = values_of<std::int64_t>(t);
  j["bytes_size"] = bytes.size();
  j["bytes_sha256"] = strata::sha256_hex(bytes);
  return j;
}

// Even and odd world ranks form two groups, ordered by descending world rank: once through
// MpiGroup::split, once through MpiComm::split and the data-parallel factory.
json check_split(const MpiComm& world) {
  MpiGroup group(world);
  auto sub = group.split(world.rank() % 2, -world.rank());
  torch::Tensor t = torch::full({1}, world.rank(), torch::kLong);
  sub->allreduce_sum(t);
  MpiComm sub_comm = world.split(world.rank() % 2, -world.rank());
  auto dp = strata::cluster::make_data_parallel_group(sub_comm, torch::kCPU);
  torch::Tensor ones = torch::ones({4}, torch::kDouble);
  dp->allreduce_sum(ones);
  json j;
  j["rank"] = sub->rank();
  j["size"] = sub->size();
  j["comm_rank"] = sub_comm.rank();
  j["sum_of_world_ranks"] = t.item<std::int64_t>();
  j["data_parallel_backend"] = dp->backend();
  j["data_parallel_size"] = dp->size();
  j["data_parallel_sum_of_ones"] = ones[0].item<double>();
  return j;
}

// Groups made by their members alone: {last, 0} and, at the same time, the ranks between.
json check_subgroup(MpiComm& world) {
  const int n = world.size();
  const int r = world.rank();
  std::vector<int> members = {n - 1, 0};
  int tag = 5;
  if (n == 1) {
    members = {0};
  } else if (r != 0 && r != n - 1) {
    members.clear();
    for (int k = 1; k < n - 1; ++k) members.push_back(k);
    tag = 6;
  }
  MpiComm sub = world.subgroup(members, tag);
  auto dp = strata::cluster::make_data_parallel_group(sub, torch::kCPU);
  torch::Tensor t = torch::full({3}, r, torch::kLong);
  dp->allreduce_sum(t);
  json j;
  j["members"] = members;
  j["rank"] = sub.rank();
  j["size"] = sub.size();
  j["backend"] = dp->backend();
  j["sum_of_world_ranks"] = t[2].item<std::int64_t>();
  world.barrier();
  return j;
}

// Every rank sends a large payload to the next rank while the previous one sends to it:
// all ranks are inside send_message at once (a ring; to itself on one rank).
json check_ring(MpiComm& world, const Options& o) {
  world.set_chunk_bytes(o.chunk_bytes);
  const int next = (world.rank() + 1) % world.size();
  const int prev = (world.rank() + world.size() - 1) % world.size();
  const std::string mine = payload_of(world.rank(), payload_size_of(world.rank(), o.payload_bytes));
  world.send_message(next, 11, mine);
  const auto m = world.recv(prev, 11);
  world.set_chunk_bytes(strata::cluster::kDefaultChunkBytes);
  json j;
  j["from"] = m.source;
  j["tag"] = m.tag;
  j["size"] = m.bytes.size();
  j["sha256"] = strata::sha256_hex(m.bytes);
  return j;
}

// Rank 0 takes one message from each other rank in whatever order they come, then a
// sequence of mixed small and chunked messages from rank 1 that must keep their order.
json check_any_source(MpiComm& world) {
  constexpr int kHello = 21;
  constexpr int kSequence = 22;
  constexpr int kSequenceLength = 6;
  world.set_chunk_bytes(1024);
  json j;
  if (world.rank() != 0) {
    world.send_message(0, kHello, std::to_string(world.rank()));
    if (world.rank() == 1)
      for (int i = 0; i < kSequenceLength; ++i)
        world.send_message(0, kSequence, std::string(i % 2 ? 5000 + i : 3 + i, static_cast<char>('a' + i)));
  } else {
    // Nothing was sent with this tag: a timed wait must come back empty.
    j["timed_out_empty"] = !world.recv_for(std::chrono::milliseconds(20), kAnySource, 99).has_value();
    std::vector<int> sources;
    bool payload_names_source = true;
    for (int i = 1; i < world.size(); ++i) {
      const auto m = world.recv(kAnySource, kHello);
      sources.push_back(m.source);
      payload_names_source = payload_names_source && m.bytes == std::to_string(m.source);
    }
    j["hello_sources"] = sources;
    j["hello_payload_names_source"] = payload_names_source;
    std::vector<std::size_t> sizes;
    bool contents_in_order = true;
    if (world.size() > 1) {
      for (int i = 0; i < kSequenceLength; ++i) {
        const auto m = world.recv(1, kAnyTag);
        sizes.push_back(m.bytes.size());
        contents_in_order = contents_in_order && m.tag == kSequence &&
                            m.bytes == std::string(m.bytes.size(), static_cast<char>('a' + i));
      }
    }
    j["sequence_sizes"] = sizes;
    j["sequence_in_order"] = contents_in_order;
    j["nothing_left"] = !world.try_recv().has_value();
  }
  world.set_chunk_bytes(strata::cluster::kDefaultChunkBytes);
  world.barrier();
  return j;
}

// Rank 0 and rank 1 exchange one-byte messages: the round trip when both wait for each
// other, and the round trip when rank 1 works 2 ms before each reply (rank 0's receive has
// then gone from spinning to sleeping, as a coordinator's does while a job runs).
int pingpong(int count, long spin_us) {
  using clock = std::chrono::steady_clock;
  strata::cluster::MpiEnvironment env;
  MpiComm& world = env.world();
  if (spin_us >= 0) world.set_wait_policy({std::chrono::microseconds(spin_us), world.wait_policy().max_sleep});
  if (world.size() < 2) throw std::invalid_argument("--pingpong needs at least 2 ranks");
  const auto work = std::chrono::milliseconds(2);
  json j;
  for (const bool busy : {false, true}) {
    world.barrier();
    const auto start = clock::now();
    for (int i = 0; i < count; ++i) {
      if (world.rank() == 0) {
        world.send_message(1, 1, "x");
        world.recv(1, 2);
      } else if (world.rank() == 1) {
        world.recv(0, 1);
        if (busy) std::this_thread::sleep_for(work);
        world.send_message(0, 2, "y");
      }
    }
    const double us = std::chrono::duration<double, std::micro>(clock::now() - start).count() / count;
    j[busy ? "round_trip_us_with_2ms_work" : "round_trip_us"] = us;
  }
  if (world.rank() == 0) std::printf("%s\n", j.dump().c_str());
  world.barrier();
  return 0;
}

int run(const Options& o) {
  strata::cluster::MpiEnvironment env;
  MpiComm& world = env.world();
  json j;
  j["rank"] = world.rank();
  j["size"] = world.size();
  j["local_rank"] = world.local_rank();
  j["local_size"] = world.local_size();
  j["max_tag"] = world.max_tag();
  j["launched_under_mpi"] = strata::cluster::MpiEnvironment::launched_under_mpi();
  j["allreduce"] = check_allreduce(world, o.seed);
  j["broadcast"] = check_broadcast(world);
  j["split"] = check_split(world);
  j["subgroup"] = check_subgroup(world);
  j["ring"] = check_ring(world, o);
  j["any_source"] = check_any_source(world);
  std::filesystem::create_directories(o.out);
  std::ofstream(o.out / ("rank" + std::to_string(world.rank()) + ".json")) << j.dump() << '\n';
  world.barrier();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    if (o.launch_check) {
      std::printf("%s\n", json{{"launched_under_mpi", strata::cluster::MpiEnvironment::launched_under_mpi()},
                               {"built_with_mpi", strata::cluster::built_with_mpi()}}
                              .dump()
                              .c_str());
      return 0;
    }
    if (o.pingpong > 0) return pingpong(o.pingpong, o.spin_us);
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cluster_selftest: %s\n", e.what());
    return 1;
  }
}
