//===- Units.cpp - Physical units of the moec language --------------------===//
#include "moec/Support/Units.h"

#include "fmt/format.h"

#include <cmath>

using namespace moec;

static const UnitInfo units[] = {
    {"B", Dim::Bytes, 1},
    {"KB", Dim::Bytes, 1e3},
    {"MB", Dim::Bytes, 1e6},
    {"GB", Dim::Bytes, 1e9},
    {"TB", Dim::Bytes, 1e12},
    {"KiB", Dim::Bytes, 1024.0},
    {"MiB", Dim::Bytes, 1024.0 * 1024},
    {"GiB", Dim::Bytes, 1024.0 * 1024 * 1024},
    {"TiB", Dim::Bytes, 1024.0 * 1024 * 1024 * 1024},
    {"B/s", Dim::ByteRate, 1},
    {"KB/s", Dim::ByteRate, 1e3},
    {"MB/s", Dim::ByteRate, 1e6},
    {"GB/s", Dim::ByteRate, 1e9},
    {"TB/s", Dim::ByteRate, 1e12},
    {"KiB/s", Dim::ByteRate, 1024.0},
    {"MiB/s", Dim::ByteRate, 1024.0 * 1024},
    {"GiB/s", Dim::ByteRate, 1024.0 * 1024 * 1024},
    {"TiB/s", Dim::ByteRate, 1024.0 * 1024 * 1024 * 1024},
    {"Kb/s", Dim::ByteRate, 1e3, 8},
    {"Mb/s", Dim::ByteRate, 1e6, 8},
    {"Gb/s", Dim::ByteRate, 1e9, 8},
    {"Tb/s", Dim::ByteRate, 1e12, 8},
    {"FLOPS", Dim::FlopRate, 1},
    {"GFLOPS", Dim::FlopRate, 1e9},
    {"TFLOPS", Dim::FlopRate, 1e12},
    {"PFLOPS", Dim::FlopRate, 1e15},
    {"ns", Dim::Time, 1, 1e9},
    {"us", Dim::Time, 1, 1e6},
    {"ms", Dim::Time, 1, 1e3},
    {"s", Dim::Time, 1},
    {"%", Dim::Ratio, 1, 100},
};

llvm::ArrayRef<UnitInfo> moec::allUnits() { return units; }

std::optional<UnitInfo> moec::lookupUnit(llvm::StringRef name) {
  for (const UnitInfo &u : units)
    if (u.name == name)
      return u;
  return std::nullopt;
}

llvm::StringRef moec::describe(Dim dim) {
  switch (dim) {
  case Dim::None:
    return "a plain number";
  case Dim::Bytes:
    return "a size in bytes";
  case Dim::ByteRate:
    return "a bandwidth";
  case Dim::FlopRate:
    return "a FLOP rate";
  case Dim::Time:
    return "a time";
  case Dim::Ratio:
    return "a percentage";
  }
  llvm_unreachable("unknown dimension");
}

llvm::StringRef moec::baseUnit(Dim dim) {
  switch (dim) {
  case Dim::None:
    return "";
  case Dim::Bytes:
    return "B";
  case Dim::ByteRate:
    return "B/s";
  case Dim::FlopRate:
    return "FLOP/s";
  case Dim::Time:
    return "s";
  case Dim::Ratio:
    return "%";
  }
  llvm_unreachable("unknown dimension");
}

std::string moec::formatNumber(double value, int precision) {
  if (value == 0)
    return "0";
  return fmt::format("{:.{}g}", value, precision);
}

std::string moec::formatExact(double value) { return fmt::format("{}", value); }

std::string moec::formatQuantity(double value, Dim dim) {
  struct Prefixed {
    double scale;
    const char *unit;
  };
  static const Prefixed bytes[] = {{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}, {1, "B"}};
  static const Prefixed rates[] = {{1e12, "TB/s"}, {1e9, "GB/s"}, {1e6, "MB/s"}, {1e3, "KB/s"}, {1, "B/s"}};
  static const Prefixed flops[] = {{1e15, "PFLOPS"}, {1e12, "TFLOPS"}, {1e9, "GFLOPS"}, {1, "FLOPS"}};
  static const Prefixed times[] = {{1, "s"}, {1e-3, "ms"}, {1e-6, "us"}, {1e-9, "ns"}};
  llvm::ArrayRef<Prefixed> table;
  switch (dim) {
  case Dim::None:
    return formatNumber(value);
  case Dim::Ratio:
    return formatNumber(value * 100) + "%";
  case Dim::Bytes:
    table = bytes;
    break;
  case Dim::ByteRate:
    table = rates;
    break;
  case Dim::FlopRate:
    table = flops;
    break;
  case Dim::Time:
    table = times;
    break;
  }
  if (value == 0)
    return dim == Dim::Time ? "0 s" : std::string("0 ") + table.back().unit;
  for (const Prefixed &p : table)
    if (std::fabs(value) >= p.scale)
      return formatNumber(value / p.scale, 4) + " " + p.unit;
  return formatNumber(value / table.back().scale, 4) + " " + table.back().unit;
}
