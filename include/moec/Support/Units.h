//===- Units.h - Physical units of the moec language ------------*- C++ -*-===//
//
// Every quantity is normalised to one base unit per dimension: bytes, bytes per second, FLOP per second,
// seconds, and a fraction for percentages. Decimal prefixes are powers of 1000 (GB = 1e9 B), binary ones powers
// of 1024 (GiB = 2^30 B); rates in bits per second (Gb/s) are divided by 8.
//
//===----------------------------------------------------------------------===//
#ifndef MOEC_SEMA_UNITS_H
#define MOEC_SEMA_UNITS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace moec {

/// The dimension of a value. `None` is a plain number.
enum class Dim { None, Bytes, ByteRate, FlopRate, Time, Ratio };

/// "a size in bytes", "a bandwidth", ...: how diagnostics name a dimension.
llvm::StringRef describe(Dim dim);
/// The base unit of a dimension as printed ("B", "B/s", "FLOP/s", "s", "").
llvm::StringRef baseUnit(Dim dim);

struct UnitInfo {
  llvm::StringRef name;
  Dim dim;
  double scale;       ///< value in base units = written value * scale / divisor
  double divisor = 1; ///< Kept apart from scale so that `5 us` is exactly the double nearest 5e-6.

  double toBase(double written) const { return written * scale / divisor; }
};

/// The unit spelled \p name (case-sensitive: `Gb/s` is bits, `GB/s` bytes), if there is one.
std::optional<UnitInfo> lookupUnit(llvm::StringRef name);
/// Every unit, in the order the language reference lists them.
llvm::ArrayRef<UnitInfo> allUnits();

/// A normalised quantity printed for people, with the largest decimal prefix that keeps it >= 1:
/// 6.4e10 B -> "64 GB", 2.25e11 B/s -> "225 GB/s", 4e14 FLOP/s -> "400 TFLOPS", 2e-6 s -> "2 us", 0.6 -> "60%".
std::string formatQuantity(double value, Dim dim);

/// A double printed exactly: the shortest text that reads back as the same double ("2e-06", "0.6").
std::string formatExact(double value);

/// A double printed with up to \p precision significant digits and no trailing zeros ("1.8", "128", "1e+20").
std::string formatNumber(double value, int precision = 6);

} // namespace moec

#endif // MOEC_SEMA_UNITS_H
