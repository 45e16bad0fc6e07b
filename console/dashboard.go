package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sawt/sawt/store"
)

// Sizes of the dashboard's charts, in SVG units (pixels).
const (
	barWidth    = 240 // the longest horizontal bar
	barHeight   = 14
	weekChartW  = 480
	weekChartH  = 160
	weekLabelsH = 18 // under the bars: the week's first day
	weekCountsH = 16 // over the bars: the count
)

// dashBar is one row of a horizontal bar chart: its label, the bar and the number.
type dashBar struct {
	Label string
	N     int
	// X and W place the bar in an SVG barWidth wide: from the start of the line, which is
	// the right in a language written right to left.
	X, W int
}

// dashChart is a horizontal bar chart, shown as a table (label | bar | number) so that it
// follows the page's direction.
type dashChart struct {
	Title string
	Bars  []dashBar
}

// weekBar is one week of the weekly chart: a vertical bar with its count over it and its
// first day under it.
type weekBar struct {
	X, Y, W, H     int
	TextX, CountY  int
	N              int
	Label, Tooltip string
}

// dashData is the dashboard page.
type dashData struct {
	Open, Overdue, LastWeek             string
	MedianAck, MedianResolve            string
	Satisfied, Unsatisfied, NotAnswered string
	Charts                              []dashChart
	Weeks                               []weekBar
	WeekW, WeekH, WeekBaseY, WeekLabelY int
	BarW, BarH                          int
}

// dashboard shows aggregate figures of the cases (never one case): counts, medians,
// satisfaction and volumes, with charts drawn on the server as inline SVG. SEA cases are not
// counted.
func (w *Web) dashboard(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	st, err := store.CaseDashboard(r.Context(), w.Pool, w.now(), loc)
	if err != nil {
		w.serverError(rw, r, "read the dashboard", err)
		return
	}
	rightToLeft := rtl[lang]
	hours := func(h *float64) string {
		if h == nil {
			return text(lang, "dash_no_data")
		}
		return text(lang, "dash_hours", strconv.FormatFloat(*h, 'f', 1, 64))
	}
	d := &dashData{
		Open: strconv.Itoa(st.Open), Overdue: strconv.Itoa(st.Overdue), LastWeek: strconv.Itoa(st.LastWeek),
		MedianAck: hours(st.MedianAckHours), MedianResolve: hours(st.MedianResolveHours),
		Satisfied: strconv.Itoa(st.Satisfied), Unsatisfied: strconv.Itoa(st.Unsatisfied), NotAnswered: strconv.Itoa(st.NotAnswered),
		BarW: barWidth, BarH: barHeight,
	}
	for _, c := range []struct {
		title, prefix string
		counts        []store.CodeCount
	}{
		{"dash_by_category", "category.", st.ByCategory}, {"dash_by_channel", "channel.", st.ByChannel},
		{"dash_by_language", "lang.", st.ByLanguage}, {"dash_by_governorate", "governorate.", st.ByGovernorate},
	} {
		d.Charts = append(d.Charts, dashChart{Title: text(lang, c.title), Bars: hBars(lang, c.prefix, c.counts, rightToLeft)})
	}
	d.Weeks, d.WeekW, d.WeekH, d.WeekBaseY, d.WeekLabelY = weekBars(st.ByWeek, rightToLeft)
	w.render(rw, r, http.StatusOK, "dashboard", &page{Lang: lang, Title: text(lang, "dashboard_title"), User: &s.user, Data: d})
}

// hBars are the bars of counts, each as long as its count against the largest.
func hBars(lang, prefix string, counts []store.CodeCount, rightToLeft bool) []dashBar {
	most := 0
	for _, c := range counts {
		most = max(most, c.N)
	}
	var bars []dashBar
	for _, c := range counts {
		label := text(lang, "dash_not_known")
		if c.Code != "" {
			label = valueText(lang, prefix, c.Code)
		}
		b := dashBar{Label: label, N: c.N, W: scaled(c.N, most, barWidth)}
		if rightToLeft {
			b.X = barWidth - b.W
		}
		bars = append(bars, b)
	}
	return bars
}

// scaled is n of most as a length of full, at least 1 when n is not 0.
func scaled(n, most, full int) int {
	if n <= 0 || most <= 0 {
		return 0
	}
	return max(1, (n*full+most/2)/most)
}

// weekBars lays out the weekly chart: the oldest week at the start of the line (the right
// in a language written right to left). It answers the bars, the chart's size, the line
// the bars stand on and the line of their labels.
func weekBars(weeks []store.WeekCount, rightToLeft bool) (bars []weekBar, width, height, baseY, labelY int) {
	most := 0
	for _, wk := range weeks {
		most = max(most, wk.N)
	}
	width, height = weekChartW, weekCountsH+weekChartH+weekLabelsH
	baseY = weekCountsH + weekChartH
	labelY = height - 4
	if len(weeks) == 0 {
		return nil, width, height, baseY, labelY
	}
	slot := width / len(weeks)
	for i, wk := range weeks {
		pos := i
		if rightToLeft {
			pos = len(weeks) - 1 - i
		}
		h := scaled(wk.N, most, weekChartH)
		b := weekBar{X: pos*slot + slot/8, W: slot - slot/4, Y: baseY - h, H: h, N: wk.N,
			Label: wk.Start.Format("01-02"), Tooltip: wk.Start.Format("2006-01-02")}
		b.TextX = b.X + b.W/2
		b.CountY = b.Y - 3
		bars = append(bars, b)
	}
	return bars, width, height, baseY, labelY
}
