#include "core/data/csv_parser.h"

#include "core/util/error.h"

namespace strata::data {

namespace {
enum class State { start_record, start_field, in_field, in_quoted, quote_in_quoted };
constexpr int kEof = -1;
}  // namespace

CsvParser::CsvParser(const std::filesystem::path& path, CsvDialect dialect)
    : path_(path), in_(path, std::ios::binary), buf_(1 << 20), dialect_(dialect) {
  if (!in_) fail_input("{}: cannot open for reading", path.string());
}

bool CsvParser::refill() {
  if (pos_ < end_) return true;
  in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  if (in_.bad()) fail_input("{}: read error", path_.string());
  pos_ = 0;
  end_ = static_cast<std::size_t>(in_.gcount());
  return end_ > 0;
}

int CsvParser::get() {
  if (!refill()) return kEof;
  const char c = buf_[pos_++];
  if (c == '\n') ++line_;
  return static_cast<unsigned char>(c);
}

int CsvParser::peek() { return refill() ? static_cast<unsigned char>(buf_[pos_]) : kEof; }

void CsvParser::append_quoted_run(std::string& field) {
  const char* begin = buf_.data() + pos_;
  const char* stop = buf_.data() + end_;
  const char* p = begin;
  // A lone \r inside quotes counts as a line break for line numbers, as it does outside.
  while (p < stop && *p != dialect_.quote && *p != '\r') {
    if (*p == '\n') ++line_;
    ++p;
  }
  field.append(begin, p);
  pos_ += static_cast<std::size_t>(p - begin);
}

bool CsvParser::next_row(std::vector<std::string>& fields, std::size_t columns) {
  if (!next(fields)) return false;
  if (fields.size() != columns)
    fail_input("{}:{}: {} fields, the header has {}", path_.string(), record_line_, fields.size(), columns);
  return true;
}

bool CsvParser::next(std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  State state = State::start_record;
  std::size_t quote_line = 0;

  auto end_of_line = [&](int c) {
    // \r\n counts once; a lone \r ends the record too (as Python's reader does).
    if (c != '\r') return;
    if (peek() == '\n')
      get();
    else
      ++line_;
  };
  auto save_field = [&] {
    fields.push_back(std::move(field));
    field.clear();
  };
  // Outside quotes a delimiter ends the field and a newline the record, each saving the field.
  enum class End { none, field, record };
  auto end_at = [&](int c) {
    if (static_cast<char>(c) == dialect_.delimiter) {
      save_field();
      state = State::start_field;
      return End::field;
    }
    if (c != '\n' && c != '\r') return End::none;
    end_of_line(c);
    save_field();
    return End::record;
  };

  for (;;) {
    const int c = get();
    if (c == kEof) {
      if (state == State::in_quoted)
        fail_input("{}:{}: quoted field opened here is not closed before the end of the file",
                   path_.string(), quote_line);
      if (state == State::start_record) return false;
      save_field();
      return true;
    }
    const char ch = static_cast<char>(c);
    const bool newline = ch == '\n' || ch == '\r';
    const bool quote = dialect_.quote != '\0' && ch == dialect_.quote;
    switch (state) {
      case State::start_record:
        if (newline) {  // empty line: skipped
          if (ch == '\r') end_of_line(c);
          continue;
        }
        record_line_ = line_;
        [[fallthrough]];
      case State::start_field: {
        if (quote) {
          state = State::in_quoted;
          quote_line = line_;
          break;
        }
        const End end = end_at(c);
        if (end == End::record) return true;
        if (end != End::none) break;
        if (dialect_.skip_initial_space && ch == ' ') {
          state = State::start_field;  // also after a record's first character
        } else {
          field.push_back(ch);
          state = State::in_field;
        }
        break;
      }
      case State::in_field: {
        const End end = end_at(c);
        if (end == End::record) return true;
        if (end == End::none) field.push_back(ch);
        break;
      }
      case State::in_quoted:
        if (quote) {
          state = State::quote_in_quoted;
        } else {
          field.push_back(ch);
          if (ch == '\r' && peek() != '\n') ++line_;
          append_quoted_run(field);
        }
        break;
      case State::quote_in_quoted: {
        if (quote) {
          field.push_back(ch);
          state = State::in_quoted;
          break;
        }
        const End end = end_at(c);
        if (end == End::record) return true;
        if (end == End::none) {
          field.push_back(ch);
          state = State::in_field;
        }
        break;
      }
    }
  }
}

}  // namespace strata::data
