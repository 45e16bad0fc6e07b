package outreach

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sawt/sawt/channels"
	"github.com/sawt/sawt/locales"
)

// Household is one row of a distribution's household list.
type Household struct {
	Line        int    // line in the file, as a spreadsheet shows it (the header is line 1)
	Phone       string // E.164, e.g. "+9647701234567"
	HouseholdID string
	Language    string // locales.Arabic, Sorani, Badini or English: "ar", "ckb", "badini", "en"
	Name        string // head of household; may be empty
}

// LineError is one problem with a household list, at a line of the file (1 or more). Column
// is ColumnPhone, ColumnHousehold, ColumnLanguage or ColumnName, whatever the file calls the
// column, or "" when the problem is with the whole line or the file.
type LineError struct {
	Line    int
	Column  string
	Message string
}

func (e LineError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Message)
}

// ImportError lists every problem found in a household list, in the order of the file.
type ImportError struct {
	Lines []LineError
}

// maxShownErrors is how many problems Error spells out.
const maxShownErrors = 20

func (e *ImportError) Error() string {
	var b strings.Builder
	for i, l := range e.Lines {
		if i == maxShownErrors {
			fmt.Fprintf(&b, "\nand %d more", len(e.Lines)-maxShownErrors)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.String())
	}
	return b.String()
}

// DefaultMaxHouseholds is the row limit ParseHouseholds applies when given none.
const DefaultMaxHouseholds = 100000

// Limits of the values in a household list, in characters.
const (
	maxHouseholdIDLen   = 64
	maxHouseholdNameLen = 200
)

// The columns of a household list, by the name used in LineError.Column.
const (
	ColumnPhone     = "phone"
	ColumnHousehold = "household"
	ColumnLanguage  = "language"
	ColumnName      = "name"
)

// householdColumnAliases maps every accepted header (lower case, with '_' for spaces and
// dashes) to its column.
var householdColumnAliases = map[string]string{
	"phone": ColumnPhone, "phone_number": ColumnPhone, "mobile": ColumnPhone, "tel": ColumnPhone,
	"household": ColumnHousehold, "household_id": ColumnHousehold, "hh_id": ColumnHousehold,
	"language": ColumnLanguage, "lang": ColumnLanguage,
	"name": ColumnName, "head_of_household": ColumnName,
}

// householdColumnsHelp is what a header error says the columns are.
const householdColumnsHelp = "phone, household, language and, if you want, name"

// householdLanguages maps the folded (locales.Fold) forms of the accepted language values to
// the language.
var householdLanguages = func() map[string]string {
	m := map[string]string{}
	for lang, names := range map[string][]string{
		locales.Arabic:  {"ar", "arabic", "عربي", "العربية"},
		locales.Sorani:  {"ckb", "sorani", "kurdish sorani", "سۆرانی", "کوردی سۆرانی"},
		locales.Badini:  {"badini", "bahdini", "behdini", "kmr", "بادینی"},
		locales.English: {"en", "english"},
	} {
		for _, n := range names {
			m[locales.Fold(n)] = lang
		}
	}
	return m
}()

// householdKurdish are the folded values that name Kurdish without saying which.
var householdKurdish = map[string]bool{
	locales.Fold("kurdish"): true, locales.Fold("ku"): true, locales.Fold("کوردی"): true, locales.Fold("كردي"): true,
}

const householdLanguagesHelp = "write ar (Arabic), ckb (Sorani), badini (Badini) or en (English)"

// ParseHouseholds reads a distribution's household list: a CSV file whose first line names
// the columns and whose other lines are households. The columns, in any order and letter
// case, are phone (or phone_number, mobile, tel), household (household_id, hh_id),
// language (lang) and, optionally, name (head_of_household); a space or dash may stand for
// the underscore. It accepts what spreadsheets write: a UTF-8 byte order mark, ';' as the
// separator (when the header has ';' and no ','), blank lines and lines of empty cells,
// and phone numbers in the forms channels.NewTelURN accepts (Arabic-Indic digits among
// them). Languages may be given by code or name, in English, Arabic or Kurdish.
//
// Nothing is returned unless the whole file is good: otherwise the error is an *ImportError
// listing every problem with its line. At most maxRows households are read (maxRows <= 0
// means DefaultMaxHouseholds); a longer file is refused. An error reading r is returned
// wrapped, not as an *ImportError. The size of the file is the caller's to limit.
func ParseHouseholds(r io.Reader, maxRows int) ([]Household, error) {
	if maxRows <= 0 {
		maxRows = DefaultMaxHouseholds
	}
	src, comma, err := householdSource(r)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(src)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	p := householdParser{csv: cr, comma: comma, seen: map[string]int{}}
	return p.parse(maxRows)
}

// householdSource strips a byte order mark from r and chooses the separator from the first
// line that is not blank, looking at most about 64 KiB ahead.
func householdSource(r io.Reader) (io.Reader, rune, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	bom, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return nil, 0, fmt.Errorf("reading the household list: %w", err)
	}
	switch {
	case bytes.HasPrefix(bom, []byte("\xEF\xBB\xBF")):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(bom, []byte("\xFF\xFE")), bytes.HasPrefix(bom, []byte("\xFE\xFF")):
		return nil, 0, &ImportError{Lines: []LineError{{Line: 1,
			Message: "the file is saved as Unicode text (UTF-16): save it as CSV UTF-8"}}}
	}
	var head []byte
	var first []byte // the first line that is not blank, or the last read
	for len(head) < 64<<10 {
		line, err := br.ReadSlice('\n')
		head = append(head, line...)
		first = head[len(head)-len(line):]
		if len(bytes.TrimSpace(line)) > 0 || err != nil {
			if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
				return nil, 0, fmt.Errorf("reading the household list: %w", err)
			}
			break
		}
	}
	comma := ','
	if bytes.IndexByte(first, ';') >= 0 && bytes.IndexByte(first, ',') < 0 {
		comma = ';'
	}
	return io.MultiReader(bytes.NewReader(head), br), comma, nil
}

type householdParser struct {
	csv   *csv.Reader
	comma rune
	errs  []LineError

	header []string       // as written, trimmed
	cols   map[string]int // column → index
	seen   map[string]int // household ID → line
}

func (p *householdParser) fail(line int, column, format string, args ...any) {
	p.errs = append(p.errs, LineError{Line: line, Column: column, Message: fmt.Sprintf(format, args...)})
}

// parse reads the header and the households.
func (p *householdParser) parse(maxRows int) ([]Household, error) {
	headerLine, err := p.readHeader()
	if err != nil {
		return nil, err
	}
	if len(p.errs) > 0 {
		return nil, &ImportError{Lines: p.errs}
	}
	var out []Household
	rows := 0
	for {
		rec, line, err := p.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		rows++
		if rows > maxRows {
			return nil, &ImportError{Lines: []LineError{{Line: line, Message: fmt.Sprintf(
				"the file has more than %d households, the most one file may have: split it into smaller files", maxRows)}}}
		}
		if rec == nil {
			continue // a line that cannot be read: noted
		}
		if h, ok := p.household(rec, line); ok {
			out = append(out, h)
		}
	}
	if rows == 0 && len(p.errs) == 0 {
		p.fail(headerLine, "", "no households in the file: add one line per household under the column names")
	}
	if len(p.errs) > 0 {
		return nil, &ImportError{Lines: p.errs}
	}
	return out, nil
}

// next returns the next line that is not blank, with its line number. A line that cannot be
// read (bad CSV, not UTF-8) is noted and returned as a nil record. The error is io.EOF at
// the end, or an error reading the input.
func (p *householdParser) next() (rec []string, line int, err error) {
	for {
		rec, err = p.csv.Read()
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			p.syntaxError(pe)
			return nil, max(pe.StartLine, 1), nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading the household list: %w", err)
		}
		if blankRecord(rec) {
			continue
		}
		line, _ = p.csv.FieldPos(0)
		for _, f := range rec {
			if !utf8.ValidString(f) {
				p.fail(line, "", "not UTF-8 text: save the file as CSV UTF-8 (in Excel: Save As, CSV UTF-8)")
				return nil, line, nil
			}
		}
		return rec, line, nil
	}
}

func (p *householdParser) syntaxError(pe *csv.ParseError) {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		p.fail(max(pe.Line, 1), "", `a value has a " in it but does not start with one: put the whole value in double quotes and write the " inside it twice ("")`)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line != pe.StartLine:
		p.fail(max(pe.StartLine, 1), "", `a value in double quotes starts on this line and is not closed properly, so everything up to line %d was read as one value: check the " characters on this line`, pe.Line)
	case errors.Is(pe.Err, csv.ErrQuote):
		p.fail(max(pe.StartLine, 1), "", `a value in double quotes is not closed properly: a " inside a quoted value must be written twice ("")`)
	default:
		p.fail(max(pe.Line, 1), "", "the line cannot be read: %v", pe.Err)
	}
}

func blankRecord(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// readHeader reads the first line that is not blank and finds the columns in it. It returns
// the header's line. Problems with the header are noted.
func (p *householdParser) readHeader() (int, error) {
	rec, line, err := p.next()
	if err == io.EOF {
		p.fail(1, "", "no households in the file: it is empty")
		return 1, nil
	}
	if err != nil || rec == nil {
		return line, err
	}
	p.cols = map[string]int{}
	p.header = make([]string, len(rec))
	var unknown []string
	for i, f := range rec {
		name := strings.TrimFunc(f, isSpaceOrInvisible)
		p.header[i] = name
		if name == "" {
			continue // an unnamed column, as spreadsheets add: its values must be empty
		}
		col, ok := householdColumnAliases[headerKey(name)]
		if !ok {
			unknown = append(unknown, quoteValue(name))
			continue
		}
		if j, dup := p.cols[col]; dup {
			p.fail(line, col, "the columns %s and %s are both the %s column: keep one", quoteValue(p.header[j]), quoteValue(name), col)
			continue
		}
		p.cols[col] = i
	}
	if len(p.cols) == 0 && len(unknown) > 0 {
		p.fail(line, "", "the first line must be the column names (%s); it is %s",
			householdColumnsHelp, quoteValue(strings.Join(p.header, string(p.comma))))
		return line, nil
	}
	switch len(unknown) {
	case 0:
	case 1:
		p.fail(line, "", "unknown column %s: the columns are %s", unknown[0], householdColumnsHelp)
	default:
		p.fail(line, "", "unknown columns %s: the columns are %s", strings.Join(unknown, ", "), householdColumnsHelp)
	}
	for _, col := range []string{ColumnPhone, ColumnHousehold, ColumnLanguage} {
		if _, ok := p.cols[col]; !ok {
			p.fail(line, col, "the column %s is missing: add it to the first line", col)
		}
	}
	for i, name := range p.header {
		if strings.ContainsAny(name, "\r\n") {
			p.fail(line, "", "column %d's name has a line break in it: if the file comes from an old Mac, save it as CSV UTF-8", i+1)
			break
		}
	}
	return line, nil
}

// headerKey is the form of a column name looked up in householdColumnAliases.
func headerKey(name string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return unicode.ToLower(r)
	}, name)
}

// household checks one row. Problems are noted, and then ok is false.
func (p *householdParser) household(rec []string, line int) (h Household, ok bool) {
	if len(rec) != len(p.header) {
		hint := fmt.Sprintf("fill in every column (leave the ones with nothing to say empty, but keep the %q between them)", p.comma)
		if len(rec) > len(p.header) {
			hint = fmt.Sprintf("a value with a %q in it must be put in double quotes", p.comma)
		}
		p.fail(line, "", "this line has %d values but the first line names %d columns: %s", len(rec), len(p.header), hint)
		return h, false
	}
	if p.isHeaderAgain(rec) {
		p.fail(line, "", "this line repeats the column names: delete it")
		return h, false
	}
	before := len(p.errs)
	for i, name := range p.header {
		if name == "" && strings.TrimSpace(rec[i]) != "" {
			p.fail(line, "", "%s is in column %d, which has no name on the first line: delete it or move it to its column", quoteValue(rec[i]), i+1)
		}
	}
	h.Line = line
	h.Phone = p.phone(rec[p.cols[ColumnPhone]], line)
	h.HouseholdID = p.householdID(rec[p.cols[ColumnHousehold]], line)
	h.Language = p.language(rec[p.cols[ColumnLanguage]], line)
	if i, ok := p.cols[ColumnName]; ok {
		h.Name = p.name(rec[i], line)
	}
	return h, len(p.errs) == before
}

func (p *householdParser) isHeaderAgain(rec []string) bool {
	for i, f := range rec {
		if !strings.EqualFold(strings.TrimFunc(f, isSpaceOrInvisible), p.header[i]) {
			return false
		}
	}
	return true
}

func (p *householdParser) phone(v string, line int) string {
	v = strings.TrimSpace(v)
	if v == "" {
		p.fail(line, ColumnPhone, "missing: every household needs a phone number")
		return ""
	}
	urn, err := channels.NewTelURN(v)
	if err == nil {
		return urn.Path()
	}
	if _, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64); err == nil && strings.ContainsAny(v, "eE") {
		// 9.64770E+12: what Excel shows of a long number in a cell formatted as a number.
		p.fail(line, ColumnPhone, "%s is not a phone number: Excel has changed it into a number; format the column as Text and type the numbers again", quoteValue(v))
		return ""
	}
	// The normaliser says what is wrong; its message names the number in full, which
	// quoteValue shortens.
	prefix := fmt.Sprintf("%s: phone number %q ", channels.ErrInvalidURN, v)
	if why, ok := strings.CutPrefix(err.Error(), prefix); ok {
		if strings.HasPrefix(why, "contains") {
			why += ": write only the number, e.g. 0770 123 4567"
		}
		p.fail(line, ColumnPhone, "%s %s", quoteValue(v), why)
		return ""
	}
	p.fail(line, ColumnPhone, "%s is not a phone number we can use: write it like 0770 123 4567 or +964 770 123 4567", quoteValue(v))
	return ""
}

func (p *householdParser) householdID(v string, line int) string {
	v = strings.TrimFunc(v, isSpaceOrInvisible)
	switch n := utf8.RuneCountInString(v); {
	case v == "":
		p.fail(line, ColumnHousehold, "missing: every household needs its household ID")
		return ""
	case n > maxHouseholdIDLen:
		p.fail(line, ColumnHousehold, "%s is too long (%d characters): a household ID has at most %d", quoteValue(v), n, maxHouseholdIDLen)
		return ""
	case strings.IndexFunc(v, func(r rune) bool { return isLineBreakOrControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		p.fail(line, ColumnHousehold, "%s has a hidden character in it (such as a tab, a line break or a direction mark): type the ID again", quoteValue(v))
		return ""
	}
	if first, dup := p.seen[v]; dup {
		p.fail(line, ColumnHousehold, "household %s already on line %d: list each household once", quoteValue(v), first)
		return ""
	}
	p.seen[v] = line
	return v
}

// isSpaceOrInvisible: white space, and the invisible characters text copied from
// right-to-left writing carries at its ends.
func isSpaceOrInvisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff'
}

func (p *householdParser) language(v string, line int) string {
	v = strings.TrimSpace(v)
	if v == "" {
		p.fail(line, ColumnLanguage, "missing: %s", householdLanguagesHelp)
		return ""
	}
	key := locales.Fold(v)
	if lang, ok := householdLanguages[key]; ok {
		return lang
	}
	if householdKurdish[key] {
		p.fail(line, ColumnLanguage, "%s could be Sorani or Badini: write ckb for Sorani or badini for Badini", quoteValue(v))
		return ""
	}
	p.fail(line, ColumnLanguage, "%s is not a language we send in: %s", quoteValue(v), householdLanguagesHelp)
	return ""
}

func (p *householdParser) name(v string, line int) string {
	v = strings.TrimSpace(v)
	switch n := utf8.RuneCountInString(v); {
	case n > maxHouseholdNameLen:
		p.fail(line, ColumnName, "%s is too long (%d characters): a name has at most %d", quoteValue(v), n, maxHouseholdNameLen)
		return ""
	case strings.IndexFunc(v, isLineBreakOrControl) >= 0:
		p.fail(line, ColumnName, "%s has a hidden character in it (such as a tab or a line break): keep the name on one line", quoteValue(v))
		return ""
	}
	return v
}

// isLineBreakOrControl: control characters (tab and line breaks among them) and the Unicode
// line and paragraph separators.
func isLineBreakOrControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// quoteValue quotes a value for an error message, shortened to 40 characters.
func quoteValue(v string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(v) > maxRunes {
		i := 0
		for n := 0; n < maxRunes; n++ {
			_, size := utf8.DecodeRuneInString(v[i:])
			i += size
		}
		return strconv.Quote(v[:i]) + "…"
	}
	return strconv.Quote(v)
}
