// Numbers and text (core/text.*): round trips and minimality of format_double checked against the C
// library's correctly rounded printf/strtod, the strict number grammar against an independent regular
// expression, percent coding on arbitrary bytes, and short numbers against printf's %g.
//
// Sections
//   1. Helpers (random doubles, significant digits of a decimal)
//   2. format_double: known forms, exact round trips, shortest form, link syntax
//   3. Strict number syntax
//   4. Short numbers for messages and the screen
//   5. URL percent coding
//   6. UTF-8 check
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
// GCC 12 warns falsely inside <regex> (its std::function moves) at -O2 without -march (GCC bug 105562).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <string>
#include <vector>

#include "core/bits.h"
#include "core/text.h"

using namespace fs;

namespace {

// --- 1. Helpers -----------------------------------------------------------------------------------

using Bits = std::uint64_t;

double read_back(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

bool same_double(double a, double b) { return bits_of(a) == bits_of(b); }

// Doubles of every kind: random bit patterns (all exponents), subnormals, and values near the ends of
// the range and of binades (where the rounding interval is lopsided). mt19937_64's output is fixed by
// the standard, so the sample is the same on every platform.
std::vector<double> sample_doubles(int random_count) {
  std::mt19937_64 bits(20240611);
  std::vector<double> xs;
  for (int i = 0; i < random_count; ++i) {
    const double x = double_from_bits(Bits{bits()});
    if (std::isfinite(x)) xs.push_back(x);
  }
  for (int i = 0; i < random_count / 10; ++i) {
    const Bits mantissa = bits() & ((Bits{1} << 52) - 1);
    xs.push_back(double_from_bits(mantissa | (bits() & (Bits{1} << 63))));  // subnormal (or zero)
  }
  for (double x : {0.0, -0.0, DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX, DBL_TRUE_MIN, -DBL_TRUE_MIN, DBL_EPSILON, 1.0, -1.0, 0.1, 0.2,
                   0.3, 1e23, 5e-324, 9007199254740993.0, 2.2250738585072009e-308})
    xs.push_back(x);
  for (int e = -1074; e <= 1023; e += 7) {
    const double p = std::ldexp(1.0, e);
    xs.push_back(p);
    xs.push_back(std::nextafter(p, 0.0));
    xs.push_back(std::nextafter(p, INFINITY));
  }
  return xs;
}

// Significant digits of a decimal written by format_double ("-0.00120" -> 2, "1.5e-7" -> 2).
int significant_digits(const std::string& text) {
  std::string digits;
  for (char c : text.substr(0, text.find('e')))
    if (c >= '0' && c <= '9') digits += c;
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  return static_cast<int>(digits.find_last_not_of('0') - first + 1);
}

// A normal power of two above DBL_MIN: the doubles below it are twice as close as those above, so its
// rounding interval is lopsided.
bool lopsided(double x) {
  const Bits bits = bits_of(std::fabs(x));
  return (bits & ((Bits{1} << 52) - 1)) == 0 && (bits >> 52) > 1 && std::isfinite(x);
}

// Every decimal with `k` significant digits that could read back to x > 0: the correctly rounded one [1]
// (printf %.*e is exact in glibc and musl) and its two neighbours, with the 9.99...9 below a power of ten.
std::vector<std::string> nearest_decimals(double x, int k) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*e", k - 1, x);
  const std::string text(buffer);
  const std::size_t e = text.find('e');
  std::string mantissa_digits;
  for (char c : text.substr(0, e))
    if (c != '.') mantissa_digits += c;
  const long long mantissa = std::stoll(mantissa_digits);
  const int exponent = std::stoi(text.substr(e + 1)) - (k - 1);
  long long power = 1;
  for (int i = 0; i < k; ++i) power *= 10;
  std::vector<std::string> out;
  for (long long m : {mantissa - 1, mantissa, mantissa + 1}) out.push_back(std::to_string(m) + "e" + std::to_string(exponent));
  if (mantissa == power / 10) out.push_back(std::to_string(power - 1) + "e" + std::to_string(exponent - 1));
  return out;
}

}  // namespace

// --- 2. format_double -----------------------------------------------------------------------------

TEST_CASE("format_double: short text without '+' or padded exponents") {
  CHECK(format_double(0.1) == "0.1");
  CHECK(format_double(1.5) == "1.5");
  CHECK(format_double(1.0) == "1");
  CHECK(format_double(2.5051272) == "2.5051272");
  CHECK(format_double(1e-300) == "1e-300");
  CHECK(format_double(1e300) == "1e300");
  CHECK(format_double(1e-5) == "1e-5");
  CHECK(format_double(3.141592653589793) == "3.141592653589793");
  CHECK(format_double(1.0 / 3.0) == "0.3333333333333333");
  CHECK(format_double(-0.0) == "-0");
  CHECK(format_double(1e-7) == "1e-7");
  CHECK(format_double(DBL_TRUE_MIN) == "5e-324");
  CHECK(format_double(DBL_MAX) == "1.7976931348623157e308");
  CHECK(format_double(INFINITY) == "inf");
  CHECK(format_double(-INFINITY) == "-inf");
  CHECK(format_double(std::nan("")) == "nan");
}

TEST_CASE("format_double reads back to the same double, bit for bit, for every kind of double") {
  const std::vector<double> xs = sample_doubles(30000);
  REQUIRE(xs.size() > 29000);
  int failures = 0;
  for (double x : xs) {
    const std::string text = format_double(x);
    double parsed = std::nan("");
    const bool ok = same_double(read_back(text), x) && parse_finite(text, parsed) == NumberParse::ok && same_double(parsed, x);
    if (!ok && ++failures <= 5) FAIL_CHECK("bits " << bits_of(x) << " -> " << text);
  }
  CHECK(failures == 0);
}

TEST_CASE("format_double is shortest: no decimal with fewer significant digits reads back to the same double") {
  const std::vector<double> xs = sample_doubles(4000);
  int checked = 0, failures = 0;
  for (double x : xs) {
    if (x == 0) continue;
    const std::string text = format_double(x);
    const int n = significant_digits(text);
    REQUIRE(n >= 1);
    REQUIRE(n <= 17);
    const double magnitude = std::fabs(x);
    // The correctly rounded decimal of every shorter length misses x (this is how it is searched for).
    for (int k = 1; k < n; ++k)
      if (read_back(nearest_decimals(magnitude, k)[1]) == magnitude && ++failures <= 5)
        FAIL_CHECK(text << " is not the shortest correctly rounded decimal: " << k << " digits suffice");
    // And so does every other decimal of n - 1 digits, except at a lopsided power of two (next case).
    if (n > 1 && !lopsided(x))
      for (const std::string& shorter : nearest_decimals(magnitude, n - 1))
        if (read_back(shorter) == magnitude && ++failures <= 5)
          FAIL_CHECK(text << " is not shortest: " << shorter << " reads back too");
    ++checked;
  }
  CHECK(failures == 0);
  CHECK(checked > 3000);
}

// Known and kept: at a power of two the nearest shorter decimal can fall in the narrow lower half of the
// rounding interval while a farther one above still reads back. format_double searches correctly rounded
// decimals only, so it writes one digit more there than a true shortest (Steele-White/Gay) printer would.
// Links and CSV already carry this text, so it stays byte for byte.
TEST_CASE("format_double at powers of two: the shortest correctly rounded decimal, not always the shortest") {
  const double x = std::ldexp(1.0, -24);
  CHECK(format_double(x) == "5.9604644775390625e-8");
  CHECK(read_back("5.960464477539063e-8") == x);  // 16 digits, 0.5e-23 above: inside the wide upper half
  CHECK(read_back("5.960464477539062e-8") != x);  // the nearest 16-digit decimal, below: outside the narrow half
}

TEST_CASE("format_double writes the strict syntax the link reader accepts, without '+' or padded exponents") {
  const std::regex written("-?[0-9]+(\\.[0-9]+)?(e-?[1-9][0-9]*)?");
  for (double x : sample_doubles(5000)) {
    const std::string text = format_double(x);
    CHECK_MESSAGE(std::regex_match(text, written), text);
    CHECK(decimal_syntax(text));
  }
}

// --- 3. Strict number syntax ---------------------------------------------------------------------

TEST_CASE("parse_finite refuses everything that is not a plain finite decimal") {
  for (const char* text :
       {"",      "+",   "-",     ".",     "e5",    "1e",  "1e+", "1E-",   " 1",    "1 ",       "\t1", "1\n", "0x10",
        "0X1p3", "1,5", "1.5.5", "1e5.5", "1e1e1", "--1", "+-1", "1_000", "1'000", "\xd9\xa1", "1f",  "1d",  "one"}) {
    double v = 42;
    CHECK_MESSAGE(parse_finite(text, v) == NumberParse::not_a_number, '"' << text << '"');
    CHECK(v == 42);  // untouched
  }
  for (const char* text :
       {"nan", "NaN", "-nan", "inf", "-inf", "+INF", "infinity", "-Infinity", "1e309", "-1e999", "1.7976931348623159e308"}) {
    double v = 42;
    CHECK_MESSAGE(parse_finite(text, v) == NumberParse::not_finite, '"' << text << '"');
    CHECK(v == 42);
  }
  const std::string long_zero = "0." + std::string(398, '0');  // 400 characters: accepted
  double v = 1;
  CHECK(parse_finite(long_zero, v) == NumberParse::ok);
  CHECK(v == 0);
  CHECK(parse_finite(long_zero + "1", v) == NumberParse::not_a_number);  // 401: refused before strtod
}

TEST_CASE("parse_finite accepts decimals in all their forms, underflow included") {
  const std::pair<const char*, double> cases[] = {
      {"1", 1},
      {"-1.5", -1.5},
      {"+3", 3},
      {".5", 0.5},
      {"5.", 5},
      {"1e5", 1e5},
      {"1E-5", 1e-5},
      {"2e+3", 2000},
      {"007", 7},
      {"-0", -0.0},
      {"1e-400", 0},
      {"-1e-400", -0.0},
      {"1.7976931348623157e308", DBL_MAX},
      {"4.9406564584124654e-324", DBL_TRUE_MIN},
  };
  for (const auto& test_case : cases) {
    const auto& text = test_case.first;  // a named copy: clang 14 cannot capture structured bindings
    const double expected = test_case.second;
    double v = 42;
    CHECK_MESSAGE(parse_finite(text, v) == NumberParse::ok, text);
    CHECK_MESSAGE(same_double(v, expected), text);
  }
}

TEST_CASE("decimal_syntax agrees with an independent grammar on random strings") {
  // The grammar of core/text.h written as a regular expression.
  const std::regex decimal("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?");
  const std::string alphabet = "0123456789011.eE+-- x,";
  std::mt19937_64 rng(7);
  int accepted = 0;
  for (int i = 0; i < 40000; ++i) {
    std::string s;
    for (int length = static_cast<int>(rng() % 9), k = 0; k < length; ++k) s += alphabet[rng() % alphabet.size()];
    const bool expected = std::regex_match(s, decimal);
    CHECK_MESSAGE(decimal_syntax(s) == expected, '"' << s << '"');
    accepted += expected;
    double v = 0;
    if (expected && parse_finite(s, v) == NumberParse::ok) CHECK(same_double(v, read_back(s)));
  }
  CHECK(accepted > 1000);  // the sample reaches both sides
}

TEST_CASE("parse_int64 and parse_uint64: plain decimal integers within their stated sizes") {
  std::int64_t i = 0;
  CHECK((parse_int64("123", i) && i == 123));
  CHECK((parse_int64("-45", i) && i == -45));
  CHECK((parse_int64("+6", i) && i == 6));
  CHECK((parse_int64("999999999999999999", i) && i == 999999999999999999));  // 18 digits
  CHECK((parse_int64("-999999999999999999", i) && i == -999999999999999999));
  i = 7;
  for (const char* text : {"", "+", "-", "1.0", "1e3", " 1", "1 ", "0x1", "--1", "1000000000000000000", "\xd9\xa1"}) {
    CHECK_MESSAGE(!parse_int64(text, i), '"' << text << '"');
    CHECK(i == 7);
  }
  std::uint64_t u = 0;
  CHECK((parse_uint64("18446744073709551615", u) && u == UINT64_MAX));
  CHECK((parse_uint64("00000000000000000001", u) && u == 1));
  u = 7;
  for (const char* text :
       {"", "18446744073709551616", "99999999999999999999", "000000000000000000001", "+1", "-1", "1.0", " 1"}) {
    CHECK_MESSAGE(!parse_uint64(text, u), '"' << text << '"');
    CHECK(u == 7);
  }

  std::mt19937_64 rng(11);
  for (int k = 0; k < 2000; ++k) {
    const std::uint64_t r = rng();
    CHECK((parse_uint64(std::to_string(r), u) && u == r));
    const std::int64_t s = static_cast<std::int64_t>(r % 1999999999999999999ull) - 999999999999999999;
    CHECK((parse_int64(std::to_string(s), i) && i == s));
  }
}

// --- 4. Short numbers for messages and the screen --------------------------------------------------

TEST_CASE("short numbers: the text of the status messages") {
  CHECK(short_number(1.49e100) == "1.49e+100");
  CHECK(short_number(1024) == "1024");
  CHECK(short_number(4106.53) == "4107");
  CHECK(short_number(256313.0) == "2.563e+05");
  CHECK(short_number(1e4) == "1e+04");
  CHECK(short_number(0.000123456) == "0.0001235");
  CHECK(short_number(INFINITY) == "inf");
  CHECK(six_digit_number(1 / 0.545) == "1.83486");
  CHECK(six_digit_number(2) == "2");
  CHECK(six_digit_number(7.123456789012) == "7.12346");
  CHECK(significant_number(1.23456789012345, 10) == "1.23456789");
  CHECK(significant_number(5.65e-12, 3) == "5.65e-12");
}

TEST_CASE("short numbers: printf's %g, at most the stated digits, within half a unit of the last") {
  std::mt19937_64 rng(3);
  for (int k = 0; k < 20000; ++k) {
    const double magnitude = std::pow(10.0, -30.0 + 60.0 * double(rng() >> 11) * 0x1p-53);
    const double v = (rng() & 1) ? -magnitude : magnitude;
    for (int digits : {3, 4, 6, 10}) {
      const std::string text = significant_number(v, digits);
      char expected[64];
      std::snprintf(expected, sizeof expected, "%.*g", digits, v);
      CHECK(text == expected);
      std::string significant;
      for (char c : text.substr(0, text.find('e')))
        if (c >= '0' && c <= '9') significant += c;
      significant = significant.substr(std::min(significant.size(), significant.find_first_not_of('0')));
      CHECK(significant.size() <= static_cast<std::size_t>(digits));
      CHECK(std::fabs(read_back(text) - v) <= 0.5 * std::pow(10.0, 1 - digits) * std::fabs(v) * (1 + 1e-12));
    }
    CHECK(short_number(v) == significant_number(v, 4));
    CHECK(six_digit_number(v) == significant_number(v, 6));
  }
}

TEST_CASE("format_number: a printf format, never 'nan' or 'inf' on screen") {
  CHECK(format_number(1234.5, "%.3g") == "1.23e+03");
  CHECK(format_number(0.25, "%.2g MiB") == "0.25 MiB");
  CHECK(format_number(0.5, "%.4f") == "0.5000");
  CHECK(format_number(INFINITY, "%.3g") == "∞");
  CHECK(format_number(-INFINITY, "%.3g") == "-∞");
  CHECK(format_number(std::nan(""), "%.3g") == "n/a");
  CHECK(format_number(-std::nan(""), "%.3g") == "n/a");
}

// --- 5. URL percent coding -------------------------------------------------------------------------

TEST_CASE("percent coding round-trips arbitrary bytes, and encoded text never splits a query") {
  std::vector<std::string> texts = {"", "&=#%+;", "a b", "σ_w² → ∞ 😀", "dir://x?y#z", "%41", "1e+5", "1,2;3,4", "data/x.csv"};
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  texts.push_back(all_bytes);
  std::mt19937_64 rng(5);
  for (int k = 0; k < 2000; ++k) {
    std::string s;
    for (int length = static_cast<int>(rng() % 24), i = 0; i < length; ++i) s += static_cast<char>(rng() & 255);
    texts.push_back(s);
  }
  auto escapes_well_formed = [](const std::string& encoded) {
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      if (encoded[i] != '%') continue;
      if (i + 2 >= encoded.size() || !std::isxdigit(static_cast<unsigned char>(encoded[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(encoded[i + 2])) ||
          std::islower(static_cast<unsigned char>(encoded[i + 1])) || std::islower(static_cast<unsigned char>(encoded[i + 2])))
        return false;
      i += 2;
    }
    return true;
  };
  for (const std::string& text : texts) {
    for (const std::string& encoded : {percent_encode(text), percent_encode_opaque(text)}) {
      std::string decoded;
      CHECK(percent_decode(encoded, decoded));
      CHECK(decoded == text);
      CHECK(encoded.find_first_of("&=#? \"<>\\") == std::string::npos);
      CHECK(escapes_well_formed(encoded));
      CHECK(std::all_of(encoded.begin(), encoded.end(), [](char c) { return c > 0x20 && c < 0x7f; }));  // printable ASCII
    }
    const std::string opaque = percent_encode_opaque(text);
    CHECK(opaque.find_first_of(":/") == std::string::npos);  // never "://", which would read as a URL
  }
  // Each keeps its separators readable.
  CHECK(percent_encode("1,2;3,4") == "1,2;3,4");
  CHECK(percent_encode("data/x.csv") == "data/x.csv");
  CHECK(percent_encode("a:b") == "a:b");
  CHECK(percent_encode("1e+5") == "1e%2B5");
  CHECK(percent_encode_opaque("1e+5") == "1e+5");
  CHECK(percent_encode_opaque("dir://x") == "dir%3A%2F%2Fx");
  CHECK(percent_encode("a b&c") == "a%20b%26c");
  CHECK(percent_encode("é") == "%C3%A9");
}

TEST_CASE("percent_decode: either case of hex, '+' is a plus, malformed escapes are refused") {
  std::string out;
  CHECK((percent_decode("%2b%2B+", out) && out == "+++"));
  CHECK((percent_decode("%e2%88%9E", out) && out == "∞"));
  CHECK((percent_decode("%00", out) && out == std::string(1, '\0')));
  for (const char* text : {"%", "%4", "a%", "%zz", "%4g", "%g4", "%%41", "100%"}) CHECK_MESSAGE(!percent_decode(text, out), text);
}

// --- 6. UTF-8 check --------------------------------------------------------------------------------

TEST_CASE("valid_utf8_without_controls: well-formed UTF-8 text only") {
  for (const char* text : {"", "plain ASCII ~", "é", "€", "😀", "σ_w² ∞", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"})
    CHECK_MESSAGE(valid_utf8_without_controls(text), text);
  for (const char* text : {"\x01", "a\tb", "a\nb", "\x7f", "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
                           "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xe2\x28\xa1", "\xff"})
    CHECK_MESSAGE(!valid_utf8_without_controls(text), text);
  CHECK(!valid_utf8_without_controls(std::string_view("a\0b", 3)));
}

TEST_CASE("names of enums: a list in enum order, looked up both ways") {
  enum class Colour { red, green, blue };
  const std::vector<std::string> names{"red", "green", "blue"};
  CHECK(name_index("green", names) == 1);
  CHECK(name_index("Green", names) == -1);
  CHECK(name_index("", names) == -1);
  CHECK(std::string(enum_name(Colour::blue, names)) == "blue");
  CHECK(std::string(enum_name(static_cast<Colour>(7), names)) == "?");
  CHECK(enum_from_name<Colour>("red", names) == Colour::red);
  CHECK_FALSE(enum_from_name<Colour>("purple", names).has_value());
}
