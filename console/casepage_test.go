package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/cases"
	"github.com/sawt/sawt/channels/twilio"
	"github.com/sawt/sawt/console"
	"github.com/sawt/sawt/gateway"
	"github.com/sawt/sawt/gateway/gatewaytest"
	"github.com/sawt/sawt/store"
)

// caseSeed is what seedCase makes: a case of a person who wrote by SMS from a tel address.
type caseSeed struct {
	id, contact int64
	ref         cases.Reference
}

// caseSpec says how the seeded case differs from an Arabic SMS case in progress whose person
// agreed to both being contacted and having their case shared.
type caseSpec struct {
	ref                  string // the first seven digits; the check digit is added
	status, category     string
	noContact, noShare   bool
	urn                  string
	conversation, events bool
}

// seedCase stores a contact with a tel address and a case of theirs, opened two hours before
// now and due to be resolved an hour ago; with conversation, three messages around it (one
// confidential) and a recording; with events, its history as far as in progress.
func seedCase(t *testing.T, pool *pgxpool.Pool, now time.Time, s caseSpec) caseSeed {
	t.Helper()
	ctx := context.Background()
	check, _ := cases.DammDigit(s.ref)
	c := caseSeed{ref: cases.Reference(s.ref + string(check))}
	if s.status == "" {
		s.status = "in_progress"
	}
	if s.category == "" {
		s.category = cases.CategoryAssistanceRequest
	}
	if s.urn == "" {
		s.urn = "tel:+96477" + s.ref
	}
	var urnID int64
	err := pool.QueryRow(ctx, `
		WITH c AS (INSERT INTO contacts (language) VALUES ('ar') RETURNING id)
		INSERT INTO urns (urn, scheme, contact_id) SELECT $1, 'tel', id FROM c RETURNING id, contact_id`, s.urn).Scan(&urnID, &c.contact)
	if err != nil {
		t.Fatal(err)
	}
	opened := now.Add(-2 * time.Hour)
	err = pool.QueryRow(ctx, `
		INSERT INTO cases (reference, contact_id, category, priority, status, channel, language, description, governorate,
		                   site, consent_contact, consent_share, ack_due_at, refer_due_at, resolve_due_at, created_at, updated_at)
		VALUES ($1, $2, $3, 'normal', $4, 'sms', 'ar', 'الحنفية في المخيم مكسورة منذ أسبوع', 'ninewa', 'Hasansham U3',
		        $5, $6, $7, $7, $8, $7, $7) RETURNING id`,
		string(c.ref), c.contact, s.category, s.status, !s.noContact, !s.noShare, opened, now.Add(-time.Hour)).Scan(&c.id)
	if err != nil {
		t.Fatal(err)
	}
	if s.events {
		if _, err := pool.Exec(ctx, `
			INSERT INTO case_events (case_id, kind, from_status, to_status, actor, created_at) VALUES
			($1, 'created', NULL, 'new', 'system', $2),
			($1, 'status', 'new', 'acknowledged', 'amal@example.org', $2 + interval '10 minutes'),
			($1, 'status', 'acknowledged', 'in_progress', 'amal@example.org', $2 + interval '20 minutes')`, c.id, opened); err != nil {
			t.Fatal(err)
		}
	}
	if s.conversation {
		if _, err := pool.Exec(ctx, `
			INSERT INTO messages (contact_id, urn_id, channel, direction, text, redacted, status, created_at, updated_at) VALUES
			($1, $2, 'sms', 'in', 'الحنفية مكسورة', false, 'received', $3, $3),
			($1, $2, 'sms', 'out', 'شكرًا لك، سجّلنا شكواك', false, 'delivered', $3 + interval '1 minute', $3),
			($1, $2, 'sms', 'in', 'the-secret-words', true, 'received', $3 + interval '2 minutes', $3)`,
			c.contact, urnID, opened.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `
			INSERT INTO recordings (provider_id, contact_id, case_id, duration_seconds, created_at)
			VALUES ($1, $2, $3, 75, $4)`, fmt.Sprint("RE", c.id), c.contact, c.id, opened); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// newCaseGateway is the gateway with the shipped flows and texts, on the console's clock.
func newCaseGateway(t *testing.T, e *consoleEnv) *gateway.Gateway {
	t.Helper()
	return gatewaytest.New(t, gateway.Config{Pool: e.pool, Now: e.clock.Now})
}

// kinds lists a case's events as kind:from>to.
func kinds(t *testing.T, pool *pgxpool.Pool, id int64) []string {
	t.Helper()
	evs, err := store.CaseEvents(context.Background(), pool, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s:%s>%s", e.Kind, e.FromValue+e.FromStatus, e.ToValue+e.ToStatus))
	}
	return out
}

func lastEvent(t *testing.T, pool *pgxpool.Pool, id int64) string {
	t.Helper()
	k := kinds(t, pool, id)
	if len(k) == 0 {
		return ""
	}
	return k[len(k)-1]
}

// The case page shows a caseworker the case whole, in their language and direction: its
// details and consents, its deadlines with the one missed marked, the conversation (times
// where the console is, a confidential message as its placeholder), its history named in
// their language, and its recording, not downloaded from the phone provider yet. The queue
// links to it.
func TestCasePage(t *testing.T) {
	e := newConsole(t)
	e.web.Location = time.FixedZone("+03", 3*60*60)
	now := e.clock.Now()
	c := seedCase(t, e.pool, now, caseSpec{ref: "1234567", noShare: true, conversation: true, events: true})
	ar := e.sessionOf(e.addUser("amal@example.org", console.RoleCaseworker, "ar", "a long enough password", false))
	path := fmt.Sprintf("/cases/%d", c.id)

	a := e.do(req{method: "GET", path: path, cookie: ar})
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, a.status, a.body)
	}
	checkPage(t, "ar "+path, a)
	for _, want := range []string{
		`<html lang="ar" dir="rtl">`, `<h1>الحالة رقم <bdi dir="ltr">` + c.ref.Display() + `</bdi></h1>`,
		"<dd>قيد المعالجة</dd>", "<dd>طلب مساعدة</dd>", "<dd>عادية</dd>", "<dd>رسائل SMS</dd>", "<dd>العربية</dd>", "<dd>نينوى</dd>",
		`موافق على التواصل معه</dt><dd><strong class="yes">نعم</strong>`,
		`موافق على مشاركة حالته مع منظمة شريكة</dt><dd><strong class="no">لا</strong>`,
		`<bdi dir="ltr">tel:&#43;964771234567</bdi>`, "الحنفية في المخيم مكسورة منذ أسبوع", "<dd>لا أحد</dd>",
		// deadlines: acknowledged and started in time, the answer an hour late
		`الردّ النهائي قبل</dt><dd><bdi dir="ltr">2026-11-23 11:00</bdi> <strong class="late">متأخرة</strong>`,
		`الإحالة قبل</dt><dd><bdi dir="ltr">2026-11-23 10:00</bdi></dd>`,
		// the conversation, at Baghdad's time
		`من الشخص · <bdi dir="ltr">2026-11-23 09:30</bdi>`, "الحنفية مكسورة", "شكرًا لك، سجّلنا شكواك",
		`إلى الشخص · <bdi dir="ltr">2026-11-23 09:31</bdi> · وصلت`, store.RedactedText,
		// the history
		"<td><bdi>صوت (تلقائيًا)</bdi></td><td>فُتحت الحالة</td>",
		"<td><bdi>amal@example.org</bdi></td><td>تغيّر وضع الحالة</td><td><bdi>تم الاستلام</bdi> → <bdi>قيد المعالجة</bdi></td>",
		// the recording, and why it cannot be played yet
		`<bdi dir="ltr">1:15</bdi>`, "لم يُنزَّل بعد من مزوّد الخدمة الهاتفية",
		// the forms a case in progress has, and the referral it cannot have
		`action="/cases/` + fmt.Sprint(c.id) + `/assign"`, `action="/cases/` + fmt.Sprint(c.id) + `/reply"`,
		`action="/cases/` + fmt.Sprint(c.id) + `/resolve"`, "70 حرفًا لكل جزء بالحروف العربية",
		"لم يوافق الشخص على مشاركة حالته مع منظمة شريكة",
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the Arabic case page has no %s", want)
		}
	}
	if strings.Contains(a.body, "the-secret-words") || strings.Contains(a.body, "/refer\"") {
		t.Error("the page shows a confidential message, or a referral form for a case that may not be shared")
	}
	if len(a.body) > 100_000 {
		t.Errorf("the page is %d bytes", len(a.body))
	}

	en := e.sessionOf(e.addUser("karwan@example.org", console.RoleCaseworker, "en", "a long enough password", false))
	a = e.do(req{method: "GET", path: path, cookie: en})
	checkPage(t, "en "+path, a)
	for _, want := range []string{
		`<html lang="en" dir="ltr">`, "<h1>Case <bdi dir=\"ltr\">" + c.ref.Display() + "</bdi></h1>", "<dd>In progress</dd>",
		"From the person", "To the person", "Status changed", "<bdi>Acknowledged</bdi> → <bdi>In progress</bdi>",
		"Sawt (automatic)", `<strong class="late">Overdue</strong>`, "not yet downloaded from the phone provider", "SMS: 70 characters per part in Arabic script",
	} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the English case page has no %s", want)
		}
	}

	if q := e.do(req{method: "GET", path: "/cases", cookie: ar}); !strings.Contains(q.body, `<a href="/cases/`+fmt.Sprint(c.id)+`"><bdi dir="ltr">`+c.ref.Display()+`</bdi></a>`) {
		t.Errorf("the queue does not link to the case:\n%s", q.body)
	}
}

// Each form does its work as the signed-in caseworker, leaves its event, and comes back to
// the page saying so in their language; what the rules refuse is said, and changes nothing.
func TestCasePageActions(t *testing.T) {
	e := newConsole(t)
	e.web.Cases = newCaseGateway(t, e)
	ctx := context.Background()
	now := e.clock.Now()
	c := seedCase(t, e.pool, now, caseSpec{ref: "1234567", urn: "tel:+9647701234567"})
	private := seedCase(t, e.pool, now, caseSpec{ref: "7654321", noShare: true, noContact: true})
	e.addUser("karwan@example.org", console.RoleCaseworker, "en", "a long enough password", false)
	e.addUser("admin@example.org", console.RoleAdmin, "en", "a long enough password", false)
	cw := e.sessionOf(e.addUser("amal@example.org", console.RoleCaseworker, "ar", "a long enough password", false))
	water, err := store.InsertPartner(ctx, e.pool, store.Partner{Name: "Water Agency", Sector: "WASH", CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	post := func(id int64, action string, form url.Values) answer {
		t.Helper()
		return e.do(req{method: "POST", path: fmt.Sprintf("/cases/%d/%s", id, action), form: form, cookie: cw})
	}
	// done checks a form went through: 303 back to the case with ?done=, the event, the message.
	done := func(a answer, id int64, query, event, message string) {
		t.Helper()
		loc := fmt.Sprintf("/cases/%d?%s", id, query)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != loc {
			t.Fatalf("%d to %q, want 303 to %s\n%.2000s", a.status, a.header.Get("Location"), loc, a.body)
		}
		if got := lastEvent(t, e.pool, id); got != event {
			t.Errorf("last event %s, want %s", got, event)
		}
		if page := e.do(req{method: "GET", path: loc, cookie: cw}); !strings.Contains(page.body, `<p class="ok" role="status">`+message+`</p>`) {
			t.Errorf("the page after it does not say %q", message)
		}
	}
	refused := func(a answer, status int, message string) {
		t.Helper()
		if a.status != status || !strings.Contains(a.body, `<p class="error" role="alert">`+message) {
			t.Errorf("%d, want %d saying %q\n%.3000s", a.status, status, message, a.body)
		}
	}

	// A new case is acknowledged, then taken in hand; resolving goes through its own form.
	fresh := seedCase(t, e.pool, now, caseSpec{ref: "2345678", status: "new"})
	if page := e.do(req{method: "GET", path: fmt.Sprintf("/cases/%d", fresh.id), cookie: cw}); !strings.Contains(page.body, `<option value="acknowledged">تم الاستلام</option>`) ||
		strings.Contains(page.body, `<option value="in_progress">`) {
		t.Errorf("a new case's status moves are not acknowledged alone")
	}
	done(post(fresh.id, "status", url.Values{"status": {"acknowledged"}, "note": {"called back"}}), fresh.id, "done=status", "status:new>acknowledged", "تم تغيير الحالة.")
	done(post(fresh.id, "status", url.Values{"status": {"in_progress"}}), fresh.id, "done=status", "status:acknowledged>in_progress", "تم تغيير الحالة.")
	refused(post(fresh.id, "status", url.Values{"status": {"resolved"}}), http.StatusBadRequest, "اختر إحدى الحالات المعروضة.")

	done(post(c.id, "assign", url.Values{"assignee": {"Karwan@example.org"}}), c.id, "done=assigned",
		"assigned:>karwan@example.org", "تم إسناد الحالة.")
	refused(post(c.id, "assign", url.Values{"assignee": {"admin@example.org"}}), http.StatusBadRequest, "لا يمكن إسناد الحالة إلا إلى مسؤول حالات")
	done(post(c.id, "category", url.Values{"category": {cases.CategoryMajorDissatisfaction}}), c.id, "done=category",
		"priority_changed:normal>high", "تم تغيير الفئة.")
	if k := kinds(t, e.pool, c.id); len(k) != 3 || k[1] != "category_changed:assistance_request>major_dissatisfaction" {
		t.Errorf("events %v, want the category's, and the priority's that follows it", k)
	}
	refused(post(c.id, "category", url.Values{"category": {cases.CategorySEA}}), http.StatusBadRequest, "هذه الفئة غير معروفة.")
	done(post(c.id, "priority", url.Values{"priority": {"critical"}}), c.id, "done=priority",
		"priority_changed:high>critical", "تم تغيير الأولوية.")
	refused(post(c.id, "priority", url.Values{"priority": {"urgent"}}), http.StatusBadRequest, "هذه الأولوية غير معروفة.")

	// referral: with the person's consent, to a partner; not twice to the same; not without it
	done(post(c.id, "refer", url.Values{"partner": {fmt.Sprint(water)}, "note": {"Please repair the tap.\r\nBlock C."}}), c.id,
		"done=referred", "referred:in_progress>Water Agencyreferred", "تمت إحالة الحالة.")
	if k, _ := store.CaseByID(ctx, e.pool, c.id); k.Status != "referred" || k.PartnerID == nil || *k.PartnerID != water {
		t.Errorf("after the referral: %+v", k)
	}
	refused(post(c.id, "refer", url.Values{"partner": {fmt.Sprint(water)}}), http.StatusConflict, "الحالة محالة بالفعل")
	refused(post(c.id, "refer", url.Values{"partner": {fmt.Sprint(water + 100)}}), http.StatusBadRequest, "هذه المنظمة الشريكة غير معروفة.")
	before := kinds(t, e.pool, private.id)
	refused(post(private.id, "refer", url.Values{"partner": {fmt.Sprint(water)}, "note": {"kept"}}), http.StatusConflict,
		"لم يوافق الشخص على مشاركة حالته مع منظمة شريكة، لذا لا يمكن إحالتها.")
	if after := kinds(t, e.pool, private.id); len(after) != len(before) {
		t.Errorf("a refused referral wrote %v", after)
	}

	// reply: a preview counts the parts and sends nothing; sent, it is queued and the page
	// says how many SMS parts it takes
	outbound := func() int {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE direction = 'out'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	reply := strings.Repeat("تم إصلاح الحنفية في القطاع ج. ", 3)
	n, _ := twilio.Segments(strings.TrimSpace(reply))
	a := post(c.id, "reply", url.Values{"text": {reply}, "preview": {"1"}})
	if a.status != http.StatusOK || !strings.Contains(a.body, fmt.Sprintf("عدد أجزاء الرسالة القصيرة لنصّك وحده: %d.", n)) ||
		!strings.Contains(a.body, ">"+reply+"</textarea>") || outbound() != 0 {
		i := strings.Index(a.body, "<main>")
		t.Errorf("preview: %d, %d messages queued\n%s", a.status, outbound(), a.body[i:])
	}
	refused(post(c.id, "reply", url.Values{"text": {"  \r\n "}}), http.StatusBadRequest, "النص فارغ")
	a = post(c.id, "reply", url.Values{"text": {reply}})
	var text, channel, status, urn string
	if err := e.pool.QueryRow(ctx, `
		SELECT m.text, m.channel, m.status, u.urn FROM messages m JOIN urns u ON u.id = m.urn_id
		WHERE m.direction = 'out' ORDER BY m.id DESC LIMIT 1`).Scan(&text, &channel, &status, &urn); err != nil {
		t.Fatalf("no message queued: %v (%d)\n%.2000s", err, a.status, a.body)
	}
	if !strings.Contains(text, strings.TrimSpace(reply)) || channel != "sms" || status != "queued" || urn != "tel:+9647701234567" {
		t.Errorf("queued %q on %s (%s) to %s", text, channel, status, urn)
	}
	parts, _ := twilio.Segments(text)
	done(a, c.id, fmt.Sprintf("done=replied&parts=%d", parts), "replied:>", fmt.Sprintf("رسالتك بانتظار الإرسال. عدد أجزاء الرسالة القصيرة: %d.", parts))
	if parts <= n {
		t.Errorf("%d parts sent for a text of %d: the case number is added", parts, n)
	}
	refused(post(private.id, "reply", url.Values{"text": {"hello"}}), http.StatusConflict, "لم يوافق الشخص على التواصل معه")

	// resolve: the case is resolved, and the person, who agreed to be contacted, is sent the
	// answer and asked whether they are satisfied
	sent := outbound()
	done(post(c.id, "resolve", url.Values{"resolution": {"أُصلحت الحنفية يوم الأحد."}}), c.id, "done=resolved&told=1",
		"resolved:referred>resolved", "تم تسجيل الردّ، وسيُرسَل إلى الشخص مع سؤاله إن كان راضيًا عنه.")
	if k, _ := store.CaseByID(ctx, e.pool, c.id); k.Status != "resolved" || k.Resolution != "أُصلحت الحنفية يوم الأحد." {
		t.Errorf("after resolving: %+v", k)
	}
	if err := e.pool.QueryRow(ctx, `SELECT text FROM messages WHERE direction = 'out' ORDER BY id DESC LIMIT 1`).Scan(&text); err != nil ||
		outbound() != sent+1 || !strings.Contains(text, "أُصلحت الحنفية يوم الأحد.") || !strings.Contains(text, "هل تعاملنا مع شكواك بطريقة ترضيك؟") {
		t.Errorf("the answer and the question were not queued: %q %v", text, err)
	}
	page := e.do(req{method: "GET", path: fmt.Sprintf("/cases/%d", c.id), cookie: cw})
	if !strings.Contains(page.body, "أُصلحت الحنفية يوم الأحد.") || !strings.Contains(page.body, "<dd>لم يُجب بعد</dd>") {
		t.Error("the page does not show the answer, and that the person has not said yet whether satisfied")
	}
	refused(post(c.id, "resolve", url.Values{"resolution": {"again"}}), http.StatusConflict, "لا يمكن القيام بذلك الآن، فوضع الحالة: «تمت الإجابة».")

	// a closed case can no longer be changed
	if _, err := e.pool.Exec(ctx, `UPDATE cases SET status = 'closed', closed_at = $2 WHERE id = $1`, private.id, now); err != nil {
		t.Fatal(err)
	}
	refused(post(private.id, "priority", url.Values{"priority": {"low"}}), http.StatusConflict, "هذه الحالة مغلقة ولا يمكن تعديلها.")

	// without the gateway, nothing can be written to a person
	e.web.Cases = nil
	refused(post(c.id, "reply", url.Values{"text": {"hello"}}), http.StatusServiceUnavailable, "لا يمكن إرسال الرسائل من لوحة الموظفين حاليًا.")
}

// Only caseworkers open a case or post its forms; a form from another site is refused before
// anything happens; a case that does not exist, or is a PSEA matter, is not found.
func TestCasePageRefusals(t *testing.T) {
	e := newConsole(t)
	now := e.clock.Now()
	c := seedCase(t, e.pool, now, caseSpec{ref: "1234567"})
	sea := seedCase(t, e.pool, now, caseSpec{ref: "2345678", category: cases.CategorySEA})
	cw := e.sessionOf(e.addUser("amal@example.org", console.RoleCaseworker, "ar", "a long enough password", false))

	a := e.do(req{method: "POST", path: fmt.Sprintf("/cases/%d/priority", c.id), form: url.Values{"priority": {"critical"}}, cookie: cw,
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if k, _ := store.CaseByID(context.Background(), e.pool, c.id); a.status != http.StatusForbidden || k.Priority != "normal" {
		t.Errorf("cross-site form: %d, priority %s; want 403 and nothing changed", a.status, k.Priority)
	}

	for _, role := range []string{console.RoleAdmin, console.RoleCWC, console.RolePSEA, console.RoleViewer} {
		other := e.sessionOf(e.addUser(role+"@example.org", role, "en", "a long enough password", false))
		for _, r := range []req{
			{method: "GET", path: fmt.Sprintf("/cases/%d", c.id)},
			{method: "POST", path: fmt.Sprintf("/cases/%d/assign", c.id), form: url.Values{"assignee": {"amal@example.org"}}},
		} {
			r.cookie = other
			if a := e.do(r); a.status != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, role, a.status)
			}
		}
	}
	if k, _ := store.CaseByID(context.Background(), e.pool, c.id); k.Assignee != "" {
		t.Errorf("assigned to %q by a role that may not", k.Assignee)
	}

	for _, path := range []string{"/cases/999999", "/cases/abc", "/cases/-1", fmt.Sprintf("/cases/%d", sea.id)} {
		a := e.do(req{method: "GET", path: path, cookie: cw})
		if a.status != http.StatusNotFound || !strings.Contains(a.body, "لا توجد حالة بهذا الرقم.") || !strings.Contains(a.body, `dir="rtl"`) {
			t.Errorf("GET %s: %d, want 404 in Arabic\n%.1000s", path, a.status, a.body)
		}
	}
	if a := e.do(req{method: "POST", path: fmt.Sprintf("/cases/%d/priority", sea.id), form: url.Values{"priority": {"low"}}, cookie: cw}); a.status != http.StatusNotFound {
		t.Errorf("a form on an SEA case: %d, want 404", a.status)
	}
}
