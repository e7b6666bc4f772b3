// Inputs (core/inputs.*): points on a circle, Gaussian inputs (determinism across platforms and
// statistics), explicit points and sequences, CSV files.
//
// Sections
//   1. Circle, gaussian and explicit points
//   2. CSV files
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/inputs.h"
#include "core/text.h"

// The reference Philox (Random123) compiles only for the CPUs its feature headers know (not wasm32);
// natively it checks the generator written out in core/inputs.cpp.
#if defined(__x86_64__) || defined(__aarch64__)
#define FS_HAVE_RANDOM123 1
#define R123_USE_SSE 0  // its SSE helpers throw; tests also build without exceptions
#if !defined(__cpp_exceptions)
#define R123_THROW(x) std::abort()
#endif
#include <Random123/philox.h>
#endif

using namespace fs;

namespace {
std::uint64_t to_bits(double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, sizeof d);
  return bits;
}
}  // namespace

// --- 1. Circle, gaussian and explicit points ----------------------------------------------------------

TEST_CASE("circle inputs: G_ab = r^2 cos(theta_a - theta_b)") {
  for (int count : {1, 2, 8, 33})
    for (double radius : {0.5, 1.0, 3.0})
      for (double span : {3.141592653589793, 6.283185307179586, 1.0}) {
        InputsSpec spec;
        spec.count = count;
        spec.radius = radius;
        spec.angle_span = span;
        const InputsResult r = make_inputs(spec, 1);
        REQUIRE(r.status.ok());
        REQUIRE(r.inputs.count == count);
        REQUIRE(r.inputs.dim == 2);
        const Eigen::MatrixXd g = r.inputs.gram();
        for (int a = 0; a < count; ++a)
          for (int b = 0; b < count; ++b) {
            const double ta = count == 1 ? 0.0 : a * span / (count - 1);
            const double tb = count == 1 ? 0.0 : b * span / (count - 1);
            CHECK(std::abs(g(a, b) - radius * radius * std::cos(ta - tb)) < 1e-14 * std::max(1.0, radius * radius));
          }
      }
  InputsSpec spec;
  spec.count = 1;
  const InputsResult one = make_inputs(spec, 1);
  CHECK(one.inputs.x[0](0, 0) == std::sqrt(2.0));  // theta = 0
  CHECK(one.inputs.x[0](0, 1) == 0.0);
}

TEST_CASE("gaussian inputs are deterministic per seed, and identical on every platform") {
  InputsSpec spec;
  spec.kind = InputKind::gaussian;
  spec.count = 6;
  spec.dim = 7;
  spec.steps = 3;
  const InputsResult a = make_inputs(spec, 12345), b = make_inputs(spec, 12345), c = make_inputs(spec, 12346);
  REQUIRE(a.status.ok());
  REQUIRE(a.inputs.steps() == 3);
  bool differs = false;
  for (int t = 0; t < 3; ++t) {
    REQUIRE(a.inputs.x[t].rows() == 6);
    REQUIRE(a.inputs.x[t].cols() == 7);
    CHECK(std::memcmp(a.inputs.x[t].data(), b.inputs.x[t].data(), sizeof(double) * 42) == 0);
    differs = differs || std::memcmp(a.inputs.x[t].data(), c.inputs.x[t].data(), sizeof(double) * 42) != 0;
  }
  CHECK(differs);
  CHECK(a.inputs.x[0] != a.inputs.x[1]);  // steps are fresh draws

  // One stream per (input, step, coordinate): more inputs or dimensions keep the existing numbers.
  InputsSpec bigger = spec;
  bigger.count = 9;
  bigger.dim = 12;
  const InputsResult big = make_inputs(bigger, 12345);
  for (int t = 0; t < 3; ++t) CHECK(big.inputs.x[t].topLeftCorner(6, 7) == a.inputs.x[t]);

  // Golden bits: the same values natively and in wasm (only IEEE +, -, *, /, sqrt are used).
  InputsSpec golden;
  golden.kind = InputKind::gaussian;
  golden.count = 1;
  golden.dim = 4;
  golden.radius = 1.0;
  const InputsResult g = make_inputs(golden, 1);
  // -0.5914307261089372, -1.7639127452518342, -0.43524249941293197, 0.8115202159421181
  const std::uint64_t expected[4] = {13826874390795491567ull, 13833994812809652949ull, 13824884288605369263ull,
                                     4605484743829517511ull};
  for (int i = 0; i < 4; ++i) {
    INFO("coordinate " << i << " = " << format_double(g.inputs.x[0](0, i)) << " bits " << to_bits(g.inputs.x[0](0, i)));
    CHECK(to_bits(g.inputs.x[0](0, i)) == expected[i]);
  }
}

#if FS_HAVE_RANDOM123
TEST_CASE("gaussian inputs = Random123 Philox4x64 + textbook Box-Muller (libm) to a few ulp") {
  // make_inputs: counter (a, t, coordinate / 4, 0), key (seed, "inputs"),
  // pairs (u, v) -> sqrt(-2 log u) (cos, sin)(2 pi v).
  InputsSpec spec;
  spec.kind = InputKind::gaussian;
  spec.count = 5;
  spec.dim = 11;
  spec.steps = 2;
  spec.radius = 1.0;
  for (std::uint64_t seed : {0ull, 1ull, 987654321ull, 0xffffffffffffffffull}) {
    const InputsResult r = make_inputs(spec, seed);
    REQUIRE(r.status.ok());
    r123::Philox4x64 philox;
    double worst = 0.0;
    for (int t = 0; t < 2; ++t)
      for (int a = 0; a < 5; ++a)
        for (int i = 0; i < 11; ++i) {
          const r123::Philox4x64::ctr_type counter = {{std::uint64_t(a), std::uint64_t(t), std::uint64_t(i / 4), 0}};
          const r123::Philox4x64::key_type key = {{seed, 0x696e70757473ull}};
          const r123::Philox4x64::ctr_type bits = philox(counter, key);
          const int pair = (i % 4) / 2;
          const double u = static_cast<double>((bits.v[2 * pair] >> 11) + 1) * 0x1p-53;
          const double v = static_cast<double>(bits.v[2 * pair + 1] >> 11) * 0x1p-53;
          const double angle = 2.0 * 3.141592653589793 * v;
          const double z = std::sqrt(-2.0 * std::log(u)) * (i % 2 == 0 ? std::cos(angle) : std::sin(angle));
          worst = std::max(worst, std::abs(r.inputs.x[t](a, i) - z));
        }
    CHECK(worst < 1e-14);
  }
}
#endif

TEST_CASE("gaussian inputs: N(0, r^2) moments within 4 standard errors") {
  InputsSpec spec;
  spec.kind = InputKind::gaussian;
  spec.count = 25;
  spec.dim = 4000;
  spec.radius = 1.0;
  const InputsResult r = make_inputs(spec, 2024);
  REQUIRE(r.status.ok());
  const Eigen::MatrixXd& x = r.inputs.x[0];
  const double n = static_cast<double>(x.size());
  double m1 = 0, m2 = 0, m4 = 0, lag = 0, tail = 0;
  const double* z = x.data();
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    m1 += z[i];
    m2 += z[i] * z[i];
    m4 += z[i] * z[i] * z[i] * z[i];
    if (i > 0) lag += z[i] * z[i - 1];
    if (std::abs(z[i]) > 3.0) tail += 1;
  }
  m1 /= n, m2 /= n, m4 /= n, lag /= n - 1, tail /= n;
  CHECK(std::abs(m1) < 4.0 / std::sqrt(n));                         // SE of the mean: 1/sqrt(n)
  CHECK(std::abs(m2 - 1.0) < 4.0 * std::sqrt(2.0 / n));             // SE of E z^2: sqrt((3 - 1)/n)
  CHECK(std::abs(m4 - 3.0) < 4.0 * std::sqrt(96.0 / n));            // SE of E z^4: sqrt((105 - 9)/n)
  CHECK(std::abs(lag) < 4.0 / std::sqrt(n));                        // neighbours independent
  const double p3 = 0.0026997960632601866;                          // P(|z| > 3)
  CHECK(std::abs(tail - p3) < 4.0 * std::sqrt(p3 * (1 - p3) / n));  // the tails (log accuracy)

  // E[G_aa] = r^2 for another radius.
  spec.radius = 2.0;
  spec.count = 200;
  spec.dim = 500;
  const InputsResult wide = make_inputs(spec, 3);
  const double mean_diag = wide.inputs.gram().diagonal().mean();
  CHECK(std::abs(mean_diag - 4.0) < 4.0 * 4.0 * std::sqrt(2.0 / (200.0 * 500.0)));
}

TEST_CASE("explicit points: rows split into steps; cross-time Gram") {
  InputsSpec spec;
  spec.kind = InputKind::points;
  spec.steps = 2;
  spec.points = {{1, 2, 3, 4, 5, 6}, {0.5, -1, 2, 0, 1, -3}};
  const InputsResult r = make_inputs(spec, 1);
  REQUIRE(r.status.ok());
  CHECK(r.inputs.count == 2);
  CHECK(r.inputs.dim == 3);
  CHECK(r.inputs.steps() == 2);
  const Eigen::MatrixXd g01 = r.inputs.gram(0, 1);
  CHECK(g01(0, 0) == doctest::Approx((1 * 4 + 2 * 5 + 3 * 6) / 3.0));
  CHECK(g01(0, 1) == doctest::Approx((1 * 0 + 2 * 1 + 3 * -3) / 3.0));
  CHECK(g01(1, 0) == doctest::Approx((0.5 * 4 - 1 * 5 + 2 * 6) / 3.0));
  CHECK((r.inputs.gram(1, 0) - g01.transpose()).norm() == 0.0);

  spec.points = {{1, 2, 3, 4, 5}};
  CHECK(make_inputs(spec, 1).status.code == StatusCode::invalid_input);
  spec.points = {};
  CHECK(make_inputs(spec, 1).status.code == StatusCode::invalid_input);
  spec.points = {{1, 2}, {NAN, 1}};
  spec.steps = 1;
  CHECK(make_inputs(spec, 1).status.code == StatusCode::invalid_input);

  InputsSpec big;
  big.kind = InputKind::gaussian;
  big.count = 4096;
  big.dim = 4096;
  big.steps = 2;
  CHECK(make_inputs(big, 1).status.code == StatusCode::too_large);
  big.count = 0;
  CHECK(make_inputs(big, 1).status.code == StatusCode::invalid_input);
}

// --- 2. CSV files -------------------------------------------------------------------------------

TEST_CASE("CSV inputs: accepted shapes") {
  const auto parse = [](std::string_view text, int steps = 1) { return parse_inputs_csv(text, steps); };
  InputsResult r = parse("1,2,3\n4,5,6\n");
  REQUIRE(r.status.ok());
  CHECK(r.inputs.count == 2);
  CHECK(r.inputs.dim == 3);
  CHECK(r.inputs.x[0](1, 2) == 6.0);

  const char* same_data[] = {
      "x,y,z\n1,2,3\n4,5,6",                        // header
      "\xEF\xBB\xBFx;y;z\r\n1;2;3\r\n4;5;6\r\n",    // BOM, semicolons, CRLF
      "# inputs\n1, 2, 3,\n\n4 ,5, 6, # second\n",  // comments, trailing commas, spaces, blank line
      "1 2 3\n\t4\t5   6\n",                        // whitespace-separated
      "+1,2e0,0.3e1\n4.,.5e1,6",                    // number spellings
  };
  for (const char* text : same_data) {
    INFO(text);
    r = parse(text);
    REQUIRE(r.status.ok());
    REQUIRE(r.inputs.count == 2);
    REQUIRE(r.inputs.dim == 3);
    Eigen::MatrixXd expected(2, 3);
    expected << 1, 2, 3, 4, 5, 6;
    CHECK(r.inputs.x[0] == expected);
  }

  r = parse("1,2,3,4\n5,6,7,8", 2);  // two steps of d = 2
  REQUIRE(r.status.ok());
  CHECK(r.inputs.dim == 2);
  CHECK(r.inputs.x[1](1, 1) == 8.0);
}

TEST_CASE("CSV inputs: every malformed file is a clear status naming the place") {
  struct Case {
    std::string text;
    const char* expect;  // a fragment of the sentence
    StatusCode code = StatusCode::invalid_input;
  };
  std::string many_rows;
  for (int i = 0; i <= InputLimits::max_inputs; ++i) many_rows += "1,2\n";
  std::string wide_row;
  for (int i = 0; i <= InputLimits::max_dim; ++i) wide_row += "1,";
  const Case cases[] = {
      {"", "no data rows"},
      {"\xEF\xBB\xBF\r\n# only a comment\r\n", "no data rows"},
      {"x,y\n", "no data rows"},
      {"1,2,3\n4,5\n", "line 2 has 2 numbers, but line 1 has 3"},
      {"1,2\n3,abc\n", "line 2, column 2: \"abc\" is not a number"},
      {"1,2\n3,nan\n", "line 2, column 2: \"nan\" is not a finite number"},
      {"1,2\n-inf,3\n", "line 2, column 1: \"-inf\" is not a finite number"},
      {"1,2\n1e999,3\n", "is not a finite number"},
      {"1,,2\n", "line 1, column 2: empty cell"},
      {"x,y\na,b\n", "line 2, column 1"},
      {"1,2\n3,4\nx,y\n", "line 3, column 1"},
      {"1,2\r\n3,<script>\r\n", "\"?script?\" is not a number"},
      {many_rows, "more than 4096 rows"},
      {wide_row, "line 1 has 4097 columns"},
  };
  for (const Case& c : cases) {
    INFO("csv: " << c.text.substr(0, 80));
    const InputsResult r = parse_inputs_csv(c.text);
    CHECK(r.status.code == c.code);
    CHECK(r.status.message.find(c.expect) != std::string::npos);
    CHECK(r.inputs.count == 0);
  }
  const InputsResult steps = parse_inputs_csv("1,2,3\n", 2);
  CHECK(steps.status.message.find("do not split into 2 equal time steps") != std::string::npos);
  CHECK(parse_inputs_csv("1,2\n", 0).status.code == StatusCode::invalid_input);
}

TEST_CASE("CSV inputs through make_inputs: a file, and a missing one") {
  const std::string path = "fieldscope_test_inputs.csv";
  {
    std::ofstream file(path, std::ios::binary);
    file << "a,b\r\n1,0\r\n0,2\r\n";
  }
  InputsSpec spec;
  spec.kind = InputKind::csv;
  spec.csv_path = path;
  InputsResult r = make_inputs(spec, 1);
  std::remove(path.c_str());
  REQUIRE(r.status.ok());
  CHECK(r.inputs.count == 2);
  const Eigen::MatrixXd g = r.inputs.gram();
  CHECK(g(0, 0) == 0.5);
  CHECK(g(1, 1) == 2.0);
  CHECK(g(0, 1) == 0.0);

  spec.csv_path = "no/such/dir/inputs.csv";
  r = make_inputs(spec, 1);
  CHECK(r.status.code == StatusCode::invalid_input);
  CHECK(r.status.message.find("Could not open the CSV file \"no/such/dir/inputs.csv\"") != std::string::npos);
  spec.csv_path.clear();
  CHECK(make_inputs(spec, 1).status.code == StatusCode::invalid_input);
}
