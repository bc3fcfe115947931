#include "audit/export.hpp"

#include <hpdf.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>

namespace breakpilot::audit {
namespace {

// True when `v` holds a byte that forces quotes (, " CR LF). Eight bytes at a time: a byte equal
// to c is a zero byte of w ^ c, and (x - 0x01..) & ~x & 0x80.. is non-zero exactly when x has a
// zero byte. (A byte loop was a quarter of an export's CPU; find_first_of calls memchr per byte.)
bool NeedsQuotes(std::string_view v) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  const auto has = [](std::uint64_t w, unsigned char c) {
    const std::uint64_t x = w ^ (kOnes * c);
    return ((x - kOnes) & ~x & kHighs) != 0;
  };
  std::size_t i = 0;
  for (; i + 8 <= v.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, v.data() + i, 8);
    if (has(w, ',') || has(w, '"') || has(w, '\r') || has(w, '\n')) return true;
  }
  for (; i < v.size(); ++i) {
    if (v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n') return true;
  }
  return false;
}

void Cell(std::string& out, std::string_view v) {
  const bool formula = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' ||
                                      v[0] == '\t' || v[0] == '\r');
  const bool quote = formula || NeedsQuotes(v);
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  if (formula) out += '\'';
  std::size_t from = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '"') {  // doubled, the run before it copied at once
      out.append(v, from, i + 1 - from);
      out += '"';
      from = i + 1;
    }
  }
  out.append(v, from);
  out += '"';
}

// UTF-8 to Windows-1252 for the PDF standard fonts; what it cannot show becomes '?'.
std::string ToWinAnsi(std::string_view in) {
  static constexpr std::pair<char32_t, unsigned char> kSpecial[] = {
      {0x20AC, 0x80}, {0x201A, 0x82}, {0x201E, 0x84}, {0x2026, 0x85},
      {0x2018, 0x91}, {0x2019, 0x92}, {0x201C, 0x93}, {0x201D, 0x94},
      {0x2022, 0x95}, {0x2013, 0x96}, {0x2014, 0x97}, {0x2122, 0x99}};
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + static_cast<std::size_t>(len) > in.size()) {
      out += '?';
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(in[i + k]) & 0x3F);
    i += static_cast<std::size_t>(len);
    if (cp < 0x20) {
      out += ' ';
    } else if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
      out += static_cast<char>(cp);
    } else {
      char mapped = '?';
      for (const auto& [from, to] : kSpecial) {
        if (from == cp) mapped = static_cast<char>(to);
      }
      out += mapped;
    }
  }
  return out;
}

struct PdfError {
  HPDF_STATUS status = 0;
};

void OnError(HPDF_STATUS error, HPDF_STATUS detail, void* data) {
  auto* e = static_cast<PdfError*>(data);
  if (e->status == 0) e->status = error;
  (void)detail;
}

struct DocDeleter {
  void operator()(HPDF_Doc d) const { HPDF_Free(d); }
};

struct PdfColumn {
  const char* title;
  float width;
};

constexpr float kMargin = 28;
constexpr float kRow = 10.5F;
constexpr float kFontSize = 7;
constexpr PdfColumn kPdfColumns[] = {{"Time (UTC)", 92}, {"Product", 52}, {"Actor", 105},
                                     {"Action", 105},    {"Target", 105}, {"Description", 300},
                                     {"Result", 27}};

// Cuts `text` to what fits in `width` at the current font, with "..." when cut.
std::string Fit(HPDF_Page page, HPDF_Font font, const std::string& text, float width) {
  HPDF_REAL used = 0;
  const auto n = HPDF_Font_MeasureText(font, reinterpret_cast<const HPDF_BYTE*>(text.data()),
                                       static_cast<HPDF_UINT>(text.size()), width - 3, kFontSize, 0,
                                       0, HPDF_FALSE, &used);
  (void)page;
  if (n >= text.size()) return text;
  const auto keep = HPDF_Font_MeasureText(font, reinterpret_cast<const HPDF_BYTE*>(text.data()),
                                          static_cast<HPDF_UINT>(text.size()), width - 3 - 8,
                                          kFontSize, 0, 0, HPDF_FALSE, &used);
  return text.substr(0, keep) + "...";
}

void Text(HPDF_Page page, float x, float y, const std::string& s) {
  HPDF_Page_TextOut(page, x, y, s.c_str());
}

}  // namespace

std::string CsvHeader() {
  return "id,created,received,tenant_id,product,action,crud,actor_id,actor_name,target_type,"
         "target_id,target_name,description,is_failure,source_ip,request_id,fields,seq,hash\r\n";
}

void AppendCsv(std::string& out, const storage::RowView& row) {
  const auto cells = [&](std::initializer_list<Column> columns) {
    for (const Column c : columns) {
      Cell(out, row.Text(c));
      out += ',';
    }
  };
  cells({kIdCol});
  AppendRfc3339(out, row.Time(kCreatedCol));
  out += ',';
  AppendRfc3339(out, row.Time(kReceivedCol));
  out += ',';
  cells({kTenantCol, kProductCol, kActionCol, kCrudCol, kActorIdCol, kActorNameCol, kTargetTypeCol,
         kTargetIdCol, kTargetNameCol, kDescriptionCol});
  out += row.Bool(kIsFailureCol) ? "true," : "false,";
  cells({kSourceIpCol, kRequestIdCol, kFieldsCol});
  char seq[24];
  const auto end = std::to_chars(seq, seq + sizeof seq, row.Int(kSeqCol)).ptr;
  out.append(seq, end);
  out += ',';
  Cell(out, row.Text(kHashCol));
  out += "\r\n";
}

Result<std::string> RenderPdf(const std::vector<Entry>& entries, const PdfInfo& info) {
  PdfError err;
  std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, DocDeleter> doc(HPDF_New(OnError, &err));
  if (!doc) throw std::runtime_error("libharu: cannot create a document");
  HPDF_Doc pdf = doc.get();
  HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
  HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "Breakpilot Platform");
  HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, ToWinAnsi(info.title).c_str());
  HPDF_Font font = HPDF_GetFont(pdf, "Helvetica", "WinAnsiEncoding");
  HPDF_Font bold = HPDF_GetFont(pdf, "Helvetica-Bold", "WinAnsiEncoding");
  const std::string title = ToWinAnsi(info.title);
  const std::string filters = ToWinAnsi("Filters: " + info.filter_summary);
  const std::string generated =
      ToWinAnsi("Generated " + info.generated_at + " - " + std::to_string(entries.size()) +
                " event(s), newest first");

  std::vector<HPDF_Page> pages;
  HPDF_Page page = nullptr;
  float y = 0;
  const auto new_page = [&] {
    page = HPDF_AddPage(pdf);
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_LANDSCAPE);
    pages.push_back(page);
    const float top = HPDF_Page_GetHeight(page) - kMargin;
    HPDF_Page_BeginText(page);
    HPDF_Page_SetFontAndSize(page, bold, 12);
    Text(page, kMargin, top - 12, title);
    HPDF_Page_SetFontAndSize(page, font, 8);
    Text(page, kMargin, top - 25, Fit(page, font, filters, 780));
    Text(page, kMargin, top - 36, generated);
    HPDF_Page_SetFontAndSize(page, bold, kFontSize);
    float x = kMargin;
    y = top - 54;
    for (const auto& c : kPdfColumns) {
      Text(page, x, y, c.title);
      x += c.width;
    }
    HPDF_Page_EndText(page);
    HPDF_Page_SetLineWidth(page, 0.5F);
    HPDF_Page_MoveTo(page, kMargin, y - 3);
    HPDF_Page_LineTo(page, HPDF_Page_GetWidth(page) - kMargin, y - 3);
    HPDF_Page_Stroke(page);
    y -= kRow + 2;
    HPDF_Page_BeginText(page);
    HPDF_Page_SetFontAndSize(page, font, kFontSize);
  };
  new_page();
  for (const auto& e : entries) {
    if (y < kMargin + 14) {
      HPDF_Page_EndText(page);
      new_page();
    }
    const std::string actor =
        e.actor_name.empty() ? e.actor_id : e.actor_name + " (" + e.actor_id + ")";
    const std::string target =
        e.target_type.empty() ? e.target_id : e.target_type + " " + e.target_id;
    const std::string cells[] = {FormatRfc3339(e.created).substr(0, 19), e.product, actor,
                                 e.action + " (" + e.crud + ")",         target,    e.description,
                                 e.is_failure ? "failed" : "ok"};
    float x = kMargin;
    for (std::size_t i = 0; i < std::size(kPdfColumns); ++i) {
      Text(page, x, y, Fit(page, font, ToWinAnsi(cells[i]), kPdfColumns[i].width));
      x += kPdfColumns[i].width;
    }
    y -= kRow;
  }
  HPDF_Page_EndText(page);
  for (std::size_t i = 0; i < pages.size(); ++i) {
    HPDF_Page p = pages[i];
    HPDF_Page_BeginText(p);
    HPDF_Page_SetFontAndSize(p, font, 8);
    const std::string foot =
        "Page " + std::to_string(i + 1) + " of " + std::to_string(pages.size());
    Text(p, HPDF_Page_GetWidth(p) - kMargin - 60, kMargin - 12, foot);
    HPDF_Page_EndText(p);
  }
  if (HPDF_SaveToStream(pdf) != HPDF_OK || err.status != 0) {
    throw std::runtime_error("libharu failed with status " + std::to_string(err.status));
  }
  std::string out(HPDF_GetStreamSize(pdf), '\0');
  HPDF_UINT32 size = static_cast<HPDF_UINT32>(out.size());
  HPDF_ReadFromStream(pdf, reinterpret_cast<HPDF_BYTE*>(out.data()), &size);
  out.resize(size);
  return out;
}

}  // namespace breakpilot::audit
