package outreach

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sawt/sawt/locales"
)

// goodHouseholdFiles are files ParseHouseholds accepts, with what it makes of them.
var goodHouseholdFiles = []struct {
	name string
	in   string
	want []Household
}{
	{
		name: "plain",
		in:   "phone,household,language,name\n07701234567,H-1,ar,Amira\n",
		want: []Household{{Line: 2, Phone: "+9647701234567", HouseholdID: "H-1", Language: "ar", Name: "Amira"}},
	},
	{
		name: "every phone form, language form and alias, with a BOM, CRLF, blank lines and quotes",
		in: "\uFEFF Mobile , HH_ID,Lang,Head of Household\r\n" +
			"0770 123 4567,H-1,AR,\"Hassan, Ali\"\r\n" +
			"07701234567,H-2,arabic,\r\n" +
			"\r\n" +
			"+964 770 123 4567,H-3,عربي,x\r\n" +
			"00964 770 123 4567,H-4,العربية,x\r\n" +
			",,,\r\n" +
			"٠٧٥٠١٢٣٤٥٦٧,H-5,ckb,هاوڕێ\r\n" +
			"۰۷۵۰۱۲۳۴۵۶۷,H-6,Sorani,x\r\n" +
			"7501234567,H-7,Kurdish Sorani,x\r\n" +
			"9647501234567,H-8,سۆرانی,x\r\n" +
			"+964 0750 123 4567,H-9,کوردی سۆرانی,x\r\n" +
			"(0750) 123-4567,H-10,كوردي سۆراني,x\r\n" + // Arabic kaf and yeh
			"0751 234 5678,H-11,badini,x\r\n" +
			"0751 234 5678,H-12,Bahdini,x\r\n" + // a shared phone
			"0751 234 5678,H-13,behdini,x\r\n" +
			"0751 234 5678,H-14,kmr,x\r\n" +
			"0751 234 5678,H-15,بادینی,x\r\n" +
			"0751 234 5678,\u200fH-16\u200f,بادیني,x\r\n" + // direction marks round the ID
			"\u200f+964 780 000 0000\u200e,H-17,  en  ,x\r\n" +
			"+96418881234,H-18,English,   \r\n",
		want: []Household{
			{Line: 2, Phone: "+9647701234567", HouseholdID: "H-1", Language: "ar", Name: "Hassan, Ali"},
			{Line: 3, Phone: "+9647701234567", HouseholdID: "H-2", Language: "ar"},
			{Line: 5, Phone: "+9647701234567", HouseholdID: "H-3", Language: "ar", Name: "x"},
			{Line: 6, Phone: "+9647701234567", HouseholdID: "H-4", Language: "ar", Name: "x"},
			{Line: 8, Phone: "+9647501234567", HouseholdID: "H-5", Language: "ckb", Name: "هاوڕێ"},
			{Line: 9, Phone: "+9647501234567", HouseholdID: "H-6", Language: "ckb", Name: "x"},
			{Line: 10, Phone: "+9647501234567", HouseholdID: "H-7", Language: "ckb", Name: "x"},
			{Line: 11, Phone: "+9647501234567", HouseholdID: "H-8", Language: "ckb", Name: "x"},
			{Line: 12, Phone: "+9647501234567", HouseholdID: "H-9", Language: "ckb", Name: "x"},
			{Line: 13, Phone: "+9647501234567", HouseholdID: "H-10", Language: "ckb", Name: "x"},
			{Line: 14, Phone: "+9647512345678", HouseholdID: "H-11", Language: "badini", Name: "x"},
			{Line: 15, Phone: "+9647512345678", HouseholdID: "H-12", Language: "badini", Name: "x"},
			{Line: 16, Phone: "+9647512345678", HouseholdID: "H-13", Language: "badini", Name: "x"},
			{Line: 17, Phone: "+9647512345678", HouseholdID: "H-14", Language: "badini", Name: "x"},
			{Line: 18, Phone: "+9647512345678", HouseholdID: "H-15", Language: "badini", Name: "x"},
			{Line: 19, Phone: "+9647512345678", HouseholdID: "H-16", Language: "badini", Name: "x"},
			{Line: 20, Phone: "+9647800000000", HouseholdID: "H-17", Language: "en", Name: "x"},
			{Line: 21, Phone: "+96418881234", HouseholdID: "H-18", Language: "en"},
		},
	},
	{
		name: "semicolons, columns in another order, no name column",
		in:   "Language;Phone_Number;Household ID\nar;0770 123 4567;H,1\nen;+9647701234568;H-2\n",
		want: []Household{
			{Line: 2, Phone: "+9647701234567", HouseholdID: "H,1", Language: "ar"},
			{Line: 3, Phone: "+9647701234568", HouseholdID: "H-2", Language: "en"},
		},
	},
	{
		name: "blank lines before the header, unnamed empty columns after it",
		in:   "\n  \nphone,household,language,,\n07701234567,H-1,ar,,\n",
		want: []Household{{Line: 4, Phone: "+9647701234567", HouseholdID: "H-1", Language: "ar"}},
	},
	{
		name: "no newline at the end, longest ID and name",
		in:   "phone,household,language,name\n07701234567," + strings.Repeat("ح", 64) + ",ar," + strings.Repeat("ن", 200),
		want: []Household{{Line: 2, Phone: "+9647701234567", HouseholdID: strings.Repeat("ح", 64), Language: "ar", Name: strings.Repeat("ن", 200)}},
	},
}

func TestParseHouseholds(t *testing.T) {
	for _, tc := range goodHouseholdFiles {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHouseholds(strings.NewReader(tc.in), 0)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

const householdHeader = "phone,household,language,name\n"

// badHouseholdFiles are files ParseHouseholds refuses, each with the one problem expected:
// its line, its column and words of its message.
var badHouseholdFiles = []struct {
	name   string
	in     string
	line   int
	column string
	says   []string
}{
	// The file as a whole.
	{"empty", "", 1, "", []string{"no households in the file"}},
	{"only a BOM and blank lines", "\uFEFF\n\n \n", 1, "", []string{"no households in the file"}},
	{"header only", householdHeader, 1, "", []string{"no households in the file"}},
	{"header only, blank lines after", householdHeader + "\n,,,\n", 1, "", []string{"no households in the file"}},
	{"UTF-16", "\xFF\xFEp\x00h\x00", 1, "", []string{"UTF-16", "CSV UTF-8"}},

	// The header.
	{"unknown column", "phone,household,language,langauge\n07701234567,H-1,ar,ar\n", 1, "", []string{`unknown column "langauge"`, "phone, household, language"}},
	{"unknown columns", "notes,phone,household,language,langauge\n,07701234567,H-1,ar,ar\n", 1, "", []string{`unknown columns "notes", "langauge"`, "phone, household, language"}},
	{"missing column", "phone,household,name\n07701234567,H-1,x\n", 1, "language", []string{"column language is missing"}},
	{"the same column twice", "phone,mobile,household,language\n0770,0770,H-1,ar\n", 1, "phone", []string{`"phone" and "mobile"`, "keep one"}},
	{"no header", "07701234567,H-1,ar\n", 1, "", []string{"first line must be the column names", `"07701234567,H-1,ar"`}},
	{"header not UTF-8", "phone,household,language,\xe4\xd3\xe3\n", 1, "", []string{"not UTF-8", "CSV UTF-8"}},
	{"header bad CSV", "phone,house\"hold,language\n", 1, "", []string{`double quotes`}},

	// Whole lines.
	{"too few values", householdHeader + "07701234567,H-1,ar\n", 2, "", []string{"3 values", "4 columns"}},
	{"too many values", householdHeader + "07701234567,H-1,ar,Hassan, Ali\n", 2, "", []string{"5 values", "4 columns", "double quotes"}},
	{"too many values with semicolons", "phone;household;language\n07701234567;H-1;ar;\n", 2, "", []string{"4 values", "3 columns", "';'"}},
	{"bare quote", householdHeader + "07701234567,H-1,ar,Ali \"the tall\"\n", 2, "", []string{"double quotes", `twice ("")`}},
	{"quote never closed", householdHeader + "07701234567,H-1,ar,\"Ali\n07701234567,H-2,ar,x\n", 2, "", []string{"not closed", "line 3"}},
	{"Windows-1256", householdHeader + "07701234567,H-1,ar,\xe4\xd3\xe3\n", 2, "", []string{"not UTF-8 text: save the file as CSV UTF-8"}},
	{"the header again", householdHeader + "07701234567,H-1,ar,x\nPhone,Household,Language,Name\n", 3, "", []string{"repeats the column names"}},
	{"a value in an unnamed column", "phone,household,language,\n07701234567,H-1,ar,x\n", 2, "", []string{`"x" is in column 4`}},

	// Phone.
	{"no phone", householdHeader + " ,H-1,ar,x\n", 2, "phone", []string{"missing"}},
	{"short phone", householdHeader + "0770 123 456,H-1,ar,x\n", 2, "phone", []string{`"0770 123 456" is not an Iraqi mobile number`}},
	{"letters in the phone", householdHeader + "0770 123 456x,H-1,ar,x\n", 2, "phone", []string{`"0770 123 456x" contains 'x'`, "write only the number"}},
	{"two phones", householdHeader + "0770 123 4567 / 0750 123 4567,H-1,ar,x\n", 2, "phone", []string{`contains '/'`}},
	{"phone made a number by Excel", householdHeader + "9.64770E+12,H-1,ar,x\n", 2, "phone", []string{`"9.64770E+12"`, "format the column as Text"}},
	{"long bad phone is shortened", householdHeader + strings.Repeat("1", 50) + ",H-1,ar,x\n", 2, "phone", []string{`"` + strings.Repeat("1", 40) + `"…`}},

	// Household ID.
	{"no household ID", householdHeader + "07701234567,,ar,x\n", 2, "household", []string{"missing"}},
	{"household ID too long", householdHeader + "07701234567," + strings.Repeat("h", 65) + ",ar,x\n", 2, "household", []string{"too long (65 characters)", "at most 64", `"` + strings.Repeat("h", 40) + `"…`}},
	{"tab in household ID", householdHeader + "07701234567,H\t1,ar,x\n", 2, "household", []string{`"H\t1"`, "hidden character"}},
	{"direction mark inside household ID", householdHeader + "07701234567,H\u200f-1,ar,x\n", 2, "household", []string{"hidden character"}},
	{"household twice", householdHeader + "07701234567,H-12,ar,x\n\n07701234567,H-12,ar,y\n", 4, "household", []string{`household "H-12" already on line 2`}},

	// Language.
	{"no language", householdHeader + "07701234567,H-1,,x\n", 2, "language", []string{"missing", "ar", "ckb", "badini", "en"}},
	{"unknown language", householdHeader + "07701234567,H-1,french,x\n", 2, "language", []string{`"french" is not a language`, "ar (Arabic), ckb (Sorani), badini (Badini) or en (English)"}},
	{"Kurdish alone", householdHeader + "07701234567,H-1,Kurdish,x\n", 2, "language", []string{"Sorani or Badini"}},

	// Name.
	{"name too long", householdHeader + "07701234567,H-1,ar," + strings.Repeat("n", 201) + "\n", 2, "name", []string{"too long (201 characters)", "at most 200"}},
	{"name over two lines", householdHeader + "07701234567,H-1,ar,\"Ali\nHassan\"\n", 2, "name", []string{`"Ali\nHassan"`, "one line"}},
}

func TestParseHouseholdsRefuses(t *testing.T) {
	for _, tc := range badHouseholdFiles {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHouseholds(strings.NewReader(tc.in), 0)
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, %v; want an *ImportError", got, err)
			}
			if got != nil {
				t.Errorf("households returned with the error: %v", got)
			}
			if len(ie.Lines) != 1 {
				t.Fatalf("%d problems, want 1:\n%v", len(ie.Lines), ie)
			}
			e := ie.Lines[0]
			if e.Line != tc.line || e.Column != tc.column {
				t.Errorf("problem at line %d, column %q; want line %d, column %q: %v", e.Line, e.Column, tc.line, tc.column, e)
			}
			for _, s := range tc.says {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q does not say %q", e.Message, s)
				}
			}
			if strings.Contains(e.Message, "URN") {
				t.Errorf("message %q speaks of URNs", e.Message)
			}
			if want := fmt.Sprintf("line %d: ", tc.line); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q; want it to start with %q", err.Error(), want)
			}
		})
	}
}

func TestParseHouseholdsReportsEveryProblem(t *testing.T) {
	in := householdHeader +
		"07701234567,H-1,ar,Amira\n" + // good
		"0770,H-2,ar,x\n" + // 3: phone
		"07701234567,H-3,xx,x\n" + // 4: language
		"07701234567,H-4,ar,x\n" + // good
		"07701234567,H-1,ar,x\n" + // 6: duplicate
		"07701234567,H-5,ar\n" + // 7: too few values
		"abc,,,x\n" + // 8: phone, household, language
		"07701234567,H-6,ar,\xff\n" + // 9: not UTF-8
		"\"07701234567\",\"H-7\",\"en\",\"two\nlines\"\n" + // 10: name over two lines
		"07701234567,H-8,en,x\n" + // good
		"07701234567,H-9,zz,x\n" // 13: language
	got, err := ParseHouseholds(strings.NewReader(in), 0)
	if got != nil {
		t.Errorf("households returned with errors: %v", got)
	}
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v is not an *ImportError", err)
	}
	type at struct {
		line   int
		column string
	}
	var where []at
	for _, e := range ie.Lines {
		where = append(where, at{e.Line, e.Column})
	}
	want := []at{{3, "phone"}, {4, "language"}, {6, "household"}, {7, ""}, {8, "phone"}, {8, "household"}, {8, "language"}, {9, ""}, {10, "name"}, {13, "language"}}
	if !reflect.DeepEqual(where, want) {
		t.Errorf("problems at %v; want %v\n%v", where, want, err)
	}
	if s := err.Error(); !strings.HasPrefix(s, "line 3: phone: \"0770\"") || strings.Count(s, "\n") != len(want)-1 {
		t.Errorf("Error() =\n%s", s)
	}
}

func TestParseHouseholdsMisspeltColumn(t *testing.T) {
	_, err := ParseHouseholds(strings.NewReader("phone,household,langauge\n07701234567,H-1,ar\n"), 0)
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v", err)
	}
	want := []LineError{
		{1, "", `unknown column "langauge": the columns are phone, household, language and, if you want, name`},
		{1, "language", "the column language is missing: add it to the first line"},
	}
	if !reflect.DeepEqual(ie.Lines, want) {
		t.Errorf("got %q\nwant %q", ie.Lines, want)
	}
}

func TestImportErrorShowsTwenty(t *testing.T) {
	var b strings.Builder
	b.WriteString(householdHeader)
	for i := range 25 {
		fmt.Fprintf(&b, "07701234567,H-%d,zz,x\n", i)
	}
	_, err := ParseHouseholds(strings.NewReader(b.String()), 0)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Lines) != 25 {
		t.Fatalf("got %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 21 || !strings.HasPrefix(lines[19], "line 21: language: ") || lines[20] != "and 5 more" {
		t.Errorf("Error() =\n%s", err)
	}
}

func TestParseHouseholdsMaxRows(t *testing.T) {
	file := func(n int, extra string) string {
		var b strings.Builder
		b.WriteString(householdHeader)
		for i := range n {
			fmt.Fprintf(&b, "07701234567,H-%d,ar,x\n", i)
			b.WriteString(extra)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name    string
		in      string
		max     int
		ok      bool
		errLine int
	}{
		{"at the limit", file(3, ""), 3, true, 0},
		{"blank lines do not count", file(3, "\n,,,\n"), 3, true, 0},
		{"over the limit", file(4, ""), 3, false, 5},
		{"bad lines count", file(2, "bad\n"), 3, false, 5},
		{"default limit", file(5, ""), 0, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHouseholds(strings.NewReader(tc.in), tc.max)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ie *ImportError
			if !errors.As(err, &ie) || got != nil {
				t.Fatalf("got %v, %v; want an *ImportError", got, err)
			}
			if len(ie.Lines) != 1 || ie.Lines[0].Line != tc.errLine || !strings.Contains(ie.Lines[0].Message, fmt.Sprintf("more than %d households", tc.max)) {
				t.Errorf("error %v; want one at line %d saying the limit", err, tc.errLine)
			}
		})
	}
}

// failingReader returns its data, then an error.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestParseHouseholdsReadError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, data := range []string{"", householdHeader, householdHeader + "07701234567,H-1,ar,x\n"} {
		got, err := ParseHouseholds(&failingReader{data, boom}, 0)
		var ie *ImportError
		if got != nil || !errors.Is(err, boom) || errors.As(err, &ie) {
			t.Errorf("after %q: got %v, %v; want the read error", data, got, err)
		}
	}
}

func FuzzParseHouseholds(f *testing.F) {
	for _, tc := range goodHouseholdFiles {
		f.Add(tc.in, 0)
	}
	for _, tc := range badHouseholdFiles {
		f.Add(tc.in, 0)
	}
	f.Add(householdHeader+"07701234567,H-1,ar,x\n07701234567,H-2,ar,x\n", 1)
	f.Add("phone;household;language\n07701234567;H-1;ar\n", 2)
	f.Fuzz(func(t *testing.T, in string, maxRows int) {
		maxRows %= 50 // also ≤ 0, the default
		got, err := ParseHouseholds(strings.NewReader(in), maxRows)
		var ie *ImportError
		if err != nil {
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T) is not an *ImportError", err, err)
			}
			if got != nil {
				t.Fatalf("households %v returned with error %v", got, err)
			}
			if len(ie.Lines) == 0 {
				t.Fatal("an *ImportError without problems")
			}
			last := 0
			for _, e := range ie.Lines {
				if e.Line < 1 || e.Line < last {
					t.Fatalf("problem at line %d (after line %d): %v", e.Line, last, err)
				}
				last = e.Line
				if e.Message == "" || !utf8.ValidString(e.Message) {
					t.Fatalf("message %q", e.Message)
				}
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("no households and no error")
		}
		if limit := maxRows; limit > 0 && len(got) > limit {
			t.Fatalf("%d households, limit %d", len(got), limit)
		}
		ids := map[string]bool{}
		last := 1
		for _, h := range got {
			if !strings.HasPrefix(h.Phone, "+") || strings.Trim(h.Phone[1:], "0123456789") != "" || len(h.Phone) < 9 {
				t.Fatalf("phone %q", h.Phone)
			}
			if !locales.Valid(h.Language) {
				t.Fatalf("language %q", h.Language)
			}
			if h.HouseholdID == "" || ids[h.HouseholdID] || utf8.RuneCountInString(h.HouseholdID) > 64 ||
				strings.IndexFunc(h.HouseholdID, unicode.IsControl) >= 0 {
				t.Fatalf("household ID %q", h.HouseholdID)
			}
			ids[h.HouseholdID] = true
			if utf8.RuneCountInString(h.Name) > 200 || strings.IndexFunc(h.Name, unicode.IsControl) >= 0 ||
				h.Name != strings.TrimSpace(h.Name) {
				t.Fatalf("name %q", h.Name)
			}
			if h.Line <= last {
				t.Fatalf("household on line %d after line %d", h.Line, last)
			}
			last = h.Line
		}
	})
}
