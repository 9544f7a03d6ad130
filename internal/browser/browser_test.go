package browser_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"platform/internal/apitest"
	"platform/internal/auth"
)

//go:embed page.html
var page []byte

// chromiumPath is Debian's chromium, or $CHROMIUM.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// browser starts one headless Chromium for the test (tabs are opened from the
// returned context) with a fresh profile and no background traffic. Without
// Chromium the test skips, except under CI=true, where .ci/run installed it
// and its absence is a failure.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath()
	if _, err := os.Stat(exe); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (%v): install it with `bash scripts/chromium.sh` (apt-get install chromium) or set CHROMIUM", exe, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	profile, err := os.MkdirTemp("", "platform-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeProfile(t, profile) })
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // containers' /dev/shm is often tiny
		chromedp.UserDataDir(profile),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first run starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// removeProfile deletes the profile directory. Chromium's helper processes
// may still write into it for a moment after the browser exits, so a failed
// removal is retried a few times before it is only logged.
func removeProfile(t *testing.T, dir string) {
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("remove chromium profile %s: %v", dir, err)
}

// pageServer serves the test page from its own origin (127.0.0.1, a port of
// its own, so another origin than the API's). /frame?src=URL is a page
// framing URL next to /plain, a frame any page may embed (the control).
func pageServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/frame":
			_, _ = fmt.Fprintf(w, `<!doctype html><iframe name="api" src="%s"></iframe><iframe name="control" src="/plain"></iframe>`,
				html.EscapeString(r.URL.Query().Get("src")))
		case "/plain":
			_, _ = w.Write([]byte("<!doctype html><p>plain</p>"))
		default:
			_, _ = w.Write(page)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// seed is a student whose group reaches a module with a lesson, so the
// student may read the module and hand in homework to the lesson.
type seed struct {
	student  apitest.User
	moduleID int32
	lessonID int32
}

func seedStudent(t *testing.T, env *apitest.Env) seed {
	t.Helper()
	teacher := env.User(t, auth.Teacher)
	s := seed{student: env.User(t, auth.Student)}
	s.moduleID = env.ID(t, `INSERT INTO modules (title, course) VALUES ('Модуль', '1') RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'Математика') RETURNING id`,
		s.moduleID, teacher.ID)
	s.lessonID = env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Урок', 'video', 'https://video') RETURNING id`, subject)
	group := env.ID(t, `INSERT INTO groups (name) VALUES ('ИС-21') RETURNING id`)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, s.student.ID, group)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, s.moduleID, group)
	return s
}

// config is what the page's start() gets.
type config struct {
	API         string `json:"api"`
	Credentials bool   `json:"credentials"`
	Probe       bool   `json:"probe"`
	IIN         string `json:"iin"`
	Password    string `json:"password"`
	ModuleID    int32  `json:"moduleID"`
	LessonID    int32  `json:"lessonID"`
	Content     string `json:"content"`
}

func newConfig(env *apitest.Env, s seed, credentials bool) config {
	return config{API: env.Server.URL, Credentials: credentials, IIN: s.student.IIN, Password: s.student.Password,
		ModuleID: s.moduleID, LessonID: s.lessonID, Content: "homework from the browser"}
}

// report is what the page leaves in window.report.
type report struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	Steps []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Status int    `json:"status"`
		Error  string `json:"error"`
	} `json:"steps"`
	FilePath string `json:"filePath"`
	Download struct {
		Status      int    `json:"status"`
		Body        string `json:"body"`
		Disposition string `json:"disposition"`
	} `json:"download"`
	// probe mode
	Simple      outcome `json:"simple"`
	Preflighted outcome `json:"preflighted"`
}

type outcome struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}

// run opens the page at pageURL in a new tab, starts it with cfg and waits
// for its report.
func run(t *testing.T, browserCtx context.Context, pageURL string, cfg config) report {
	t.Helper()
	ctx, cancel := context.WithTimeout(browserCtx, 20*time.Second)
	defer cancel()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()
	arg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf("start(%s)", arg))(ctx, tg)
			return err
		}),
	); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	rep, err := chromedp.Run(ctx, chromedp.Poll[report]("window.report", chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("wait for the page's report: %v", err)
	}
	return rep
}

// checkFlow asserts the whole SPA path succeeded, down to the downloaded bytes.
func checkFlow(t *testing.T, env *apitest.Env, s seed, cfg config, rep report) {
	t.Helper()
	if !rep.OK {
		b, _ := json.MarshalIndent(rep.Steps, "", "  ")
		t.Fatalf("the page failed: %s\nsteps: %s", rep.Error, b)
	}
	var want []string
	for _, st := range rep.Steps {
		want = append(want, st.Name)
	}
	if got := strings.Join(want, ","); got != "login,check,my-modules,submit-homework,my-submissions,download" {
		t.Fatalf("steps %s", got)
	}
	if n := env.Count(t, `SELECT count(*) FROM submission_files f JOIN lesson_submissions s ON s.id = f.submission_id
		WHERE s.user_id = $1 AND s.lesson_id = $2 AND f.file_path = $3 AND s.comment = 'из браузера'`,
		s.student.ID, s.lessonID, rep.FilePath); n != 1 {
		t.Fatalf("stored submission rows for %q: %d", rep.FilePath, n)
	}
	d := rep.Download
	if d.Status != http.StatusPartialContent || d.Body != cfg.Content[:4] {
		t.Fatalf("Range download: status %d body %q, want 206 %q", d.Status, d.Body, cfg.Content[:4])
	}
	if want := fmt.Sprintf(`attachment; filename="%s"`, path.Base(rep.FilePath)); d.Disposition != want {
		t.Fatalf("Content-Disposition seen by the page %q, want %q (Access-Control-Expose-Headers)", d.Disposition, want)
	}
}

// blocked asserts the browser refused a request: fetch rejected with a
// TypeError, and the page never saw a status.
func blocked(t *testing.T, what string, o outcome) {
	t.Helper()
	if o.Status != 0 || !strings.HasPrefix(o.Error, "TypeError") {
		t.Fatalf("%s: status %d error %q, want the browser to block it (TypeError)", what, o.Status, o.Error)
	}
	t.Logf("%s: blocked by the browser: %s", what, o.Error)
}

// framing loads a page that frames apiURL and a control frame, and returns
// the browser's verdict: the frames by name after the load event, and the
// first security message the browser logged.
func framing(t *testing.T, browserCtx context.Context, pageURL, apiURL string) (map[string]*cdp.Frame, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(browserCtx, 20*time.Second)
	defer cancel()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()
	logs := chromedp.Events(ctx, cdplog.EntryAdded) // buffered from here on
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log domain: %v", err)
	}
	// Navigate returns after the load event, which waits for the frames.
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL+"/frame?src="+url.QueryEscape(apiURL))); err != nil {
		t.Fatalf("open the framing page: %v", err)
	}
	tree, err := chromedp.Call(ctx, cdppage.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatalf("frame tree: %v", err)
	}
	frames := map[string]*cdp.Frame{}
	for _, ch := range tree.FrameTree.ChildFrames {
		frames[ch.Frame.Name] = ch.Frame
	}
	if f := frames["api"]; f == nil || f.UnreachableURL == "" {
		return frames, "" // not blocked: no message to wait for
	}
	for ev, err := range logs {
		if err != nil {
			t.Fatalf("wait for the browser's security message: %v", err)
		}
		if ev.Entry.Source == cdplog.EntrySourceSecurity {
			return frames, ev.Entry.Text
		}
	}
	return frames, ""
}

// TestBrowser runs the SPA's calls in headless Chromium from a page on
// another origin: PLACE_URL listing the page's origin (credentials on), an
// origin not listed (the browser must block), and PLACE_URL empty (open
// mode, no credentials).
func TestBrowser(t *testing.T) {
	t.Parallel()
	ctx := browser(t)

	t.Run("list mode", func(t *testing.T) {
		t.Parallel()
		allowed, other := pageServer(t), pageServer(t)
		env := apitest.NewWith(t, apitest.Options{PlaceURL: allowed.URL})
		s := seedStudent(t, env)

		t.Run("listed origin", func(t *testing.T) {
			cfg := newConfig(env, s, true)
			checkFlow(t, env, s, cfg, run(t, ctx, allowed.URL, cfg))
		})
		t.Run("origin not listed", func(t *testing.T) {
			cfg := newConfig(env, s, true)
			cfg.Probe = true
			rep := run(t, ctx, other.URL, cfg)
			blocked(t, "simple GET / (no preflight)", rep.Simple)
			blocked(t, "POST /auth/login (preflighted)", rep.Preflighted)
		})
		// The security headers as the browser enforces them: X-Frame-Options
		// DENY and CSP frame-ancestors 'none' make it refuse to frame the API.
		t.Run("framing refused", func(t *testing.T) {
			api := env.Server.URL + "/"
			frames, msg := framing(t, ctx, allowed.URL, api)
			if c := frames["control"]; c == nil || c.UnreachableURL != "" || !strings.HasSuffix(c.URL, "/plain") {
				t.Fatalf("the control frame did not load: %+v", c)
			}
			f := frames["api"]
			if f == nil || f.UnreachableURL != api || !strings.HasPrefix(f.URL, "chrome-error:") {
				t.Fatalf("the API was framed, want it refused: %+v", f)
			}
			if !strings.Contains(msg, "frame-ancestors 'none'") && !strings.Contains(msg, "X-Frame-Options") {
				t.Fatalf("browser's reason %q, want frame-ancestors or X-Frame-Options", msg)
			}
			t.Logf("framing refused by the browser: %s", msg)
		})
	})

	t.Run("open mode", func(t *testing.T) {
		t.Parallel()
		pg := pageServer(t)
		env := apitest.NewWith(t, apitest.Options{PlaceURL: ""})
		s := seedStudent(t, env)

		t.Run("no credentials", func(t *testing.T) {
			cfg := newConfig(env, s, false)
			checkFlow(t, env, s, cfg, run(t, ctx, pg.URL, cfg))
		})
		// Open mode answers Access-Control-Allow-Origin: * without
		// Allow-Credentials, which browsers refuse for credentialed requests.
		t.Run("credentials refused", func(t *testing.T) {
			cfg := newConfig(env, s, true)
			cfg.Probe = true
			rep := run(t, ctx, pg.URL, cfg)
			blocked(t, "credentialed GET /", rep.Simple)
			blocked(t, "credentialed POST /auth/login", rep.Preflighted)
		})
	})
}
