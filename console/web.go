package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sawt/sawt/outreach"
	"github.com/sawt/sawt/store"
)

// Web is the console's HTML side: sign-in, sessions and the pages staff use, on the admin
// listener next to the JSON API. Every page is a Route of Routes; Register is the one place
// that puts them on a mux, each behind the session and role check and all behind
// cross-origin protection.
type Web struct {
	Pool *pgxpool.Pool
	// Now is the clock of sessions and throttling. Defaults to time.Now.
	Now func() time.Time
	// Logger gets sign-ins, throttling and database failures. Defaults to discarding them.
	Logger *slog.Logger
	// Idle ends a session not used for this long. Defaults to DefaultIdle.
	Idle time.Duration
	// MaxAge ends a session this long after sign-in, however busy. Defaults to DefaultMaxAge.
	MaxAge time.Duration
	// Secure marks the session cookie Secure (sent by browsers over HTTPS only), except on a
	// request made over plain HTTP from this machine to a loopback name, such as a browser
	// at http://localhost:8081 through an SSH tunnel: see secureCookie. serve sets it.
	Secure bool
	// Location is where times on pages are shown (SAWT_TIMEZONE). Defaults to UTC.
	Location *time.Location
	// Cases writes to people about their cases (the gateway): the case page's reply and
	// resolve forms need it, and answer 503 without it.
	Cases CaseActions
	// Outreach creates and moves campaigns and distributions: the campaign and distribution
	// pages need it, and answer 503 without it.
	Outreach *outreach.Service
	// Simulator receives the simulator page's messages as the live flows do (the gateway):
	// the page answers 503 without it.
	Simulator Simulator
}

// Defaults of Web.
const (
	DefaultIdle   = 30 * time.Minute
	DefaultMaxAge = 12 * time.Hour
)

// Route is one console page or form: a method and a ServeMux pattern, who may use it, and
// its handler. Register puts it behind the session and role check.
type Route struct {
	Method  string // GET or POST (a GET route answers HEAD too)
	Pattern string // a ServeMux pattern without method, e.g. /cases/{ref}
	// Roles may use the route, each listed: no role implies another (admin does not get the
	// psea pages). Empty only for a Public route.
	Roles []string
	// Public routes need no session: signing in and out.
	Public bool
	// BeforePasswordChange opens the route to a user who still has a one-time password; every
	// other route sends them to /account to choose their own first.
	BeforePasswordChange bool
	// Nav is the key of the link's text on the start page (in texts), for a GET page worth a
	// link there; the link is shown only to the route's roles. Empty: no link.
	Nav string
	// Handler serves the route. Behind the check, StaffFrom gives the signed-in user.
	Handler http.HandlerFunc
}

// Routes is the console's route table: every page and form, and the roles that may use each.
// A new page is a new entry here (with Nav for a link on the start page), and a line in
// TestRouteRoleMatrix's expectations.
func (w *Web) Routes() []Route {
	routes := w.baseRoutes()
	routes = append(routes, w.outreachPages()...)
	routes = append(routes, w.seaPages()...)
	routes = append(routes, w.toolPages()...)
	return routes
}

// baseRoutes are signing in, the account, the cases and the dashboard.
func (w *Web) baseRoutes() []Route {
	everyone := Roles()
	return []Route{
		{Method: http.MethodGet, Pattern: "/login", Public: true, Handler: w.loginPage},
		{Method: http.MethodPost, Pattern: "/login", Public: true, Handler: w.login},
		{Method: http.MethodPost, Pattern: "/logout", Public: true, Handler: w.logout},
		{Method: http.MethodGet, Pattern: "/{$}", Roles: everyone, Handler: w.home},
		{Method: http.MethodGet, Pattern: "/account", Roles: everyone, BeforePasswordChange: true, Nav: "nav_account", Handler: w.account},
		{Method: http.MethodPost, Pattern: "/account", Roles: everyone, BeforePasswordChange: true, Handler: w.changePassword},
		{Method: http.MethodPost, Pattern: "/account/language", Roles: everyone, BeforePasswordChange: true, Handler: w.changeLanguage},
		{Method: http.MethodGet, Pattern: "/cases", Roles: []string{RoleCaseworker}, Nav: "nav_cases", Handler: w.caseQueue},
		{Method: http.MethodGet, Pattern: "/dashboard", Roles: []string{RoleViewer, RoleAdmin, RoleCaseworker, RoleCWC}, Nav: "nav_dashboard", Handler: w.dashboard},
		{Method: http.MethodGet, Pattern: "/cases/{id}", Roles: []string{RoleCaseworker}, Handler: w.casePage},
		{Method: http.MethodPost, Pattern: "/cases/{id}/assign", Roles: []string{RoleCaseworker}, Handler: w.caseAssign},
		{Method: http.MethodPost, Pattern: "/cases/{id}/category", Roles: []string{RoleCaseworker}, Handler: w.caseCategory},
		{Method: http.MethodPost, Pattern: "/cases/{id}/priority", Roles: []string{RoleCaseworker}, Handler: w.casePriority},
		{Method: http.MethodPost, Pattern: "/cases/{id}/status", Roles: []string{RoleCaseworker}, Handler: w.caseStatus},
		{Method: http.MethodPost, Pattern: "/cases/{id}/refer", Roles: []string{RoleCaseworker}, Handler: w.caseRefer},
		{Method: http.MethodPost, Pattern: "/cases/{id}/reply", Roles: []string{RoleCaseworker}, Handler: w.caseReply},
		{Method: http.MethodPost, Pattern: "/cases/{id}/resolve", Roles: []string{RoleCaseworker}, Handler: w.caseResolve},
	}
}

// Mount puts the console's routes on mux (the admin listener's).
func (w *Web) Mount(mux *http.ServeMux) { w.Register(mux, w.Routes()) }

// Handler is the whole console on a mux of its own.
func (w *Web) Handler() http.Handler {
	mux := http.NewServeMux()
	w.Mount(mux)
	return mux
}

// Register puts routes on mux, each as "METHOD PATTERN", its handler behind guard (the
// session and role check) and one http.CrossOriginProtection (a state-changing request a
// browser sent from another site is refused with 403 before anything else). That is the
// protection of wrapping the whole console, done route by route so that the console can share
// the admin listener's mux with the API, whose bearer tokens need none. It panics on a route
// that is neither public nor has roles, names an unknown role, or has a link (Nav) it cannot
// be: a mistake in the table, not in a request.
func (w *Web) Register(mux *http.ServeMux, routes []Route) {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(w.crossSite))
	for _, rt := range routes {
		if rt.Method != http.MethodGet && rt.Method != http.MethodPost {
			panic(fmt.Sprintf("console: route %s %s: method must be GET or POST", rt.Method, rt.Pattern))
		}
		if rt.Handler == nil || !strings.HasPrefix(rt.Pattern, "/") {
			panic(fmt.Sprintf("console: route %s %s needs a handler and a pattern starting with /", rt.Method, rt.Pattern))
		}
		if rt.Public == (len(rt.Roles) > 0) {
			panic(fmt.Sprintf("console: route %s %s must be either public or have roles", rt.Method, rt.Pattern))
		}
		if rt.Nav != "" && (rt.Method != http.MethodGet || strings.Contains(rt.Pattern, "{")) {
			panic(fmt.Sprintf("console: route %s %s: only a GET page without wildcards can have a link (Nav)", rt.Method, rt.Pattern))
		}
		for _, role := range rt.Roles {
			if !ValidRole(role) {
				panic(fmt.Sprintf("console: route %s %s: unknown role %q", rt.Method, rt.Pattern, role))
			}
		}
		mux.Handle(rt.Method+" "+rt.Pattern, cop.Handler(w.guard(rt)))
	}
}

// guard wraps a route's handler with the session check. A public route is served to anyone
// (with the user in the context when there is a session). Otherwise: no valid session → 303
// to /login (with next= the page, for a GET); a user whose role the route does not list →
// 403; a user with a one-time password → 303 to /account, unless the route is open to them.
func (w *Web) guard(rt Route) http.Handler {
	roles := slices.Clone(rt.Roles)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		securityHeaders(rw.Header())
		s, hadCookie, err := w.session(r)
		if err != nil {
			w.serverError(rw, r, "read the session", err)
			return
		}
		if s != nil {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, *s))
		} else if hadCookie && !rt.Public {
			// ended or unknown: the browser may forget it (a public route sets or clears it itself)
			w.clearSessionCookie(rw, r)
		}
		switch {
		case rt.Public:
		case s == nil:
			target := "/login"
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(rw, r, target, http.StatusSeeOther)
			return
		case !slices.Contains(roles, s.user.Role):
			lang := s.user.Language
			w.render(rw, r, http.StatusForbidden, "message", &page{Lang: lang, Title: text(lang, "forbidden_title"),
				Error: text(lang, "forbidden", roleName(lang, s.user.Role))})
			return
		case s.user.OneTimePassword() && !rt.BeforePasswordChange:
			http.Redirect(rw, r, "/account", http.StatusSeeOther)
			return
		}
		rt.Handler(rw, r)
	})
}

// securityHeaders are on every console answer: not cached (pages show personal data), not
// framed, no script, nothing loaded from elsewhere, styles only the inline one.
func securityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentSecurityPolicy())
}

// moreCSS are the rules of an area's pages, each added by its file's init after css.
var moreCSS []string

// pageStyle is every page's inline style: css and the areas' rules. It is made on first use,
// after every init has added its rules, and never changes after.
var pageStyle = sync.OnceValue(func() string { return css + strings.Join(moreCSS, "") })

// css is the only styling: inline, small, and using logical properties so that the same
// rules lay out Arabic and Sorani right to left.
const css = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f4}
header{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center;justify-content:space-between;padding:.6em 1em;background:#17456b;color:#fff}
header a{color:#fff;font-weight:600;text-decoration:none}
main{max-width:40em;margin:1.5em auto;padding:0 1em}
h1{font-size:1.5em;margin:.2em 0 .8em}h2{font-size:1.15em;margin-top:1.6em}
label{display:block;margin:.8em 0}
input{display:block;box-sizing:border-box;width:100%;max-width:24em;padding:.45em;margin-top:.25em;font:inherit;border:1px solid #888;border-radius:3px}
button{font:inherit;padding:.4em 1.1em;border:1px solid #17456b;border-radius:3px;background:#17456b;color:#fff;cursor:pointer}
header button{background:transparent;border-color:#fff;padding:.15em .7em}
.error{color:#8a1111;background:#fdecec;padding:.5em .8em;border-inline-start:4px solid #8a1111}
.ok{color:#0c5a23;background:#e8f5ec;padding:.5em .8em;border-inline-start:4px solid #0c5a23}
.notice{background:#fff6d6;padding:.5em .8em;border-inline-start:4px solid #b38600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em}dt{font-weight:600}dd{margin:0}
.nav li{margin:.3em 0}.langs a{margin-inline-end:1em}.who{margin-inline-end:.5em}
main:has(table){max-width:none}
.filters{display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:end}.filters label{margin:0}
select{display:block;padding:.4em;margin-top:.25em;font:inherit;max-width:14em}.check input{display:inline;width:auto}
table{border-collapse:collapse;width:100%;margin-top:1em;background:#fff}th,td{padding:.35em .5em;border-bottom:1px solid #ddd;text-align:start;vertical-align:top}
tr.p-critical td:first-child{border-inline-start:5px solid #8a1111}tr.p-high td:first-child{border-inline-start:5px solid #c46a00}
tr.overdue{background:#fdecec}.pages a{margin-inline-end:1.5em}
textarea{display:block;box-sizing:border-box;width:100%;max-width:40em;padding:.45em;margin-top:.25em;font:inherit;border:1px solid #888;border-radius:3px}
.conv{list-style:none;padding:0;max-width:46em}.conv li{margin:.5em 0;padding:.4em .7em;background:#fff;border:1px solid #ddd;border-radius:4px}
.conv li.out{margin-inline-start:3em;background:#eaf1f8}.conv li.redacted .text{font-style:italic;color:#555}
.text{white-space:pre-wrap;margin:.2em 0}.meta,.hint{font-size:.9em;color:#555}.late,.no{color:#8a1111}.yes{color:#0c5a23}
.actions form{margin:.8em 0;padding:.2em 1em .8em;background:#fff;border:1px solid #ddd;max-width:40em}
table.bars{width:auto;min-width:24em}.bars th{font-weight:normal;white-space:nowrap}.bars td{vertical-align:middle}.bars svg,.weeks{display:block}
.num{font-variant-numeric:tabular-nums;text-align:end}.weeks{max-width:100%;height:auto;background:#fff;font-size:11px}.weeks .wk{fill:#555}
`

// contentSecurityPolicy allows the inline style (pageStyle) by its hash, and nothing else.
var contentSecurityPolicy = sync.OnceValue(func() string {
	sum := sha256.Sum256([]byte(pageStyle()))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
})

//go:embed templates/*.html
var templateFiles embed.FS

// pages are the templates by name, each the layout with its content.
var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"login", "home", "account", "message", "cases", "case", "dashboard"} {
		m[name] = template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// page is what a template shows.
type page struct {
	Lang, Dir string
	T         map[string]string
	CSS       template.CSS
	Title     string
	User      *store.StaffUser
	RoleName  string
	// LanguageName is the user's language, named in itself.
	LanguageName string
	Nav          []link
	Langs        []link
	// Notice, Message and Error are said at the top of the page: a note, a success, a failure.
	Notice, Message, Error string
	// Email and Next fill the sign-in form again.
	Email, Next string
	// Data is what the page's own template shows.
	Data any
}

type link struct{ Href, Text, Code, Name string }

// render answers with the page's template: status, security headers, and the page in its
// language (en when none). A template that fails is a 500, logged.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if !ValidLanguage(p.Lang) {
		p.Lang = "en"
	}
	p.Dir = "ltr"
	if rtl[p.Lang] {
		p.Dir = "rtl"
	}
	p.T = texts[p.Lang]
	p.CSS = template.CSS(pageStyle())
	if p.User != nil {
		p.RoleName = roleName(p.Lang, p.User.Role)
		p.LanguageName = languageNames[p.User.Language]
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		w.log().Error("console: render a page", "page", name, "error", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	securityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
}

// serverError answers 503 with the error page, and logs what failed.
func (w *Web) serverError(rw http.ResponseWriter, r *http.Request, what string, err error) {
	w.log().Error("console: "+what, "error", err)
	lang := w.language(r)
	w.render(rw, r, http.StatusServiceUnavailable, "message", &page{Lang: lang, Title: text(lang, "error_title"), Error: text(lang, "error")})
}

// crossSite answers a state-changing request a browser sent from another site.
func (w *Web) crossSite(rw http.ResponseWriter, r *http.Request) {
	w.log().Warn("console: cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	lang := w.language(r)
	w.render(rw, r, http.StatusForbidden, "message", &page{Lang: lang, Title: text(lang, "forbidden_title"), Error: text(lang, "cross_site")})
}

// language is the language of a page for r: the signed-in user's (when the guard found one),
// else ?lang= (or the form's lang), else the browser's Accept-Language, else en.
func (w *Web) language(r *http.Request) string {
	if s, ok := sessionFrom(r.Context()); ok {
		return s.user.Language
	}
	if l := r.URL.Query().Get("lang"); ValidLanguage(l) {
		return l
	}
	if r.PostForm != nil {
		if l := r.PostForm.Get("lang"); ValidLanguage(l) {
			return l
		}
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

func (w *Web) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Web) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (w *Web) idle() time.Duration {
	if w.Idle > 0 {
		return w.Idle
	}
	return DefaultIdle
}

func (w *Web) maxAge() time.Duration {
	if w.MaxAge > 0 {
		return w.MaxAge
	}
	return DefaultMaxAge
}

// home is the start page: who you are, your role, and the pages your role may open.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) {
	s, _ := sessionFrom(r.Context())
	lang := s.user.Language
	p := &page{Lang: lang, Title: text(lang, "home_title"), User: &s.user}
	for _, rt := range w.Routes() {
		if rt.Nav != "" && rt.Method == http.MethodGet && slices.Contains(rt.Roles, s.user.Role) {
			p.Nav = append(p.Nav, link{Href: rt.Pattern, Text: text(lang, rt.Nav)})
		}
	}
	w.render(rw, r, http.StatusOK, "home", p)
}
