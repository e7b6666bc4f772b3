// Numbers and text: shortest round-trip decimals, strict number syntax, short numbers for messages,
// URL percent coding. Each helper exists once, here; the scene's two text forms, the CSV readers, the
// status messages of every core job, the CLI and the explorer call it.
//
// Sections
//   1. Shortest round-trip decimals (format_double)
//   2. Strict number syntax (decimal_syntax, parse_finite, parse_int64, parse_uint64)
//   3. Short numbers for messages and the screen (significant_number, short_number, six_digit_number,
//      format_number)
//   4. URL percent coding (percent_decode, percent_encode, percent_encode_opaque)
//   5. Text checks (valid_utf8_without_controls)
//   6. Names of enums (name_index, enum_name, enum_from_name)
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fs {

// --- 1. Shortest round-trip decimals ---------------------------------------------------------------

// Short decimal text that reads back (strtod) to exactly the same double, sign of zero included:
// "0.1", "1", "1e300", "1e-5" - no '+' and no zero-padded exponent (a '+' is a space in form
// encoding). Portable: no std::to_chars. It is the shortest correctly rounded decimal (%.1g ... %.17g);
// at a power of two that can be one digit longer than the shortest decimal that reads back
// (2^-24 -> "5.9604644775390625e-8", where "5.960464477539063e-8" would do): links already carry this
// text, so it stays. "nan", "inf" and "-inf" for the non-finite values (the CLI's CSV writes them so).
// Share links, the scene's messages and the CLI's CSV go through it.
std::string format_double(double value);

// --- 2. Strict number syntax -----------------------------------------------------------------------
// Only what decimal_syntax accepts is given to strtod, so it cannot read more (or less) than was
// checked: no hex, nan, inf, spaces or locale-dependent commas.

// [+-] (digits [. digits] | . digits) [(e|E) [+-] digits], the whole text and nothing else.
bool decimal_syntax(std::string_view text);

enum class NumberParse {
  ok,
  not_a_number,  // not decimal_syntax, or longer than 400 characters
  not_finite,    // "nan", "inf", "infinity" (any case, optional sign) or an overflow such as 1e999
};

// A finite double in decimal syntax; `value` is written only when the result is ok. Underflow reads as
// the nearest double (1e-400 -> 0).
NumberParse parse_finite(std::string_view text, double& value);

// [+-] and at most 18 decimal digits (so that it cannot overflow); nothing else.
bool parse_int64(std::string_view text, std::int64_t& value);

// Decimal digits only (no sign), at most 20 and at most 2^64 - 1.
bool parse_uint64(std::string_view text, std::uint64_t& value);

// --- 3. Short numbers for messages and the screen ----------------------------------------------------
// The first three write what an std::ostream writes with that precision (printf's %g):
// "1.526e+04", "0.0001235", "1024", "inf", "nan".

// `digits` significant digits.
std::string significant_number(double v, int digits);

// 4 significant digits: sizes, budgets, parameters and diverging values in status messages.
std::string short_number(double v);

// 6 significant digits (an ostream's default precision): the critical points of criticality's
// messages, and labels quoted in GP messages.
std::string six_digit_number(double v);

// For the screen: a printf format (one double), with "∞" / "-∞" for infinities and "n/a" for NaN -
// never "nan" in front of a user.
std::string format_number(double v, const char* printf_format);

// --- 4. URL percent coding -------------------------------------------------------------------------
// Both encoders escape every byte outside their kept set as %XX (upper-case hex), so any bytes survive
// percent_decode; neither keeps '&', '=', '#', '?', '%' or a space, so a value never splits a query.

// %XX (either case of hex digit) -> that byte; every other byte, '+' included, stands for itself
// (RFC 3986: our own links never hold a literal '+'). False on a malformed escape ("%", "%4", "%zz").
bool percent_decode(std::string_view in, std::string& out);

// Share-link values: keeps A-Z a-z 0-9 - . _ ~ and the separators our values use , ; : / and escapes
// the rest (so "1,2;3,4" and "data/x.csv" stay readable in a link).
std::string percent_encode(std::string_view in);

// Values the CLI merges into a query: keeps A-Z a-z 0-9 - . _ ~ , ; + and escapes the rest, ':' and
// '/' too, so that no value can make the query look like a URL ("://") to scene_from_query.
std::string percent_encode_opaque(std::string_view in);

// --- 5. Text checks --------------------------------------------------------------------------------

// Well-formed UTF-8 (no overlong forms, surrogates or code points beyond U+10FFFF) without C0 control
// characters or DEL.
bool valid_utf8_without_controls(std::string_view text);

// --- 6. Names of enums -------------------------------------------------------------------------------
// An enum's names are a list in the order of its values (the scene's tables, core/network.cpp).

// The position of `name` in `names`, or -1.
int name_index(std::string_view name, const std::vector<std::string>& names);
// The name of a value, "?" for one outside the list.
template <class Enum>
const char* enum_name(Enum value, const std::vector<std::string>& names) {
  const auto index = static_cast<std::size_t>(value);
  return index < names.size() ? names[index].c_str() : "?";
}
// The value of a name, nothing for a name not in the list.
template <class Enum>
std::optional<Enum> enum_from_name(std::string_view name, const std::vector<std::string>& names) {
  const int index = name_index(name, names);
  if (index < 0) return std::nullopt;
  return static_cast<Enum>(index);
}

}  // namespace fs
