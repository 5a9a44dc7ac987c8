// parse_error: the one exception of the reader, in the "SOURCE:LINE:COL: message" form.

#include <string>

#include "tether/json5/json5.hpp"

namespace tether::json5 {

parse_error::parse_error(std::string source_name, std::size_t line_number, std::size_t column_number,
                         std::string text)
    : std::runtime_error(source_name + ":" + std::to_string(line_number) + ":" + std::to_string(column_number) +
                         ": " + text),
      source(std::move(source_name)),
      line(line_number),
      column(column_number),
      message(std::move(text)) {}

}  // namespace tether::json5
