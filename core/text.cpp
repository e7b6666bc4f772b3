// Numbers and text (core/text.h).
//
// Sections
//   1. Shortest round-trip decimals
//   2. Strict number syntax
//   3. Short numbers for messages and the screen
//   4. URL percent coding
//   5. Text checks
#include "core/text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace fs {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

// --- 1. Shortest round-trip decimals ---------------------------------------------------------------

std::string format_double(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;  // %.17g always reads back exactly
  }
  // "1e+300" -> "1e300", "1e-05" -> "1e-5": shorter, and no '+' (a space in form encoding).
  std::string text(buffer);
  const std::size_t e = text.find('e');
  if (e == std::string::npos) return text;
  std::string mantissa = text.substr(0, e), exponent = text.substr(e + 1);
  std::string sign;
  if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
    if (exponent[0] == '-') sign = "-";
    exponent.erase(0, 1);
  }
  while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
  return mantissa + "e" + sign + exponent;
}

// --- 2. Strict number syntax -----------------------------------------------------------------------

bool decimal_syntax(std::string_view s) {
  std::size_t i = 0, digits = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exponent_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  return i == s.size();
}

namespace {
// "nan", "inf", "infinity" in any case with an optional sign: told apart from other non-numbers so that
// a message can say "not a finite number".
bool looks_non_finite(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  std::string lower;
  for (char c : s.substr(0, 16)) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower == "nan" || lower == "inf" || lower == "infinity";
}
}  // namespace

NumberParse parse_finite(std::string_view s, double& value) {
  constexpr std::size_t kMaxChars = 400;
  if (looks_non_finite(s)) return NumberParse::not_finite;
  if (s.size() > kMaxChars || !decimal_syntax(s)) return NumberParse::not_a_number;
  const std::string copy(s);
  const double v = std::strtod(copy.c_str(), nullptr);
  if (!std::isfinite(v)) return NumberParse::not_finite;  // e.g. 1e999
  value = v;
  return NumberParse::ok;
}

bool parse_int64(std::string_view s, std::int64_t& value) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) return false;  // 18 digits cannot overflow
  std::int64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  value = negative ? -v : v;
  return true;
}

bool parse_uint64(std::string_view s, std::uint64_t& value) {
  if (s.empty() || s.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  value = v;
  return true;
}

// --- 3. Short numbers for messages and the screen ----------------------------------------------------

// An ostream, not snprintf: the messages these numbers appear in were written with streams, and this
// keeps their text to the byte.
std::string significant_number(double v, int digits) {
  std::ostringstream os;
  os.precision(digits);
  os << v;
  return os.str();
}

std::string short_number(double v) { return significant_number(v, 4); }

std::string six_digit_number(double v) { return significant_number(v, 6); }

std::string format_number(double v, const char* printf_format) {
  if (std::isinf(v)) return v > 0 ? "∞" : "-∞";
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

// --- 4. URL percent coding -------------------------------------------------------------------------

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Keeps the unreserved characters of RFC 3986 and the bytes of `also_kept`; escapes the rest.
std::string percent_encode_keeping(std::string_view in, std::string_view also_kept) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    const unsigned char c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                      c == '_' || c == '~' || also_kept.find(ch) != std::string_view::npos;
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string percent_encode(std::string_view in) { return percent_encode_keeping(in, ",;:/"); }

std::string percent_encode_opaque(std::string_view in) { return percent_encode_keeping(in, ",;+"); }

// --- 5. Text checks --------------------------------------------------------------------------------

bool valid_utf8_without_controls(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    const int extra = (c >= 0xc2 && c <= 0xdf) ? 1 : (c >= 0xe0 && c <= 0xef) ? 2 : (c >= 0xf0 && c <= 0xf4) ? 3 : -1;
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) return false;
    for (int k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0xc0) != 0x80) return false;
    const unsigned char next = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xe0 && next < 0xa0) || (c == 0xed && next > 0x9f) || (c == 0xf0 && next < 0x90) || (c == 0xf4 && next > 0x8f))
      return false;  // overlong, surrogate, beyond U+10FFFF
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

// --- 6. Names of enums -------------------------------------------------------------------------------

int name_index(std::string_view name, const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return -1;
}

}  // namespace fs
